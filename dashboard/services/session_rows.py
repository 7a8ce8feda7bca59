"""A session's rows: the form's values read from them, validated input written onto them
(child rows updated in place by their key), and the JSON snapshot an amendment keeps.

Used by dashboard/services/sessions.py inside its scope checks and transactions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import object_session

from dashboard.domain.catalog import Attendance
from dashboard.domain.check_in import OwnAnswers
from dashboard.domain.same_source import eii_source
from dashboard.domain.scoring import partner_eii
from dashboard.domain.validation import BarrierTag, SessionInput
from db.models import (
    CoupleSession,
    HabitAssignment,
    IndicatorRating,
    InstrumentTotal,
    SessionBarrier,
)


def values_of(row: CoupleSession) -> SessionInput:
    ratings: dict[str, dict[str, int | None]] = {"A": {}, "B": {}}
    for r in row.ratings:
        ratings[r.partner][r.item] = r.value
    totals: dict[str, dict[str, float | None]] = {"A": {}, "B": {}}
    for t in row.instrument_totals:
        totals[t.partner][t.instrument] = t.total
    return SessionInput(
        session_date=row.session_date,
        duration_minutes=row.duration_minutes,
        format=row.format,
        attendance=row.attendance,
        note_data=row.note_data,
        note_assessment=row.note_assessment,
        note_plan=row.note_plan,
        stage=row.stage,
        barriers=[BarrierTag(t.barrier_id, t.severity, t.note) for t in row.barrier_tags],
        ratings=ratings,
        habits_assigned=[h.habit for h in sorted(row.habits, key=lambda h: h.id)],
        instrument_totals=totals,
        safety_flag=row.safety_flag,
        safety_note=row.safety_note or "",
        private_note=row.private_note or "",
    )


def _source(own: Mapping[str, OwnAnswers], partner: str, key: str, *, total: bool) -> str:
    """'self' for a value that is the partner's own check-in answer, kept as given."""
    answers = own.get(partner)
    if answers is None:
        return "counselor"
    return "self" if key in (answers.totals if total else answers.ratings) else "counselor"


