"""Read-side queries behind the expected course (issue 22): the partners' ratings as
caseload-shaped frames, and how many couples have a course yet. Set-based, no loop.

The EII frame is db/review_queries.review_sessions (the review reads the same rows);
instrument totals are shaped the same way here, their total in the `eii_a`/`eii_b`
columns, so one pure function (domain/expected_response.courses) reads both.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from sqlalchemy import ColumnElement, Select, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from db.models import Couple, CoupleSession, InstrumentTotal
from db.queries import HELD
from db.review_queries import _frame

EII = "eii"


def live_couples() -> Select:
    """Every couple not deleted, whatever its status: closed couples' courses are the
    most complete ones a fit has."""
    return select(Couple.id).where(Couple.deleted_at.is_(None))


def instrument_sessions(db: Session, couple_ids: Select, instrument: str) -> pd.DataFrame:
    """One instrument's totals per live session of the couples, caseload-shaped:
    couple_id, session_id, session_date, held, eii_a, eii_b (the totals, NaN where a
    partner has none), source_a, source_b, in (couple, date, id) order."""

    def partner(p: str, column: ColumnElement) -> ColumnElement:
        return func.max(case((InstrumentTotal.partner == p, column)))

    held = case((CoupleSession.attendance.in_(HELD), 1), else_=0)
    query = (
        select(
            CoupleSession.couple_id,
            CoupleSession.id,
            CoupleSession.session_date,
            func.max(held),
            partner("A", InstrumentTotal.total),
            partner("B", InstrumentTotal.total),
            partner("A", InstrumentTotal.source),
            partner("B", InstrumentTotal.source),
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
    columns = [
        "couple_id",
        "session_id",
        "session_date",
        "held",
        "eii_a",
        "eii_b",
        "source_a",
        "source_b",
    ]
    frame = _frame(db, query, columns)
    frame["couple_id"] = frame["couple_id"].astype("int64")
    frame["session_id"] = frame["session_id"].astype("int64")
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame["held"] = frame["held"].astype(bool)
    frame["eii_a"] = frame["eii_a"].astype("float64")
    frame["eii_b"] = frame["eii_b"].astype("float64")
    for column in ("source_a", "source_b"):
        frame[column] = frame[column].astype(object)
    return frame


def _live_sessions() -> ColumnElement[bool]:
    return CoupleSession.deleted_at.is_(None) & Couple.deleted_at.is_(None)


def couples_with_courses(db: Session, *, instruments: bool = True) -> dict[str, dict[str, int]]:
    """measure -> source -> couples in which a partner has at least two ratings of that
    measure from that source (a course that reaches a 2nd rating), in one query. A
    source without such a couple is absent; an EII with no source given counts as the
    counselor's (as expected_response.courses reads it). `instruments=False`: the EII
    only (whether v1 is due), without reading the instrument totals."""
    parts = []
    for key in ("a", "b"):
        score = getattr(CoupleSession, f"eii_{key}")
        source = func.coalesce(getattr(CoupleSession, f"source_{key}"), "counselor")
        parts.append(
            select(
                literal(EII).label("measure"),
                source.label("source"),
                CoupleSession.couple_id.label("couple_id"),
            )
            .join(Couple, Couple.id == CoupleSession.couple_id)
            .where(_live_sessions(), score.is_not(None))
            .group_by(source, CoupleSession.couple_id)
            .having(func.count() >= 2)
        )
    if instruments:
        parts.append(
            select(
                InstrumentTotal.instrument.label("measure"),
                InstrumentTotal.source.label("source"),
                CoupleSession.couple_id.label("couple_id"),
            )
            .join(CoupleSession, CoupleSession.id == InstrumentTotal.session_id)
            .join(Couple, Couple.id == CoupleSession.couple_id)
            .where(_live_sessions())
            .group_by(
                InstrumentTotal.instrument,
                InstrumentTotal.source,
                CoupleSession.couple_id,
                InstrumentTotal.partner,
            )
            .having(func.count() >= 2)
        )
    courses = union_all(*parts).subquery()
    rows = db.execute(
        select(
            courses.c.measure,
            courses.c.source,
            func.count(func.distinct(courses.c.couple_id)),
        ).group_by(courses.c.measure, courses.c.source)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for measure, source, n in rows:
        counts[str(measure)][str(source)] = int(n)
    return dict(counts)
