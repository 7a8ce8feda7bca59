"""Safety first on the couple's own pages: a flagged session, then two calm ones. The
timeline's first lines and the couple page's header still say Safety, with the date; a
second flag adds its date. The session list shows the flag beside the date."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions
from tests.app.conftest import login
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


def _log(db: Session, clinic: Clinic, day: date, note: str = "") -> None:
    sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        SessionInput(
            session_date=day,
            duration_minutes=50,
            format="in_person",
            attendance="both",
            note_data="Met both.",
            note_assessment="Tense.",
            note_plan="Next week.",
            stage=2,
            ratings={p: {i.key: 5 for i in INDICATORS} for p in "AB"},
            safety_flag=bool(note),
            safety_note=note,
        ),
        today=TODAY,
    )


def _page(at: AppTest, page: str, couple_id: int) -> list[str]:
    at.switch_page(page)
    at.query_params["couple"] = str(couple_id)
    at.run()
    assert not at.exception
    return [m.value for m in at.markdown]


def test_a_safety_flag_stays_first_on_the_timeline_and_the_couple_header(
    app, clinic: Clinic, db: Session
) -> None:
    _log(db, clinic, date(2026, 3, 2), "Raised voices at home")
    _log(db, clinic, date(2026, 3, 9))
    _log(db, clinic, date(2026, 3, 16))
    at = login(app(), "cara.couns")

    lines = _page(at, "pages/timeline.py", clinic.couple_id)
    # The badges, then the safety line with its date, before the status sentences.
    assert lines[0].startswith(":red-badge[:material/warning: Safety]")
    assert lines[1] == "**Safety flag at the session of 2 Mar 2026**"

    header = _page(at, "pages/couple.py", clinic.couple_id)
    assert any(
        "Safety]" in line and line.endswith("Safety flag at the session of 2 Mar 2026")
        for line in header
    ), header
    listed = at.dataframe[0].value
    assert list(listed.columns[:2]) == ["Date", "Safety"]
    assert listed["Safety"].tolist() == ["", "", "⚠ flagged"]  # newest first

    _log(db, clinic, date(2026, 3, 23), "Doorway blocked during an argument")
    lines = _page(at, "pages/timeline.py", clinic.couple_id)
    assert lines[1] == "**Safety flag at 2 sessions: 2 Mar 2026, 23 Mar 2026**"


def test_no_flag_no_safety_line(app, clinic: Clinic, db: Session) -> None:
    _log(db, clinic, date(2026, 3, 2))
    at = login(app(), "cara.couns")
    assert not [m for m in _page(at, "pages/timeline.py", clinic.couple_id) if "Safety" in m]
    assert not [m for m in _page(at, "pages/couple.py", clinic.couple_id) if "Safety" in m]