def apply(row: CoupleSession, inp: SessionInput, own: Mapping[str, OwnAnswers]) -> None:
    """Copy validated input onto the row, updating child rows in place by their key;
    `own` holds the partners' own answers that are kept as given (stored as "self")."""
    attendance = Attendance(inp.attendance)
    present = {p.value for p in attendance.partners_present}
    row.session_date = inp.session_date  # type: ignore[assignment]
    row.duration_minutes = inp.duration_minutes
    row.format = inp.format  # type: ignore[assignment]
    row.attendance = attendance.value
    row.note_data = inp.note_data.strip()
    row.note_assessment = inp.note_assessment.strip()
    row.note_plan = inp.note_plan.strip()
    row.stage = inp.stage if attendance.held else None
    row.safety_flag = inp.safety_flag
    row.safety_note = inp.safety_note.strip() or None
    row.private_note = (inp.private_note.strip() or None) if attendance.individual else None

    wanted_tags = {t.barrier_id: t for t in inp.barriers}
    for tag in list(row.barrier_tags):
        if tag.barrier_id not in wanted_tags:
            row.barrier_tags.remove(tag)
    have_tags = {t.barrier_id: t for t in row.barrier_tags}
    for barrier_id, tag in wanted_tags.items():
        existing = have_tags.get(barrier_id)
        if existing:
            existing.severity, existing.note = tag.severity, tag.note.strip()  # type: ignore[assignment]
        else:
            row.barrier_tags.append(
                SessionBarrier(barrier_id=barrier_id, severity=tag.severity, note=tag.note.strip())
            )

    wanted_ratings = {
        (p, item): value for p in ("A", "B") for item, value in inp.rated_items(p).items()
    }
    for rating in list(row.ratings):
        if (rating.partner, rating.item) not in wanted_ratings:
            row.ratings.remove(rating)
    have_ratings = {(r.partner, r.item): r for r in row.ratings}
    for (partner, item), value in wanted_ratings.items():
        source = _source(own, partner, item, total=False)
        if (partner, item) in have_ratings:
            have_ratings[(partner, item)].value = value
            have_ratings[(partner, item)].source = source
        else:
            row.ratings.append(
                IndicatorRating(partner=partner, item=item, value=value, source=source)
            )
    # The stored EIIs follow the ratings just written (derived, never typed), and so
    # does who gave them (like with like: same_source.eii_source).
    row.eii_a = partner_eii(inp.rated_items("A"))
    row.eii_b = partner_eii(inp.rated_items("B"))
    row.source_a, row.source_b = (
        eii_source({item: _source(own, p, item, total=False) for item in inp.rated_items(p)})
        for p in ("A", "B")
    )

    wanted_totals = {
        (p, code): float(total)
        for p in ("A", "B")
        for code, total in inp.instrument_totals.get(p, {}).items()
        if total is not None and p in present
    }
    for total in list(row.instrument_totals):
        if (total.partner, total.instrument) not in wanted_totals:
            row.instrument_totals.remove(total)
    have_totals = {(t.partner, t.instrument): t for t in row.instrument_totals}
    for (partner, code), value in wanted_totals.items():
        source = _source(own, partner, code, total=True)
        if (partner, code) in have_totals:
            have_totals[(partner, code)].total = value
            have_totals[(partner, code)].source = source
        else:
            row.instrument_totals.append(
                InstrumentTotal(partner=partner, instrument=code, total=value, source=source)
            )

    wanted_habits = list(dict.fromkeys(inp.habits_assigned))
    for habit in list(row.habits):
        if habit.habit not in wanted_habits:
            row.habits.remove(habit)
    have_habits = {h.habit for h in row.habits}
    for habit_key in wanted_habits:
        if habit_key not in have_habits:
            row.habits.append(HabitAssignment(habit=habit_key))


def apply_adherence(
    row: CoupleSession, inp: SessionInput, open_assignments: dict[int, HabitAssignment]
) -> None:
    """Record or clear adherence exactly as the form says, on the habits it showed.

    A habit the input does not mention keeps what it had, and nothing outside the open
    habits is touched: a session moved to another date, or one whose previous session
    was deleted, keeps the adherence it recorded (restoring brings everything back).
    """
    for assignment_id, value in inp.adherence.items():
        assignment = open_assignments[assignment_id]  # validated: only open habits
        assignment.adherence = value
        assignment.adherence_session_id = row.id if value is not None else None


def snapshot(row: CoupleSession) -> str:
    """Every field of a session as JSON, kept with each amendment.

    Includes the adherence this session recorded for the previous session's habits: a
    corrected adherence keeps the earlier value too.
    """
    values = values_of(row)
    db = object_session(row)
    followed_up: list[HabitAssignment] = []
    if db is not None:
        with db.no_autoflush:
            followed_up = list(
                db.scalars(
                    select(HabitAssignment)
                    .where(HabitAssignment.adherence_session_id == row.id)
                    .order_by(HabitAssignment.id)
                )
            )
    return json.dumps(
        {
            "version": row.version,
            "session_date": row.session_date.isoformat(),
            "duration_minutes": row.duration_minutes,
            "format": row.format,
            "attendance": row.attendance,
            "stage": row.stage,
            "safety_flag": row.safety_flag,
            "safety_note": row.safety_note,
            "barriers": [
                {"barrier_id": t.barrier_id, "severity": t.severity, "note": t.note}
                for t in values.barriers
            ],
            "ratings": values.ratings,
            "habits_assigned": values.habits_assigned,
            "instrument_totals": values.instrument_totals,
            "adherence": [
                {"assignment_id": h.id, "habit": h.habit, "adherence": h.adherence}
                for h in followed_up
            ],
        },
        sort_keys=True,
    )
