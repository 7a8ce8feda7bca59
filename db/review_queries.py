"""Read-side queries of the supervisor's caseload review: a few set-based queries, no loop.

The review needs every session of every couple under review (up to 150,000 rows in a
large clinic) as one frame. SQLAlchemy's per-row result processing (dates parsed into
Python objects, Row objects) costs more than the query itself at that size, so the bulk
rows are read from the DBAPI cursor of the executed statement and typed column by column
in pandas. Parameters are still bound by SQLAlchemy; only the result skips the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

import pandas as pd
from sqlalchemy import ColumnElement, Integer, Select, case, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from db.models import Barrier, Couple, CoupleSession, InstrumentTotal, SessionBarrier, User
from db.queries import HELD
from db.summary_models import CoupleSummary

CLOSED = "closed"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _frame(
    db: Session, query: Select, columns: list[str], dtype: str | None = None
) -> pd.DataFrame:
    """Run `query` and build a frame from the raw DBAPI rows (see the module note);
    `dtype` object keeps each value as the driver gave it (None for NULL), unparsed."""
    result = db.connection().execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return pd.DataFrame(rows, columns=columns, dtype=dtype)


def review_counselors(
    db: Session, scope: ColumnElement[bool], counselor_ids: Sequence[int] = ()
) -> pd.DataFrame:
    """(counselor_id, counselor) of the counselors under review, by name.

    `scope` is a WHERE clause on User. A deactivated counselor still appears while they
    hold a couple, so no couple drops out of the per-counselor numbers unseen.
    """
    owns = exists().where(Couple.counselor_id == User.id, Couple.deleted_at.is_(None))
    query = (
        select(User.id, User.display_name)
        .where(User.role == "counselor", scope, or_(User.active.is_(True), owns))
        .order_by(User.display_name, User.id)
    )
    if counselor_ids:
        query = query.where(User.id.in_(list(counselor_ids)))
    rows = db.execute(query.add_columns(User.username)).all()
    frame = pd.DataFrame(
        {
            "counselor_id": [r[0] for r in rows],
            "counselor": [r[1] for r in rows],
            "username": [r[2] for r in rows],
        }
    ).astype({"counselor_id": "int64", "counselor": object, "username": object})
    # Display names need not be unique; the review groups by name, so two namesakes
    # are told apart by their usernames rather than merged into one bar.
    twins = frame["counselor"].duplicated(keep=False)
    frame.loc[twins, "counselor"] = (
        frame.loc[twins, "counselor"] + " (" + frame.loc[twins, "username"] + ")"
    )
    return frame[["counselor_id", "counselor"]]


def review_couple_ids(
    scope: ColumnElement[bool],
    *,
    counselor_ids: Sequence[int] | None,
    start: date,
    end: date,
    barrier_id: int | None,
) -> Select:
    """The couples under review: in scope, open at some time in [start, end].

    Opened on or before `end` and not closed before `start`; `counselor_ids` None is
    every counselor, an empty list no one; with `barrier_id`, only couples with that
    barrier tagged at a held session inside the range.
    """
    query = select(Couple.id).where(
        Couple.deleted_at.is_(None),
        scope,
        Couple.intake_date <= end,
        or_(Couple.status != CLOSED, Couple.status_changed_at >= _start_of(start)),
    )
    if counselor_ids is not None:
        query = query.where(Couple.counselor_id.in_(list(counselor_ids)))
    if barrier_id is not None:
        tagged = (
            select(SessionBarrier.id)
            .join(CoupleSession, CoupleSession.id == SessionBarrier.session_id)
            .where(
                CoupleSession.couple_id == Couple.id,
                CoupleSession.deleted_at.is_(None),
                CoupleSession.attendance.in_(HELD),  # as the prevalence chart counts
                CoupleSession.session_date.between(start, end),
                SessionBarrier.barrier_id == barrier_id,
            )
        )
        query = query.where(tagged.exists())
    return query


def with_statuses(couple_ids: Select, statuses: Sequence[str]) -> Select:
    """The same couples narrowed to these statuses (none given: every status)."""
    return couple_ids.where(Couple.status.in_(list(statuses))) if statuses else couple_ids


def one_couple(couple_id: int) -> Select:
    """The same shape as review_couple_ids, for a single live couple."""
    return select(Couple.id).where(Couple.id == couple_id, Couple.deleted_at.is_(None))


def review_couples(db: Session, couple_ids: Select) -> pd.DataFrame:
    """couple_id, case_code, counselor_id, status, intake_date, closed_at (NaT if open)."""
    closed_at = case((Couple.status == CLOSED, Couple.status_changed_at))
    rows = db.execute(
        select(
            Couple.id,
            Couple.case_code,
            Couple.counselor_id,
            Couple.status,
            Couple.intake_date,
            closed_at,
        )
        .where(Couple.id.in_(couple_ids))
        .order_by(Couple.case_code)
    ).all()
    columns = ["couple_id", "case_code", "counselor_id", "status", "intake_date", "closed_at"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    frame["couple_id"] = frame["couple_id"].astype("int64")
    frame["counselor_id"] = frame["counselor_id"].astype("int64")
    frame["case_code"] = frame["case_code"].astype(object)
    frame["status"] = frame["status"].astype(object)
    frame["intake_date"] = pd.to_datetime(frame["intake_date"])
    # A closing date is the day it was recorded, in UTC, without a time zone.
    closed = pd.to_datetime(frame["closed_at"], utc=True)
    frame["closed_at"] = closed.dt.tz_localize(None).dt.normalize()
    return frame


def review_sessions(db: Session, couple_ids: Select) -> pd.DataFrame:
    """Every live session of the couples, in (couple, date, id) order: SESSION_INPUT."""
    held = case((CoupleSession.attendance.in_(HELD), 1), else_=0)
    query = (
        select(
            CoupleSession.couple_id,
            CoupleSession.id,
            CoupleSession.session_date,
            CoupleSession.attendance,
            held,
            CoupleSession.stage,
            CoupleSession.eii_a,
            CoupleSession.eii_b,
            type_coerce(CoupleSession.safety_flag, Integer),
            CoupleSession.source_a,
            CoupleSession.source_b,
        )
        .where(CoupleSession.deleted_at.is_(None), CoupleSession.couple_id.in_(couple_ids))
        .order_by(CoupleSession.couple_id, CoupleSession.session_date, CoupleSession.id)
    )
    columns = [
        "couple_id",
        "session_id",
        "session_date",
        "attendance",
        "held",
        "stage",
        "eii_a",
        "eii_b",
        "safety_flag",
        "source_a",
        "source_b",
    ]
    frame = _frame(db, query, columns)
    frame["couple_id"] = frame["couple_id"].astype("int64")
    frame["session_id"] = frame["session_id"].astype("int64")
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame["attendance"] = frame["attendance"].astype(object)
    frame["held"] = frame["held"].astype(bool)
    frame["stage"] = frame["stage"].astype("Float64").astype("Int64")
    frame["eii_a"] = frame["eii_a"].astype("float64")
    frame["eii_b"] = frame["eii_b"].astype("float64")
    frame["safety_flag"] = frame["safety_flag"].astype(bool)
    for column in ("source_a", "source_b"):  # who gave each EII; None without one
        frame[column] = frame[column].astype(object)
    return frame


def review_session_counts(
    db: Session, couple_ids: Select, windows: dict[str, tuple[date, date]], start: date, end: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The review's session counts of these couples, counted by the database:

    - per counselor (counselor_id and one column per window): held sessions dated inside
      each named [first, last] window (the couple's counselor; counselors without any
      absent);
    - per day of [start, end]: session_date, attendance, held, sessions (all attendances).

    Two GROUP BY queries instead of every session of the range (domain/review_counts.py).
    """
    held = case((CoupleSession.attendance.in_(HELD), 1), else_=0)
    live = (CoupleSession.deleted_at.is_(None), CoupleSession.couple_id.in_(couple_ids))
    first = min(a for a, _ in windows.values())
    last = max(b for _, b in windows.values())
    counted = [
        func.sum(case((CoupleSession.session_date.between(a, b), 1), else_=0))
        for a, b in windows.values()
    ]
    per_counselor = _frame(
        db,
        select(Couple.counselor_id, *counted)
        .join(Couple, Couple.id == CoupleSession.couple_id)
        .where(*live, CoupleSession.attendance.in_(HELD))
        .where(CoupleSession.session_date.between(first, last))
        .group_by(Couple.counselor_id),
        ["counselor_id", *windows],
    )
    per_day = _frame(
        db,
        select(CoupleSession.session_date, CoupleSession.attendance, held, func.count())
        .where(*live, CoupleSession.session_date.between(start, end))
        .group_by(CoupleSession.session_date, CoupleSession.attendance),
        ["session_date", "attendance", "held", "sessions"],
    )
    return per_counselor, per_day


