"""The timeline service's data: intakes for the clinic norms, deleted sessions, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.expected_response import alert
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions, timeline
from dashboard.services.expected import expected_model
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


def test_each_partner_gets_their_expected_course_from_the_second_rating(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    for day, (a, b) in zip((2, 9, 16), ((6, 4), (6, 4), (5, 4)), strict=True):
        sessions.log_session(
            db,
            clinic.counselor,
            clinic.couple_id,
            make_input(
                session_date=date(2026, 3, day),
                ratings={"A": full_ratings(a), "B": full_ratings(b)},
            ),
            today=TODAY,
        )
    view = timeline.timeline_view(db, clinic.counselor, clinic.couple_id)
    a = view.data.expected_for("eii", "A")
    b = view.data.expected_for("eii", "B")
    assert a is not None and b is not None
    # Every item 6 gives an EII of 52.5, every item 5 gives 50.0 and every item 4, 47.5.
    assert (a.intake, a.scores, b.intake, b.scores) == (52.5, (52.5, 50.0), 47.5, (47.5, 47.5))
    assert [d.day for d in a.dates] == [9, 16]  # ratings 2 and 3: none at intake
    # A new clinic's documented defaults: S_diff = 15·√(2·(1 − 0.80)) = 9.4868; the
    # rational fallback expects no change: 25th = intake − 0.6745·S_diff, 10th
    # = intake − 1.2816·S_diff.
    assert view.norms.eii.s_diff == pytest.approx(9.4868, abs=1e-4)
    assert a.bands[-1].p25 == pytest.approx(52.5 - 0.6745 * 9.4868, abs=1e-3)  # 46.101
    assert a.bands[-1].p10 == pytest.approx(52.5 - 1.2816 * 9.4868, abs=1e-3)  # 40.342
    assert b.bands[0].p75 == pytest.approx(47.5 + 0.6745 * 9.4868, abs=1e-3)  # 53.899
    # 50.0 is above 46.101: on course at the latest band drawn.
    assert alert(a.bands[-1], a.scores[-1]) == alert(b.bands[-1], b.scores[-1]) == "on course"
    # The band names the model in use: before any version, the labelled fallback.
    assert a.label == b.label == expected_model(db).label
    assert a.label.startswith("rational fallback: no change expected (Jacobson & Truax 1991)")
