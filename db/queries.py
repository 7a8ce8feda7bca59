"""Read-side queries for dashboards: SQL aggregates, one round trip per table view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from db.models import Couple, CoupleSession, IndicatorRating, InstrumentTotal, User
from db.summary_models import CoupleSummary

HELD = ("both", "partner_a", "partner_b")


def caseload_rows(
    db: Session,
    scope: ColumnElement[bool],
    *,
    search: str = "",
    statuses: Sequence[str] = (),
) -> Sequence[Row]:
    """One row per couple in scope, with sessions held, last session held and current
    stage (the stage of the latest rated session).

    Read from the couples' summary rows (db/summary_models.py): one indexed join, however
    many sessions the couples have. These three figures do not depend on the norms, so
    a row judged with older norms still answers them; only while a couple has no row yet
    (a database just migrated, before start-up built them) are the sessions read.
    """
    summary = aliased(CoupleSummary)
    query = _caseload_filters(
        select(
            Couple.id.label("couple_id"),
            Couple.case_code,
            Couple.partner_a_name,
            Couple.partner_b_name,
            User.display_name.label("counselor"),
            Couple.status,
            Couple.intake_date,
            summary.stage_latest.label("stage"),
            func.coalesce(summary.sessions_held, 0).label("sessions"),
            summary.last_held.label("last_session"),
            summary.couple_id.label("summarised"),
        )
        .join(User, User.id == Couple.counselor_id)
        .outerjoin(summary, summary.couple_id == Couple.id)
        .where(Couple.deleted_at.is_(None), scope)
        .order_by(Couple.case_code),
        search,
        statuses,
    )
    rows = db.execute(query).all()
    if all(r.summarised is not None for r in rows):
        return rows
    return caseload_rows_from_sessions(db, scope, search=search, statuses=statuses)


def _caseload_filters(query: Select, search: str, statuses: Sequence[str]) -> Select:
    if statuses:
        query = query.where(Couple.status.in_(list(statuses)))
    term = search.strip()
    if term:
        query = query.where(
            or_(
                Couple.case_code.icontains(term, autoescape=True),
                Couple.partner_a_name.icontains(term, autoescape=True),
                Couple.partner_b_name.icontains(term, autoescape=True),
            )
        )
    return query


def caseload_rows_from_sessions(
    db: Session,
    scope: ColumnElement[bool],
    *,
    search: str = "",
    statuses: Sequence[str] = (),
) -> Sequence[Row]:
    """caseload_rows computed from the sessions themselves (no summary row needed).

    The current stage is the stage of the latest rated session, found with a window
    function so the cost is one query whatever the caseload size.
    """
    # Only the sessions of couples in scope: SQLite cannot push the outer filter into
    # the grouped and windowed subqueries, which then read the whole clinic.
    in_scope = select(Couple.id).where(Couple.deleted_at.is_(None), scope)
    live = CoupleSession.deleted_at.is_(None) & CoupleSession.couple_id.in_(in_scope)
    stats = (
        select(
            CoupleSession.couple_id.label("couple_id"),
            func.sum(case((CoupleSession.attendance.in_(HELD), 1), else_=0)).label("held"),
            func.max(case((CoupleSession.attendance.in_(HELD), CoupleSession.session_date))).label(
                "last_session"
            ),
        )
        .where(live)
        .group_by(CoupleSession.couple_id)
        .subquery()
    )
    ranked = (
        select(
            CoupleSession.couple_id.label("couple_id"),
            CoupleSession.stage.label("stage"),
            func.row_number()
            .over(
                partition_by=CoupleSession.couple_id,
                order_by=(CoupleSession.session_date.desc(), CoupleSession.id.desc()),
            )
            .label("rn"),
        )
        .where(live, CoupleSession.stage.is_not(None))
        .subquery()
    )
    latest = select(ranked.c.couple_id, ranked.c.stage).where(ranked.c.rn == 1).subquery()
    query = (
        select(
            Couple.id.label("couple_id"),
            Couple.case_code,
            Couple.partner_a_name,
            Couple.partner_b_name,
            User.display_name.label("counselor"),
            Couple.status,
            Couple.intake_date,
            latest.c.stage.label("stage"),
            func.coalesce(stats.c.held, 0).cast(Integer).label("sessions"),
            stats.c.last_session,
        )
        .join(User, User.id == Couple.counselor_id)
        .outerjoin(stats, stats.c.couple_id == Couple.id)
        .outerjoin(latest, latest.c.couple_id == Couple.id)
        .where(Couple.deleted_at.is_(None), scope)
        .order_by(Couple.case_code)
    )
    return db.execute(_caseload_filters(query, search, statuses)).all()


def next_case_number(db: Session, year: int) -> int:
    """The next free sequence number for case codes of the form C-<year>-NNNN."""
    prefix = f"C-{year}-"
    codes = db.scalars(select(Couple.case_code).where(Couple.case_code.startswith(prefix))).all()
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()]
    return max(numbers, default=0) + 1


def first_session_date(db: Session, couple_id: int) -> date | None:
    return db.scalar(
        select(func.min(CoupleSession.session_date)).where(
            CoupleSession.couple_id == couple_id, CoupleSession.deleted_at.is_(None)
        )
    )


def _intake_sessions():  # type: ignore[no-untyped-def]
    """Each partner's intake: their first live session (by date, then id) with an EII.

    Ranked over sessions using the EII stored on each session, not over every rating,
    so the cost is one row per session whatever the number of ratings.
    """
    ranked = []
    for partner, eii in (("A", CoupleSession.eii_a), ("B", CoupleSession.eii_b)):
        ranked.append(
            select(
                CoupleSession.couple_id.label("couple_id"),
                literal(partner).label("partner"),
                CoupleSession.id.label("session_id"),
                func.row_number()
                .over(
                    partition_by=CoupleSession.couple_id,
                    order_by=(CoupleSession.session_date, CoupleSession.id),
                )
                .label("rn"),
            )
            .join(Couple, Couple.id == CoupleSession.couple_id)
            .where(
                CoupleSession.deleted_at.is_(None),
                Couple.deleted_at.is_(None),
                eii.is_not(None),
            )
        )
    both = union_all(*ranked).subquery()
    return (
        select(both.c.couple_id, both.c.partner, both.c.session_id).where(both.c.rn == 1).subquery()
    )


def intake_ratings(db: Session) -> Sequence[Row]:
    """(couple_id, partner, item, value, source): every partner's ratings at their
    intake session, with who gave each ("counselor" or "self")."""
    first = _intake_sessions()
    return db.execute(
        select(
            first.c.couple_id,
            first.c.partner,
            IndicatorRating.item,
            IndicatorRating.value,
            IndicatorRating.source,
        ).join(
            IndicatorRating,
            (IndicatorRating.session_id == first.c.session_id)
            & (IndicatorRating.partner == first.c.partner),
        )
    ).all()


def intake_instrument_totals(db: Session) -> Sequence[Row]:
    """(instrument, total) at each partner's first live session with that instrument."""
    ranked = (
        select(
            InstrumentTotal.instrument.label("instrument"),
            InstrumentTotal.total.label("total"),
            func.row_number()
            .over(
                partition_by=(
                    CoupleSession.couple_id,
                    InstrumentTotal.partner,
                    InstrumentTotal.instrument,
                ),
                order_by=(CoupleSession.session_date, CoupleSession.id),
            )
            .label("rn"),
        )
        .join(CoupleSession, CoupleSession.id == InstrumentTotal.session_id)
        .join(Couple, Couple.id == CoupleSession.couple_id)
        .where(CoupleSession.deleted_at.is_(None), Couple.deleted_at.is_(None))
        .subquery()
    )
    return db.execute(select(ranked.c.instrument, ranked.c.total).where(ranked.c.rn == 1)).all()