def summary_rows(
    db: Session, couple_ids: Select, basis: str, columns: Sequence[str]
) -> pd.DataFrame:
    """These columns of the couples' summary rows judged on `basis` (db/summary_models.py),
    untyped, as the database hands them over: one query, no Python per row. The caller
    types them (domain/couple_summary.typed)."""
    query = select(*[getattr(CoupleSummary, c) for c in columns]).where(
        CoupleSummary.couple_id.in_(couple_ids), CoupleSummary.basis == basis
    )
    return _frame(db, query, list(columns), dtype=object)


def review_alliance_totals(db: Session, couple_ids: Select, instrument: str) -> pd.DataFrame:
    """One instrument's totals per live session of the couples, both partners on one row:
    couple_id, session_id, session_date, total_a, total_b (NaN where a partner has none),
    in (couple, date, id) order. For the split-alliance rule (domain/alliance.py)."""

    def partner(p: str) -> ColumnElement[float]:
        return func.max(case((InstrumentTotal.partner == p, InstrumentTotal.total)))

    query = (
        select(
            CoupleSession.couple_id,
            CoupleSession.id,
            CoupleSession.session_date,
            partner("A"),
            partner("B"),
        )
        .join(InstrumentTotal, InstrumentTotal.session_id == CoupleSession.id)
        .where(
            CoupleSession.deleted_at.is_(None),
            CoupleSession.couple_id.in_(couple_ids),
            InstrumentTotal.instrument == instrument,
        )
        .group_by(CoupleSession.couple_id, CoupleSession.id, CoupleSession.session_date)
        .order_by(CoupleSession.couple_id, CoupleSession.session_date, CoupleSession.id)
    )
    columns = ["couple_id", "session_id", "session_date", "total_a", "total_b"]
    frame = _frame(db, query, columns)
    frame["couple_id"] = frame["couple_id"].astype("int64")
    frame["session_id"] = frame["session_id"].astype("int64")
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame["total_a"] = frame["total_a"].astype("float64")
    frame["total_b"] = frame["total_b"].astype("float64")
    return frame


