"""Server-side session drafts: only their author's, gone on save, never exported; and a
session edit never blanks saved text without the counselor's explicit Clear."""

from __future__ import annotations

import io
import random
import subprocess
import zipfile
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain.validation import SessionInput
from dashboard.services import drafts, exports, reports, sessions
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.models import CoupleSession, SessionDraft
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)
SECRET = "Zephyr-draft-7731: she is thinking of leaving"  # a marker no other text contains


def _drafts(db: Session) -> int:
    n = db.scalar(select(func.count()).select_from(SessionDraft)) or 0
    db.rollback()
    return n


def test_a_draft_is_its_authors_alone(backend: str, db: Session, clinic: Clinic) -> None:
    saved_at = drafts.save_draft(
        db,
        clinic.counselor,
        couple_id=clinic.couple_id,
        session_id=None,
        values={"sf_note_data": SECRET, "sf_date": date(2026, 10, 30)},
    )
    mine = drafts.get_draft(db, clinic.counselor, couple_id=clinic.couple_id, session_id=None)
    assert mine is not None
    assert mine.values == {"sf_note_data": SECRET, "sf_date": date(2026, 10, 30)}
    assert mine.saved_at == saved_at
    # The supervisor and another counselor find no draft, and cannot write one.
    for actor in (clinic.supervisor, clinic.other_counselor, clinic.admin):
        assert drafts.get_draft(db, actor, couple_id=clinic.couple_id, session_id=None) is None
    for actor in (clinic.supervisor, clinic.other_counselor):
        with pytest.raises(AccessDenied):
            drafts.save_draft(
                db, actor, couple_id=clinic.couple_id, session_id=None, values={"x": 1}
            )
    assert _drafts(db) == 1


def test_saving_the_session_stops_offering_its_draft(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    """Saved: no draft is offered any more; the versions stay in the author's list."""
    drafts.save_draft(
        db, clinic.counselor, couple_id=clinic.couple_id, session_id=None, values={"a": SECRET}
    )
    session_id = sessions.log_session(
        db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY
    )
    mine = {"couple_id": clinic.couple_id, "session_id": None}
    assert drafts.get_draft(db, clinic.counselor, **mine) is None
    assert [d.set_aside for d in drafts.list_drafts(db, clinic.counselor, **mine)] == [True]
    drafts.save_draft(
        db,
        clinic.counselor,
        couple_id=clinic.couple_id,
        session_id=session_id,
        values={"a": SECRET},
    )
    sessions.update_session(
        db,
        clinic.counselor,
        session_id,
        make_input(note_plan="Two check-ins a week."),
        expected_version=1,
        today=TODAY,
    )
    edit = {"couple_id": clinic.couple_id, "session_id": session_id}
    assert drafts.get_draft(db, clinic.counselor, **edit) is None
    assert _drafts(db) == 2


def test_drafts_never_reach_exports_reports_or_the_extract(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    drafts.save_draft(
        db,
        clinic.counselor,
        couple_id=clinic.couple_id,
        session_id=None,
        values={"sf_note_data": SECRET},
    )
    files: list[bytes] = []
    for table in ("caseload", "sessions", "ratings"):
        files.append(exports.table_export(db, clinic.counselor, table, "csv", today=TODAY).data)
    files.append(exports.all_tables_xlsx(db, clinic.admin, today=TODAY).data)
    extract = exports.research_extract(db, clinic.admin, rng=random.Random(5)).data
    with zipfile.ZipFile(io.BytesIO(extract)) as zipped:
        files.extend(zipped.read(name) for name in zipped.namelist())
    report = reports.couple_report(
        db, clinic.counselor, clinic.couple_id, include_notes=True, today=TODAY
    )
    assert all(b"Zephyr-draft-7731" not in data for data in files)
    # The report's text (pdftotext) carries the saved note, not the draft.
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=report.data, capture_output=True, check=True
    ).stdout.decode()
    assert "They described a week of short answers." in " ".join(text.split())
    assert "Zephyr" not in text
    assert _drafts(db) == 1


def test_an_edit_that_blanks_a_saved_note_is_refused_unless_cleared(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(safety_flag=True, safety_note="Raised voices"),
        today=TODAY,
    )
    with pytest.raises(ValidationFailed) as caught:
        sessions.update_session(
            db,
            clinic.counselor,
            session_id,
            make_input(note_plan="   ", safety_flag=False, safety_note=""),
            expected_version=1,
            today=TODAY,
        )
    assert set(caught.value.errors) == {"note_plan", "safety_note"}
    assert caught.value.errors["safety_note"].startswith("This would erase the saved safety note.")
    sessions.update_session(
        db,
        clinic.counselor,
        session_id,
        make_input(safety_flag=False, safety_note="", clear=frozenset({"safety_note"})),
        expected_version=1,
        today=TODAY,
    )
    row = db.get_one(CoupleSession, session_id)
    assert (row.safety_note, row.note_plan, row.version) == (
        None,
        "Practice a ten-minute check-in.",
        2,
    )
