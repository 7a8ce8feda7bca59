"""The timeline service's data: intakes for the clinic norms, deleted sessions, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions, timeline
from db import queries
from tests.conftest import Clinic
from tests.integration.conftest import TODAY, AuditLookup, full_ratings


def test_a_partners_intake_is_their_first_session_with_an_eii(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    five_items = {i.key: 5 for i in INDICATORS[:5]}
    first = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(session_date=date(2026, 3, 2), ratings={"A": five_items, "B": {}}),
        today=TODAY,
    )
    second = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(
            session_date=date(2026, 3, 9), ratings={"A": full_ratings(7), "B": full_ratings(3)}
        ),
        today=TODAY,
    )
    rows = queries.intake_ratings(db)
    db.rollback()
    # Session 1 gave partner A only five items (no EII) and partner B nothing: both
    # partners' intake is session 2, eight items each.
    by_partner = {(r.partner, r.item): r.value for r in rows}
    assert len(rows) == 16
    assert by_partner[("A", "talk_honestly")] == 7 and by_partner[("B", "talk_honestly")] == 3
    assert first != second


def test_deleted_sessions_leave_the_timeline(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
    backend: str,
) -> None:
    kept = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(session_date=date(2026, 3, 2)),
        today=TODAY,
    )
    gone = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(session_date=date(2026, 3, 9)),
        today=TODAY,
    )
    sessions.delete_session(db, clinic.counselor, gone)
    view = timeline.timeline_view(db, clinic.counselor, clinic.couple_id)
    assert list(view.data.sessions["session_id"]) == [kept]
    assert set(view.data.ratings["session_id"]) == {kept}
    assert set(view.data.barriers["session_id"]) == {kept}
    assert [(e.username, e.entity_id) for e in audits(action="view_timeline")] == [
        ("cara.couns", clinic.couple_id)
    ]
