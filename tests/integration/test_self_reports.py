"""A partner's own check-in answers in the session: they fill that partner's ratings,
stored as "self"; changing them needs a reason, kept as an amendment; scoring treats
them as any rating; no note of theirs reaches an export, report or extract."""

from __future__ import annotations

import io
import json
import random
import subprocess
import zipfile
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.check_in import Answers
from dashboard.domain.scoring import partner_eii
from dashboard.domain.validation import SessionInput
from dashboard.reports.model import instrument_results
from dashboard.services import check_ins, exports, reports, sessions, timeline
from dashboard.services.check_ins import Credential
from dashboard.services.errors import ValidationFailed
from db.models import CheckIn, CoupleSession, IndicatorRating, SessionAmendment
from tests.conftest import Clinic
from tests.integration.conftest import full_ratings

TODAY = date(2026, 11, 1)
NOTE = "Axolotl-8812: I have not told them about the debt"  # a marker no other text has
# Alex's own answers: signs 8, warning signs 2 (reverse-scored to 8).
OWN = {i.key: (2 if i.reverse_scored else 8) for i in INDICATORS}


def _answered(db: Session, clinic: Clinic) -> int:
    """Alex answers a check-in (CSI-4 14 too); returns the check-in partner row id."""
    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A", "B"}, initials={"A": "A", "B": "B"}
    )
    check_ins.submit_check_in(
        db, Credential("link", made.tokens["A"]), Answers(OWN, {"csi4": 14.0}, NOTE), client="x"
    )
    return check_ins.self_reports(db, clinic.couple_id)["A"].check_in_partner_id


def _sources(db: Session, session_id: int) -> dict[str, set[str]]:
    rows = db.scalars(select(IndicatorRating).where(IndicatorRating.session_id == session_id))
    found: dict[str, set[str]] = {"A": set(), "B": set()}
    for r in rows:
        found[r.partner].add(r.source)
    db.rollback()
    return found


