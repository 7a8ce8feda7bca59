"""Read-side queries for the table exports and the research extract.

Every function takes `scope`, a WHERE clause on `Couple` (the services pass the actor's
`visible_couples`), and returns plain rows in one round trip whatever the clinic size:
no per-couple loop. Only live sessions of live couples are read. No function here reads
free text (DAP notes, private notes, safety notes, barrier notes, presenting concerns,
goals or status notes): the exports are for analysis, not for reading a record.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, Select, and_, case, select
from sqlalchemy.orm import Session, aliased

from db.models import (
    Barrier,
    Couple,
    CoupleSession,
    HabitAssignment,
    IndicatorRating,
    InstrumentTotal,
    SessionBarrier,
    User,
)


def _live(query: Select, scope: ColumnElement[bool]) -> Select:
    """Restrict a select that joins `CoupleSession` to live sessions of live couples in scope."""
    return query.join(Couple, Couple.id == CoupleSession.couple_id).where(
        CoupleSession.deleted_at.is_(None), Couple.deleted_at.is_(None), scope
    )


def couple_rows(db: Session, scope: ColumnElement[bool]) -> Sequence[Row]:
    """(couple_id, intake_date, status, closing_reason): one row per live couple in scope."""
    query = (
        select(
            Couple.id.label("couple_id"), Couple.intake_date, Couple.status, Couple.closing_reason
        )
        .where(Couple.deleted_at.is_(None), scope)
        .order_by(Couple.id)
    )
    return db.execute(query).all()


def session_rows(db: Session, scope: ColumnElement[bool]) -> Sequence[Row]:
    """One row per live session: who, when, how, and the structured ratings of it.

    Columns: session_id, couple_id, case_code, counselor, session_date,
    duration_minutes, format, attendance, stage, eii_a, eii_b, safety_flag, source_a,
    source_b (who gave each EII: "counselor" or "self"; None without one).
    """
    query = _live(
        select(
            CoupleSession.id.label("session_id"),
            CoupleSession.couple_id,
            Couple.case_code,
            User.display_name.label("counselor"),
            CoupleSession.session_date,
            CoupleSession.duration_minutes,
            CoupleSession.format,
            CoupleSession.attendance,
            CoupleSession.stage,
            CoupleSession.eii_a,
            CoupleSession.eii_b,
            CoupleSession.safety_flag,
            CoupleSession.source_a,
            CoupleSession.source_b,
        ),
        scope,
    )
    query = query.join(User, User.id == Couple.counselor_id).order_by(
        Couple.case_code, CoupleSession.session_date, CoupleSession.id
    )
    return db.execute(query).all()


def barrier_rows(db: Session, scope: ColumnElement[bool]) -> Sequence[Row]:
    """(session_id, couple_id, barrier_code, barrier, is_seed, severity): every tag of a
    live session.

    The barrier is its catalogue name; the tag's own note (free text) is not read.
    """
    query = _live(
        select(
            SessionBarrier.session_id,
            CoupleSession.couple_id,
            Barrier.code.label("barrier_code"),
            Barrier.name.label("barrier"),
            Barrier.is_seed.label("is_seed"),
            SessionBarrier.severity,
        )
        .select_from(SessionBarrier)
        .join(CoupleSession, CoupleSession.id == SessionBarrier.session_id)
        .join(Barrier, Barrier.id == SessionBarrier.barrier_id),
        scope,
    )
    return db.execute(
        query.order_by(SessionBarrier.session_id, Barrier.sort_order, Barrier.name)
    ).all()


def habit_rows(db: Session, scope: ColumnElement[bool]) -> Sequence[Row]:
    """(session_id, couple_id, habit, adherence, adherence_session_id): habits set at a session.

    Adherence counts only when the session that recorded it is live; otherwise both
    adherence columns are empty (the habit is still assigned).
    """
    follow_up = aliased(CoupleSession)
    query = _live(
        select(
            HabitAssignment.session_id,
            CoupleSession.couple_id,
            HabitAssignment.habit,
            case((follow_up.id.is_not(None), HabitAssignment.adherence)).label("adherence"),
            follow_up.id.label("adherence_session_id"),
        )
        .select_from(HabitAssignment)
        .join(CoupleSession, CoupleSession.id == HabitAssignment.session_id)
        .outerjoin(
            follow_up,
            and_(
                follow_up.id == HabitAssignment.adherence_session_id,
                follow_up.deleted_at.is_(None),
            ),
        ),
        scope,
    )
    return db.execute(query.order_by(HabitAssignment.session_id, HabitAssignment.id)).all()


def rating_rows(db: Session, scope: ColumnElement[bool]) -> Sequence[Row]:
    """Indicator ratings, long: (case_code, couple_id, session_id, session_date, partner,
    item, value, source), one row per partner per rated item of a live session."""
    query = _live(
        select(
            Couple.case_code,
            CoupleSession.couple_id,
            IndicatorRating.session_id,
            CoupleSession.session_date,
            IndicatorRating.partner,
            IndicatorRating.item,
            IndicatorRating.value,
            IndicatorRating.source,
        )
        .select_from(IndicatorRating)
        .join(CoupleSession, CoupleSession.id == IndicatorRating.session_id),
        scope,
    )
    query = query.order_by(
        Couple.case_code,
        CoupleSession.session_date,
        IndicatorRating.session_id,
        IndicatorRating.partner,
        IndicatorRating.item,
    )
    return db.execute(query).all()


def instrument_rows(db: Session, scope: ColumnElement[bool]) -> Sequence[Row]:
    """(session_id, couple_id, partner, instrument, total, source): instrument totals of
    live sessions."""
    query = _live(
        select(
            InstrumentTotal.session_id,
            CoupleSession.couple_id,
            InstrumentTotal.partner,
            InstrumentTotal.instrument,
            InstrumentTotal.total,
            InstrumentTotal.source,
        )
        .select_from(InstrumentTotal)
        .join(CoupleSession, CoupleSession.id == InstrumentTotal.session_id),
        scope,
    )
    query = query.order_by(
        InstrumentTotal.session_id, InstrumentTotal.partner, InstrumentTotal.instrument
    )
    return db.execute(query).all()
