"""Couple page: intake and status edits refuse a stale form and keep what was typed."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.validation import CoupleInput
from dashboard.services import couples
from db.engine import begin_write
from db.models import Couple, User
from tests.app.conftest import login, shown, texts
from tests.conftest import Clinic


def _open(at: AppTest, couple_id: int, tab: str = "Sessions") -> AppTest:
    """The couple page with `tab` in view (only that tab is drawn)."""
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(couple_id)
    at.session_state["couple_tab"] = tab
    return at.run()


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def _couple(db: Session, couple_id: int) -> Couple:
    db.expire_all()
    couple = db.get(Couple, couple_id)
    db.rollback()  # end the read: on SQLite every transaction holds the write lock
    return couple


def test_intake_edit_is_saved(app, clinic: Clinic, db: Session) -> None:
    at = _open(login(app(), "cara.couns"), clinic.couple_id, "Intake details")
    at.text_area(key="cf_goals").input("Weekly check-in, one date night a month")
    at = _click(at, "Save intake details")
    assert "Intake details saved." in texts(at)
    assert _couple(db, clinic.couple_id).goals == "Weekly check-in, one date night a month"


def test_intake_save_after_a_colleagues_save_is_refused(app, clinic: Clinic, db: Session) -> None:
    at = _open(login(app(), "cara.couns"), clinic.couple_id, "Intake details")
    # Another tab saves new goals while this form is open.
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput(
            "Alex",
            "Blair",
            _couple(db, clinic.couple_id).intake_date,
            "",
            "Their goals",
            clear=frozenset({"presenting_concerns"}),
        ),
        expected_version=1,
    )
    at.text_area(key="cf_concerns").input("My new concerns")
    at = _click(at, "Save intake details")
    assert "Nothing was overwritten" in texts(at)
    assert at.text_area(key="cf_concerns").value == "My new concerns"
    saved = _couple(db, clinic.couple_id)
    assert (saved.goals, saved.presenting_concerns) == ("Their goals", "")


def test_status_change_on_a_stale_form_cannot_reopen_a_closed_case(
    app, clinic: Clinic, db: Session
) -> None:
    at = _open(login(app(), "cara.couns"), clinic.couple_id, "Status")
    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status="closed",
        closing_reason="goals_met",
        expected_version=1,
    )
    at.radio(key="cf_status").set_value("paused")
    at = _click(at, "Save status")
    assert "Nothing was overwritten" in texts(at)
    saved = _couple(db, clinic.couple_id)
    assert (saved.status, saved.closing_reason) == ("closed", "goals_met")


def test_closing_needs_a_reason_next_to_the_field(app, clinic: Clinic, db: Session) -> None:
    at = _open(login(app(), "cara.couns"), clinic.couple_id, "Status")
    at.radio(key="cf_status").set_value("closed")
    at = _click(at, "Save status")
    assert "Choose why the case is closing." in texts(at)
    assert _couple(db, clinic.couple_id).status == "active"


def test_typed_markdown_is_shown_as_text(app, clinic: Clinic, db: Session) -> None:
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput(
            "[portal](https://evil.example)",
            "**Blair**",
            _couple(db, clinic.couple_id).intake_date,
            "Drifting apart",
            "Talk weekly",
        ),
        expected_version=1,
    )
    at = _open(login(app(), "cara.couns"), clinic.couple_id)
    # The title and the header line carry the names with markdown escaped: no link,
    # no bold, just the characters the counselor typed.
    title = at.title[0].value
    assert shown(title) == "C-2026-0001 · [portal](https://evil.example) & **Blair**"
    assert re.search(r"(?<!\\)[\[\]()*:/]", title.split(" · ", 1)[1]) is None


def test_a_deactivated_counselor_cannot_save_an_open_form(app, clinic: Clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    at.switch_page("pages/log_session.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at = at.run()
    at.text_area(key="sf_note_data").input("Typed before being switched off")
    user = db.scalar(select(User).where(User.username == "cara.couns"))
    begin_write(db)
    user.active = False
    db.commit()
    at = _click(at, "Save session")
    assert "My caseload" not in texts(at)
    from db.models import CoupleSession

    assert db.scalar(select(CoupleSession.id)) is None


def test_history_tab_keeps_the_closing_reason_after_reopening(
    app, clinic: Clinic, db: Session
) -> None:
    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status="closed",
        closing_reason="goals_met",
        expected_version=1,
    )
    couples.change_status(
        db, clinic.counselor, clinic.couple_id, new_status="active", expected_version=2
    )
    at = _open(login(app(), "cara.couns"), clinic.couple_id, "History")
    history = at.dataframe[-1].value
    assert list(history["Who"]) == ["Cara Couns", "Cara Couns"]
    assert "Status: closed (Goals met) → active" in history["What changed"].iloc[0]


def test_a_closed_case_takes_no_new_session(app, clinic: Clinic, db: Session) -> None:
    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status="closed",
        closing_reason="goals_met",
        expected_version=1,
    )
    at = login(app(), "cara.couns")
    at.switch_page("pages/log_session.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert not at.exception
    assert "This case is closed: reopen it to log a session." in texts(at)
    assert not any(b.label == "Save session" for b in at.button)