def test_the_answers_become_the_partners_ratings(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    ci_partner = _answered(db, clinic)
    form = sessions.new_session_form(db, clinic.counselor, clinic.couple_id)
    assert form.self_reports["A"].ratings == OWN and form.self_reports["A"].note == NOTE
    assert "B" not in form.self_reports  # Blair has not answered
    inp = make_input(
        ratings={"A": dict(OWN), "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
        self_reports={"A": ci_partner},
    )
    session_id = sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    assert _sources(db, session_id) == {"A": {"self"}, "B": {"counselor"}}
    row = db.get_one(CoupleSession, session_id)
    # The index is computed as from any rating: signs 8 and reversed warnings 8 -> 80.
    assert row.eii_a == partner_eii(OWN) == 80.0
    # Stored beside each EII: who gave it (like with like, migration 0015).
    assert (row.source_a, row.source_b) == ("self", "counselor")
    assert {(t.instrument, t.source) for t in row.instrument_totals} == {("csi4", "self")}
    # The check-in is closed with the session; a second session finds nothing waiting.
    assert db.scalar(select(CheckIn.session_id)) == session_id
    db.rollback()
    assert sessions.new_session_form(db, clinic.counselor, clinic.couple_id).self_reports == {}
    # The timeline marks the point as the partner's own answers (the chart's diamond).
    sessions_frame = timeline.timeline_view(db, clinic.counselor, clinic.couple_id).data.sessions
    assert sessions_frame[["self_a", "self_b"]].values.tolist() == [[True, False]]
    # The saved session shows which ratings are the partner's own, with their note.
    stored = sessions.session_form(db, clinic.counselor, session_id).self_reports
    assert set(stored) == {"A"} and stored["A"].note == NOTE and stored["A"].ratings == OWN


def test_changing_own_answers_needs_a_reason_kept_as_an_amendment(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    ci_partner = _answered(db, clinic)
    changed = dict(OWN, talk_honestly=5)
    inp = make_input(
        ratings={"A": changed, "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
        self_reports={"A": ci_partner},
    )
    with pytest.raises(ValidationFailed) as refused:
        sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    assert refused.value.errors["override_A"].startswith("These are Alex's own check-in answers.")
    assert db.scalar(select(CoupleSession.id)) is None  # nothing written
    db.rollback()
    inp.overrides = {"A": "Alex said in the room the 8 was a slip of the thumb"}
    session_id = sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    assert _sources(db, session_id) == {"A": {"counselor"}, "B": {"counselor"}}
    stored_row = db.get_one(CoupleSession, session_id)
    assert (stored_row.source_a, stored_row.source_b) == ("counselor", "counselor")
    amendment = db.scalar(select(SessionAmendment).where(SessionAmendment.session_id == session_id))
    assert amendment is not None and amendment.version == 0
    assert amendment.reason == (
        "Alex's own answers changed (we talk honestly): "
        "Alex said in the room the 8 was a slip of the thumb"
    )
    assert json.loads(amendment.snapshot)["self_report"]["A"]["ratings"]["talk_honestly"] == 8
    db.rollback()


def test_an_edit_keeps_own_answers_unless_a_reason_is_given(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    ci_partner = _answered(db, clinic)
    inp = make_input(
        ratings={"A": dict(OWN), "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
        self_reports={"A": ci_partner},
    )
    session_id = sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    # An edit of the note alone keeps the ratings as the partner's own.
    form = sessions.session_form(db, clinic.counselor, session_id)
    edit = make_input(
        ratings={"A": dict(OWN), "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
        note_plan="Revised plan",
    )
    sessions.update_session(
        db, clinic.counselor, session_id, edit, expected_version=form.version, today=TODAY
    )
    assert _sources(db, session_id)["A"] == {"self"}
    assert db.scalar(select(CoupleSession.source_a).where(CoupleSession.id == session_id)) == "self"
    form = sessions.session_form(db, clinic.counselor, session_id)
    silently = make_input(
        ratings={"A": dict(OWN, feel_seen=3), "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
    )
    with pytest.raises(ValidationFailed) as refused:
        sessions.update_session(
            db, clinic.counselor, session_id, silently, expected_version=form.version, today=TODAY
        )
    assert "override_A" in refused.value.errors
    silently.overrides = {"A": "Corrected after the call with Alex"}
    sessions.update_session(
        db, clinic.counselor, session_id, silently, expected_version=form.version, today=TODAY
    )
    assert _sources(db, session_id)["A"] == {"counselor"}
    stored = db.scalar(select(CoupleSession.source_a).where(CoupleSession.id == session_id))
    assert stored == "counselor"
    reasons = [a.reason for a in sessions.session_form(db, clinic.counselor, session_id).amendments]
    assert (
        reasons[0] == "Alex's own answers changed (i feel seen): Corrected after the call with Alex"
    )


def test_check_in_notes_never_reach_exports_reports_or_the_extract(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    ci_partner = _answered(db, clinic)
    inp = make_input(
        ratings={"A": dict(OWN), "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
        self_reports={"A": ci_partner},
    )
    sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
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
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=report.data, capture_output=True, check=True
    ).stdout.decode()
    assert all(b"Axolotl-8812" not in data for data in files)
    assert "Axolotl" not in text
    assert "They described a week of short answers." in " ".join(text.split())


def test_questionnaire_totals_are_judged_like_with_like(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    """CSI-4 for Alex: the counselor's 8 (2 Mar) and 15 (9 Mar), then Alex's own 14 from a
    check-in (16 Mar). The latest source (self) has one total, so the counselor's pair
    8 -> 15 is compared, and the result says so; the same for the EII (counselor 6s
    twice, then Alex's own 8s)."""
    for day, total in ((date(2026, 3, 2), 8.0), (date(2026, 3, 9), 15.0)):
        inp = make_input(session_date=day, instrument_totals={"A": {"csi4": total}})
        sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    ci_partner = _answered(db, clinic)
    inp = make_input(
        session_date=date(2026, 3, 16),
        ratings={"A": dict(OWN), "B": full_ratings(4)},
        instrument_totals={"A": {"csi4": 14.0}},
        self_reports={"A": ci_partner},
    )
    sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    view = timeline.timeline_view(db, clinic.counselor, clinic.couple_id)
    change = view.instrument_changes[("csi4", "A")]
    assert (change.baseline, change.latest) == (8.0, 15.0)
    said = (
        "not comparable yet: baseline rated by the counselor, latest given in Alex's own "
        "check-in; judged on the counselor's ratings of 2 Mar 2026 to 9 Mar 2026"
    )
    assert view.instrument_notes[("csi4", "A")] == said
    a = view.trajectory.partner_a
    assert (a.baseline, a.latest) == (partner_eii(full_ratings(6)), partner_eii(full_ratings(6)))
    assert a.source_note("Alex") == said
    table = instrument_results(view.data, view.instrument_changes, None, view.instrument_notes)
    assert table.iloc[0, -1].endswith("; " + said)
