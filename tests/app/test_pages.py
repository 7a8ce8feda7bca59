"""Every page renders for its role; what each role may see and do."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import AuditEvent, CoupleSession
from tests.app.conftest import login, texts
from tests.conftest import Clinic

ROLE_PAGES = {
    "cara.couns": ["pages/caseload.py", "pages/couple.py", "pages/log_session.py"],
    "sam.super": ["pages/caseload.py", "pages/couple.py", "pages/log_session.py"],
    "admin": [
        "pages/caseload.py",
        "pages/couple.py",
        "pages/log_session.py",
        "pages/exports.py",
        "pages/admin.py",
    ],
}
TITLES = {
    ("cara.couns", "pages/caseload.py"): "My caseload",
    ("sam.super", "pages/caseload.py"): "Caseload review",
    ("admin", "pages/caseload.py"): "Caseload review",
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
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")


def test_couple_page_shows_intake_and_sessions(app, clinic: Clinic) -> None:
    at = login(app(), "cara.couns")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert at.title[0].value == "C-2026-0001 · Alex & Blair"
    assert "No sessions yet" in texts(at)
    assert any(b.label == "Save intake details" for b in at.button)


def test_supervisor_reads_but_cannot_edit(app, clinic: Clinic) -> None:
    at = login(app(), "sam.super")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert "Read-only" in texts(at)
    assert not any(b.label in {"Save intake details", "Change status"} for b in at.button)


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
