"""The session form's controls say what they are about, and what a save needs, before
anything is saved: a label is also what a screen reader announces (Streamlit gives it
to the control as its aria-label), so two controls never share one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS, Attendance
from dashboard.ui.literal import md_text
from dashboard.ui.session_form import NOTE, RATINGS, SAFETY, STAGE
from db.models import Barrier, Couple
from tests.app.conftest import login, open_section, texts
from tests.conftest import Clinic


def _open_form(at: AppTest, couple_id: int) -> AppTest:
    at.switch_page("pages/log_session.py")
    at.query_params["couple"] = str(couple_id)
    return at.run()


def test_every_control_names_what_it_is_about(app, clinic: Clinic, db: Session) -> None:
    barriers = db.scalars(select(Barrier.name).where(Barrier.active).order_by(Barrier.id)).all()
    couple = db.get(Couple, clinic.couple_id)
    assert couple is not None
    names = {"A": couple.partner_a_name, "B": couple.partner_b_name}
    db.rollback()  # end the read: on SQLite every transaction holds the write lock
    at = _open_form(login(app(), "cara.couns"), clinic.couple_id)

    open_section(at, STAGE)
    severity = [s.label for s in at.selectbox if str(s.key).startswith("sf_bar_sev_")]
    assert sorted(severity) == sorted(f"Severity of {md_text(b)}" for b in barriers)
    notes = [t.label for t in at.text_input if str(t.key).startswith("sf_bar_note_")]
    assert sorted(notes) == sorted(f"Note on {md_text(b)}" for b in barriers)

    open_section(at, RATINGS)
    ratings = [n.label for n in at.number_input if str(n.key).startswith("sf_r_")]
    assert len(ratings) == 2 * len(INDICATORS) == len(set(ratings))  # no two alike
    first = INDICATORS[0].label
    assert f"{first} · {md_text(names['A'])}" in ratings
    assert f"{first} · {md_text(names['B'])}" in ratings


def test_required_fields_are_marked_before_saving(app, clinic: Clinic) -> None:
    at = _open_form(login(app(), "cara.couns"), clinic.couple_id)
    open_section(at, NOTE)
    assert "Fields marked (required) must be filled" in texts(at)
    for key, label in (
        ("sf_note_data", "Data"),
        ("sf_note_assessment", "Assessment"),
        ("sf_note_plan", "Plan"),
    ):
        assert at.text_area(key=key).label == f"{label} (required)"
    assert at.number_input(key="sf_duration").label == "Length (minutes) (required)"
    open_section(at, STAGE)
    assert at.radio(key="sf_stage").label == "Stage of emotional intimacy (required)"

    # The safety note is required once the flag is set, and marked from then on.
    open_section(at, SAFETY)
    assert at.text_area(key="sf_safety_note").label == "Safety note"
    at.checkbox(key="sf_safety").check().run()
    assert at.text_area(key="sf_safety_note").label == "Safety note (required)"

    # A no-show needs no note, length or stage: nothing says it does.
    open_section(at, NOTE)
    at.radio(key="sf_attendance").set_value(Attendance.NO_SHOW.value).run()
    assert at.text_area(key="sf_note_assessment").label == "Assessment"
    assert at.number_input(key="sf_duration").label == "Length (minutes)"
    assert "Fields marked (required)" not in texts(at)
    open_section(at, STAGE)
    assert at.radio(key="sf_stage").label == "Stage of emotional intimacy"
