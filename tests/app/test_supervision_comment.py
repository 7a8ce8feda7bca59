"""Couple page: the counselor reads the supervisor's review; no one else's couple shows it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.validation import SessionInput
from dashboard.services import sessions, supervision
from tests.app.conftest import login, texts
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


@pytest.fixture
def reviewed(db: Session, clinic: Clinic) -> Clinic:
    """The counselor's couple, safety-flagged and reviewed twice by the supervisor."""
    flagged = SessionInput(
        session_date=date(2026, 3, 2),
        duration_minutes=50,
        format="in_person",
        attendance="both",
        note_data="Short answers all week.",
        note_assessment="Escalation at home.",
        note_plan="Safety plan next session.",
        stage=2,
        safety_flag=True,
        safety_note="Raised voices at home",
    )
    sessions.log_session(db, clinic.counselor, clinic.couple_id, flagged, today=TODAY)
    for comment in ("First look: keep an eye on it.", "Check the *safety* plan [today]."):
        supervision.mark_reviewed(db, clinic.supervisor, clinic.couple_id, comment, today=TODAY)
    return clinic


def _open(at: AppTest, couple_id: int) -> AppTest:
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(couple_id)
    return at.run()


def test_the_counselor_reads_the_supervisors_latest_review(app, reviewed: Clinic) -> None:
    at = _open(login(app(), "cara.couns"), reviewed.couple_id)
    assert not at.exception
    [box] = at.info
    # The comment is shown as typed: markdown escaped, no emphasis, no link.
    assert box.value.startswith("Supervision review by **Sam Super** on ")
    assert box.value.endswith(": Check the \\*safety\\* plan \\[today\\]\\.")
    page = texts(at)
    assert "Reviewed for: Safety flag at the session of 2 Mar 2026" in page
    [earlier] = at.expander
    assert earlier.label == "Earlier supervision reviews (1)"
    assert "First look: keep an eye on it." in page  # as shown (escapes undone)


def test_another_counselor_sees_no_review(app, reviewed: Clinic) -> None:
    at = _open(login(app(), "olly.other"), reviewed.couple_id)
    page = texts(at)
    assert "This couple is not in your caseload." in page
    assert "Sam Super" not in page and "safety" not in page.lower()
    # Their own couple has no review: nothing is shown.
    at = _open(at, reviewed.other_couple_id)
    assert not at.exception
    assert "Supervision review" not in texts(at)
    assert not at.expander
