"""Every edit form, used as a person uses it: open it, go elsewhere, come back, save.

Streamlit drops a widget's value when a page that does not draw it runs; these tests
make that trip with `switch_page` and check the form shows the stored record (or what
was typed), and that a save after the round trip changes nothing it should not.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions
from dashboard.ui.session_form import RATINGS, SAFETY, STAGE
from db.models import Couple, CoupleAmendment, CoupleSession, SessionDraft
from tests.app.conftest import login, open_section, texts
from tests.conftest import Clinic


def _go(at: AppTest, page: str, tab: str | None = None, **params: int) -> AppTest:
    """Open `page`; on the couple page, then click the tab `tab` (only the tab in view is
    drawn, and coming back to the page shows the first tab, as in a browser)."""
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = str(value)
    at.run()
    return _tab(at, tab) if tab else at


def _tab(at: AppTest, label: str) -> AppTest:
    """Click a tab of the couple page."""
    at.session_state["couple_tab"] = label
    return at.run()


def _trip(at: AppTest, page: str, tab: str | None = None, **params: int) -> AppTest:
    """Away to the timeline (which draws none of the form's widgets) and back."""
    _go(at, "pages/timeline.py", couple=params.get("couple", 0) or params.get("back", 0))
    return _go(at, page, tab, **{k: v for k, v in params.items() if k != "back"})


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def _couple(db: Session, couple_id: int) -> Couple:
    db.expire_all()
    couple = db.get_one(Couple, couple_id)
    db.expunge(couple)  # keep its loaded values: no lazy reload, no new transaction
    db.rollback()  # end the read: on SQLite every transaction holds the write lock
    return couple


def _count(db: Session, model: type) -> int:
    n = db.scalar(select(func.count()).select_from(model)) or 0
    db.rollback()
    return n


def _log(db: Session, clinic: Clinic, **kw: object) -> int:
    values = dict(
        session_date=date(2026, 3, 2),
        duration_minutes=50,
        format="in_person",
        attendance="both",
        note_data="Long silences at dinner.",
        note_assessment="Stress is crowding out talk.",
        note_plan="Ten minutes a day, phones away.",
        stage=2,
        ratings={p: {i.key: 6 for i in INDICATORS} for p in "AB"},
        safety_flag=True,
        safety_note="Raised voices; no threat.",
    )
    values.update(kw)
    return sessions.log_session(
        db, clinic.counselor, clinic.couple_id, SessionInput(**values), today=date(2026, 11, 1)
    )


def test_intake_details_show_the_stored_record_after_a_trip_and_saving_changes_nothing(
    app, clinic: Clinic, db: Session
) -> None:
    at = _go(
        login(app(), "cara.couns"), "pages/couple.py", "Intake details", couple=clinic.couple_id
    )
    at = _trip(at, "pages/couple.py", "Intake details", couple=clinic.couple_id)
    assert at.text_input(key="cf_a").value == "Alex"
    assert at.date_input(key="cf_intake").value == date(2026, 1, 5)
    assert at.text_area(key="cf_concerns").value == "Drifting apart"
    assert at.text_area(key="cf_goals").value == "Talk weekly"
    at = _click(at, "Save intake details")
    assert "Nothing to save" in texts(at)
    couple = _couple(db, clinic.couple_id)
    assert (couple.presenting_concerns, couple.goals, couple.version) == (
        "Drifting apart",
        "Talk weekly",
        1,
    )
    assert _count(db, CoupleAmendment) == 0


def test_typed_intake_text_survives_a_trip_and_is_then_saved(
    app, clinic: Clinic, db: Session
) -> None:
    at = _go(
        login(app(), "cara.couns"), "pages/couple.py", "Intake details", couple=clinic.couple_id
    )
    at.text_area(key="cf_goals").input("Talk weekly; one walk together on Sundays")
    at.run()
    at = _trip(at, "pages/couple.py", "Intake details", couple=clinic.couple_id)
    assert at.text_area(key="cf_goals").value == "Talk weekly; one walk together on Sundays"
    assert "You have unsaved changes" in texts(at)
    at = _click(at, "Save intake details")
    assert "Intake details saved." in texts(at)
    assert _couple(db, clinic.couple_id).goals == "Talk weekly; one walk together on Sundays"
    # After the save the form starts again from the stored record.
    at = _trip(at, "pages/couple.py", "Intake details", couple=clinic.couple_id)
    assert at.text_area(key="cf_goals").value == "Talk weekly; one walk together on Sundays"
    assert "You have unsaved changes" not in texts(at)


def test_a_refused_intake_save_keeps_text_and_errors_across_a_trip(
    app, clinic: Clinic, db: Session
) -> None:
    at = _go(
        login(app(), "cara.couns"), "pages/couple.py", "Intake details", couple=clinic.couple_id
    )
    at.text_input(key="cf_a").input("")
    at.text_area(key="cf_concerns").input("Drifting apart; money worries since May")
    at = _click(at, "Save intake details")
    assert "Enter Partner A's display name or initials." in texts(at)
    at = _trip(at, "pages/couple.py", "Intake details", couple=clinic.couple_id)
    assert at.text_area(key="cf_concerns").value == "Drifting apart; money worries since May"
    assert "Enter Partner A's display name or initials." in texts(at)
    assert _couple(db, clinic.couple_id).presenting_concerns == "Drifting apart"


def test_emptying_saved_goals_needs_the_clear_tick(app, clinic: Clinic, db: Session) -> None:
    at = _go(
        login(app(), "cara.couns"), "pages/couple.py", "Intake details", couple=clinic.couple_id
    )
    at.text_area(key="cf_goals").input("")
    at = _click(at, "Save intake details")
    assert "This would erase the saved goals." in texts(at)
    assert _couple(db, clinic.couple_id).goals == "Talk weekly"
    at.checkbox(key="cf_clear_goals").check()
    at = _click(at, "Save intake details")
    assert "Intake details saved." in texts(at)
    assert _couple(db, clinic.couple_id).goals == ""


def test_status_form_shows_the_stored_status_after_a_trip(app, clinic: Clinic, db: Session) -> None:
    at = _go(login(app(), "cara.couns"), "pages/couple.py", "Status", couple=clinic.couple_id)
    at.radio(key="cf_status").set_value("paused")
    at.text_input(key="cf_note").input("Travelling for work")
    at = _click(at, "Save status")
    assert "Status is now paused." in texts(at)
    at = _trip(at, "pages/couple.py", "Status", couple=clinic.couple_id)
    assert at.radio(key="cf_status").value == "paused"
    assert at.text_input(key="cf_note").value == "Travelling for work"


def test_history_restores_earlier_concerns(app, clinic: Clinic, db: Session) -> None:
    at = _go(
        login(app(), "cara.couns"), "pages/couple.py", "Intake details", couple=clinic.couple_id
    )
    at.text_area(key="cf_concerns").input("Money")
    at = _click(at, "Save intake details")
    at = _tab(at, "History")
    assert "Drifting apart" in [t.value for t in at.text]  # the earlier text in History
    at = _click(at, "Restore these presenting concerns")
    assert _couple(db, clinic.couple_id).presenting_concerns == "Drifting apart"
    at = _tab(at, "Intake details")
    assert at.text_area(key="cf_concerns").value == "Drifting apart"


def test_edit_session_shows_the_stored_session_after_a_trip_and_saving_changes_nothing(
    app, clinic: Clinic, db: Session
) -> None:
    session_id = _log(db, clinic)
    at = _go(login(app(), "cara.couns"), "pages/log_session.py", session=session_id)
    at = _go(at, "pages/couple.py", couple=clinic.couple_id)
    at = _go(at, "pages/log_session.py", session=session_id)
    assert at.date_input(key="sf_date").value == date(2026, 3, 2)
    assert at.text_area(key="sf_note_data").value == "Long silences at dinner."
    assert at.text_area(key="sf_note_plan").value == "Ten minutes a day, phones away."
    assert open_section(at, SAFETY).text_area(key="sf_safety_note").value == (
        "Raised voices; no threat."
    )
    assert open_section(at, STAGE).radio(key="sf_stage").value == 2
    assert open_section(at, RATINGS).number_input(key="sf_r_B_talk_honestly").value == 6
    at = _click(at, "Save changes")
    assert "No changes to save" in texts(at)
    db.expire_all()
    row = db.get_one(CoupleSession, session_id)
    assert (row.version, row.note_data) == (1, "Long silences at dinner.")
    db.rollback()


def test_a_blanked_note_is_refused_and_the_error_names_its_section(
    app, clinic: Clinic, db: Session
) -> None:
    session_id = _log(db, clinic)
    at = _go(login(app(), "cara.couns"), "pages/log_session.py", session=session_id)
    at.text_area(key="sf_note_plan").input("")
    at = _click(at, "Save changes")
    said = texts(at)
    assert "Nothing was saved: 1 field needs attention." in said
    assert any(
        b.label.startswith("Attendance & note: This would erase the saved Plan note.")
        for b in at.button
    )
    db.expire_all()
    assert db.get_one(CoupleSession, session_id).note_plan == "Ten minutes a day, phones away."
    db.rollback()


def test_a_new_session_draft_survives_a_trip_and_a_new_browser_session(
    app, clinic: Clinic, db: Session
) -> None:
    at = _go(login(app(), "cara.couns"), "pages/log_session.py", couple=clinic.couple_id)
    at.text_area(key="sf_note_data").input("She asked him to put the phone away; he did.")
    at.run()
    at = _trip(at, "pages/log_session.py", couple=clinic.couple_id)
    assert at.text_area(key="sf_note_data").value == "She asked him to put the phone away; he did."
    assert _count(db, SessionDraft) == 1

    # The browser is closed: a new session of the app finds the draft on the server.
    other = _go(login(app(), "cara.couns"), "pages/log_session.py", couple=clinic.couple_id)
    assert other.text_area(key="sf_note_data").value == ""
    resume = next(b for b in other.button if b.label.startswith("Resume the draft from "))
    resume.click()
    other.run()
    assert (
        other.text_area(key="sf_note_data").value == "She asked him to put the phone away; he did."
    )
    # Another counselor never sees it.
    stranger = _go(login(app(), "olly.other"), "pages/log_session.py", couple=clinic.couple_id)
    assert "put the phone away" not in texts(stranger)
    assert not any(b.label.startswith("Resume the draft") for b in stranger.button)


def test_admin_add_account_keeps_typed_fields_after_a_refusal_and_a_trip(
    app, clinic: Clinic
) -> None:
    at = _go(login(app(), "admin"), "pages/admin.py")
    at.text_input(key="acct_username").input("nia.new")
    at.text_input(key="acct_name").input("Nia New")
    at.selectbox(key="acct_role").set_value("supervisor")
    at.text_input(key="acct_password").input("short")
    at = _click(at, "Add account")
    assert "The password needs at least 10 characters." in texts(at)
    at = _go(at, "pages/caseload.py")
    at = _go(at, "pages/admin.py")
    assert at.text_input(key="acct_username").value == "nia.new"
    assert at.text_input(key="acct_name").value == "Nia New"
    assert at.selectbox(key="acct_role").value == "supervisor"
    assert at.text_input(key="acct_password").value == ""  # never kept
    at.text_input(key="acct_password").input("a-long-first-password")
    at = _click(at, "Add account")
    assert "Account 'nia.new' added." in texts(at)
    assert at.text_input(key="acct_username").value == ""


def test_a_resumed_edit_draft_of_an_older_version_cannot_overwrite_a_later_save(
    app, clinic: Clinic, db: Session
) -> None:
    session_id = _log(db, clinic)
    at = _go(login(app(), "cara.couns"), "pages/log_session.py", session=session_id)
    at.text_area(key="sf_note_plan").input("Plan typed first")
    at.run()
    # Meanwhile the session is saved from another tab (which deletes the draft).
    sessions.update_session(
        db,
        clinic.counselor,
        session_id,
        SessionInput(
            **{
                **sessions.session_form(db, clinic.counselor, session_id).values.__dict__,
                "note_data": "Corrected elsewhere.",
            }
        ),
        expected_version=1,
        today=date(2026, 11, 1),
    )
    # The first tab goes on typing (its draft is based on version 1), then crashes.
    at.text_area(key="sf_note_plan").input("Plan typed in a tab that then crashed")
    at.run()
    fresh = _go(login(app(), "cara.couns"), "pages/log_session.py", session=session_id)
    assert fresh.text_area(key="sf_note_data").value == "Corrected elsewhere."
    fresh = _click(
        fresh,
        next(b.label for b in fresh.button if b.label.startswith("Resume the draft from ")),
    )
    assert fresh.text_area(key="sf_note_plan").value == "Plan typed in a tab that then crashed"
    assert "Someone saved this session after you opened it." in texts(fresh)
    fresh = _click(fresh, "Save changes")
    db.expire_all()
    row = db.get_one(CoupleSession, session_id)
    assert (row.note_data, row.note_plan, row.version) == (
        "Corrected elsewhere.",
        "Ten minutes a day, phones away.",
        2,
    )
    db.rollback()


def test_saving_intake_keeps_unsaved_status_edits_saveable(
    app, clinic: Clinic, db: Session
) -> None:
    at = _go(login(app(), "cara.couns"), "pages/couple.py", "Status", couple=clinic.couple_id)
    at.text_input(key="cf_note").input("Away for two weeks")  # typed, not saved
    at = _tab(at, "Intake details")  # the status form is not drawn now; its text is kept
    at.text_area(key="cf_goals").input("Talk weekly; walk on Sundays")
    at = _click(at, "Save intake details")
    assert "Intake details saved." in texts(at)
    at = _tab(at, "Status")
    assert at.text_input(key="cf_note").value == "Away for two weeks"
    assert "changed after you started these edits" not in texts(at)
    at.radio(key="cf_status").set_value("paused")
    at = _click(at, "Save status")
    assert "Status is now paused." in texts(at)
    couple = _couple(db, clinic.couple_id)
    assert (couple.goals, couple.status, couple.status_note) == (
        "Talk weekly; walk on Sundays",
        "paused",
        "Away for two weeks",
    )


def test_text_typed_in_a_tab_survives_looking_at_another_tab(
    app, clinic: Clinic, db: Session
) -> None:
    """Only the tab in view is drawn: typed text waits in its draft meanwhile."""
    at = _go(
        login(app(), "cara.couns"), "pages/couple.py", "Intake details", couple=clinic.couple_id
    )
    at.text_area(key="cf_goals").input("Talk weekly; phones off at dinner")  # no run yet
    at = _tab(at, "History")  # the tab click carries the typed text to the server
    assert not at.text_area  # the intake form is not drawn
    at = _tab(at, "Sessions")
    at = _tab(at, "Intake details")
    assert at.text_area(key="cf_goals").value == "Talk weekly; phones off at dinner"
    assert "You have unsaved changes" in texts(at)
    at = _click(at, "Save intake details")
    assert _couple(db, clinic.couple_id).goals == "Talk weekly; phones off at dinner"