def review_barrier_days(db: Session, couple_ids: Select, start: date, end: date) -> pd.DataFrame:
    """Barrier tags at held sessions in [start, end], summed per day and barrier.

    session_date, barrier (its name), tagged (sessions), severity_sum. A day is the
    finest grain every backend groups the same way; months are formed in pandas.
    """
    rows = db.execute(
        select(
            CoupleSession.session_date,
            Barrier.name,
            func.count(SessionBarrier.id),
            func.sum(SessionBarrier.severity),
        )
        .join(CoupleSession, CoupleSession.id == SessionBarrier.session_id)
        .join(Barrier, Barrier.id == SessionBarrier.barrier_id)
        .where(
            CoupleSession.deleted_at.is_(None),
            CoupleSession.attendance.in_(HELD),
            CoupleSession.session_date.between(start, end),
            CoupleSession.couple_id.in_(couple_ids),
        )
        .group_by(CoupleSession.session_date, Barrier.name)
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["session_date", "barrier", "tagged", "severity_sum"]
    )
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame["barrier"] = frame["barrier"].astype(object)
    frame["tagged"] = frame["tagged"].astype("int64")
    frame["severity_sum"] = frame["severity_sum"].astype("int64")
    return frame


def barrier_choices(db: Session) -> Sequence[tuple[int, str]]:
    """(id, name) of every barrier, active ones first, for the review's filter."""
    rows = db.execute(
        select(Barrier.id, Barrier.name).order_by(
            Barrier.active.desc(), Barrier.sort_order, Barrier.name
        )
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]
