"""Every page renders for its role; what each role may see and do."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import AuditEvent, CoupleSession
from tests.app.conftest import login, shown, texts
from tests.conftest import Clinic

ROLE_PAGES = {
    "cara.couns": [
        "pages/caseload.py",
        "pages/couple.py",
        "pages/log_session.py",
        "pages/exports.py",
    ],
    "sam.super": [
        "pages/review.py",
        "pages/caseload.py",
        "pages/couple.py",
        "pages/log_session.py",
        "pages/exports.py",
    ],
    "admin": [
        "pages/review.py",
        "pages/caseload.py",
        "pages/couple.py",
        "pages/log_session.py",
        "pages/exports.py",
        "pages/admin.py",
    ],
}
TITLES = {
    ("cara.couns", "pages/caseload.py"): "My caseload",
    ("sam.super", "pages/review.py"): "Caseload review",
    ("sam.super", "pages/caseload.py"): "Couples",
    ("admin", "pages/review.py"): "Clinic overview",
    ("admin", "pages/caseload.py"): "Couples",
    ("admin", "pages/exports.py"): "Exports",
    ("admin", "pages/admin.py"): "Admin",
}


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_every_page_renders_for_its_role(app, clinic: Clinic, username: str) -> None:
    at = login(app(), username)
    for page in ROLE_PAGES[username]:
        at.switch_page(page)
        at.query_params["couple"] = str(clinic.couple_id)
        at.run()
        assert not at.exception, (page, at.exception)
        title = TITLES.get((username, page))
        if title:
            assert at.title[0].value == title
        else:
            assert at.title, page


def test_counselor_menu_has_no_admin_pages(app, clinic: Clinic) -> None:
    at = login(app(), "cara.couns")
    for page in ("pages/admin.py", "pages/review.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_couple_page_shows_intake_and_sessions(app, clinic: Clinic) -> None:
    at = login(app(), "cara.couns")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert shown(at.title[0].value) == "C-2026-0001 · Alex & Blair"
    assert "No sessions yet" in texts(at)
    at.session_state["couple_tab"] = "Intake details"  # the tab's click
    at.run()
    assert any(b.label == "Save intake details" for b in at.button)


def test_supervisor_reads_but_cannot_edit(app, clinic: Clinic) -> None:
    at = login(app(), "sam.super")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert "Read-only" in texts(at)
    for tab, words in (("Intake details", "Presenting concerns"), ("Status", "Status:")):
        at.session_state["couple_tab"] = tab
        at.run()
        assert words in texts(at)  # the tab is drawn, read-only
        assert not at.text_area and not at.radio
        assert not any(b.label in {"Save intake details", "Save status"} for b in at.button)


def test_tampered_couple_parameter_shows_no_data_and_is_audited(
    app, clinic: Clinic, db: Session
) -> None:
    at = login(app(), "cara.couns")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.other_couple_id)
    at.run()
    page = texts(at)
    assert "This couple is not in your caseload." in page
    assert "Casey" not in page and "Drew" not in page and "C-2026-0002" not in page
    assert not at.dataframe
    refused = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "view_couple", AuditEvent.success.is_(False))
    ).all()
    assert [(e.username, e.entity_id) for e in refused] == [("cara.couns", clinic.other_couple_id)]


def test_tampered_session_state_shows_no_data(app, clinic: Clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    at.session_state["couple_id"] = clinic.other_couple_id
    at.switch_page("pages/log_session.py")
    at.run()
    page = texts(at)
    assert "not in your caseload" in page
    assert "Casey" not in page and "C-2026-0002" not in page
    assert db.scalar(select(func.count()).select_from(CoupleSession)) == 0


def test_tampered_session_parameter_on_session_page(app, clinic: Clinic, db: Session) -> None:
    from datetime import date

    from dashboard.domain.validation import SessionInput
    from dashboard.services import sessions

    other_session = sessions.log_session(
        db,
        clinic.other_counselor,
        clinic.other_couple_id,
        SessionInput(date(2026, 3, 2), 50, "video", "both", "d", "a", "p", 1),
        today=date(2026, 11, 1),
    )
    at = login(app(), "cara.couns")
    at.switch_page("pages/log_session.py")
    at.query_params["session"] = str(other_session)
    at.run()
    assert "This session is not in your caseload." in texts(at)
    assert "Casey" not in texts(at)


def test_caseload_search_and_status_filter(app, clinic: Clinic, db: Session) -> None:
    from dashboard.services import couples

    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status="closed",
        closing_reason="goals_met",
        expected_version=1,
    )
    at = login(app(), "cara.couns")
    assert at.dataframe[0].value.empty  # closed couples are not in the default view
    assert "No couples match these filters." in texts(at)
    at.multiselect(key="caseload_status").set_value(["closed"]).run()
    assert list(at.dataframe[0].value["case_code"]) == ["C-2026-0001"]
    at.text_input(key="caseload_search").input("blair").run()
    assert list(at.dataframe[0].value["partners"]) == ["Alex & Blair"]
    at.text_input(key="caseload_search").input("zzz").run()
    assert at.dataframe[0].value.empty


def test_counselor_opens_a_new_couple_from_the_caseload(app, clinic: Clinic) -> None:
    at = login(app(), "cara.couns")
    assert not [t for t in at.text_input if t.label == "Partner A"]  # drawn once opened
    at.session_state["nc_box"] = True  # the expander's click
    at.run()
    _labelled(at.text_input, "Partner A").input("Rosa")
    _labelled(at.text_input, "Partner B").input("")
    next(b for b in at.button if b.label == "Open couple").click()
    at.run()
    assert "Enter Partner B's display name or initials." in texts(at)
    assert _labelled(at.text_input, "Partner A").value == "Rosa"
    # Closed and opened again (or after a trip away), it still holds what was typed.
    at.session_state["nc_box"] = False
    at.run()
    assert not [t for t in at.text_input if t.label == "Partner A"]
    at.switch_page("pages/timeline.py").run()
    at.switch_page("pages/caseload.py").run()  # opens by itself: it holds typed text
    assert _labelled(at.text_input, "Partner A").value == "Rosa"
    _labelled(at.text_input, "Partner B").input("Tomás")
    next(b for b in at.button if b.label == "Open couple").click()
    at.run()
    assert shown(at.title[0].value).endswith("Rosa & Tomás")


def test_admin_adds_an_account_that_can_log_in(app, clinic: Clinic) -> None:
    at = login(app(), "admin")
    at.switch_page("pages/admin.py")
    at.run()
    form = {t.label: t for t in at.text_input}
    form["Username"].input("Nia.New")
    form["Name"].input("Nia New")
    form["First password"].input("short")
    _labelled(at.selectbox, "Role").set_value("counselor")
    next(b for b in at.button if b.label == "Add account").click()
    at.run()
    assert "The password needs at least 10 characters." in texts(at)
    {t.label: t for t in at.text_input}["First password"].input("a-long-first-password")
    next(b for b in at.button if b.label == "Add account").click()
    at.run()
    assert "Account 'nia.new' added." in texts(at)
    assert "nia.new" in at.dataframe[0].value["Username"].tolist()
    fresh = login(app(), "nia.new", "a-long-first-password")
    assert fresh.title[0].value == "My caseload"


def _labelled(elements, label: str):  # type: ignore[no-untyped-def]
    """The first widget with this label (AppTest looks widgets up by key only)."""
    return next(e for e in elements if e.label == label)


def test_a_view_is_audited_once_per_visit_not_per_rerun(app, clinic: Clinic, db: Session) -> None:
    def views() -> int:
        count = db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "view_couple")
        )
        db.rollback()
        return count

    at = login(app(), "cara.couns")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    at.run()  # a rerun, as a click or a filter change causes
    assert views() == 1
    at.switch_page("pages/caseload.py")
    at.run()
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert views() == 2  # coming back is a new visit
