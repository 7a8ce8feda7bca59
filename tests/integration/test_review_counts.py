"""The review's session counts as the database counts them (GROUP BY) equal the counts of
the sessions themselves (domain/review_counts.session_counts), over the demo clinic, on
SQLite and PostgreSQL: the review's per-counselor numbers and charts read the first when
its range ends today and the second for a range ending earlier.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import true
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.domain import review_counts
from db import review_queries

TODAY = date(2026, 12, 3)


def _nonzero(frame: pd.DataFrame) -> pd.DataFrame:
    """The counselors with a held session in some window, by id: the database leaves out
    a counselor with none; the sessions' count lists them with zeros."""
    counted = frame[frame[review_counts.HELD_COLUMNS].sum(axis=1) > 0]
    return counted.sort_values("counselor_id").reset_index(drop=True)


@pytest.mark.parametrize(
    ("statuses", "days"),
    [(("active", "paused"), 365), ((), 120), (("closed",), 700)],
)
def test_the_database_counts_what_the_sessions_count(
    backend: str, db: Session, statuses: tuple[str, ...], days: int
) -> None:
    load_demo(db, today=TODAY, bcrypt_rounds=4)
    start = TODAY - timedelta(days=days)
    chosen = review_queries.with_statuses(
        review_queries.review_couple_ids(
            true(), counselor_ids=None, start=start, end=TODAY, barrier_id=None
        ),
        statuses,
    )
    per_counselor, per_day = review_queries.review_session_counts(
        db, chosen, review_counts.windows(start, TODAY, TODAY), start, TODAY
    )
    couples = review_queries.review_couples(db, chosen)
    sessions = review_queries.review_sessions(db, chosen)
    db.rollback()
    counted = review_counts.session_counts(
        sessions, couples.set_index("couple_id")["counselor_id"], start, TODAY, TODAY
    )

    by_db = _nonzero(review_counts.typed_per_counselor(per_counselor))
    pd.testing.assert_frame_equal(by_db, _nonzero(counted.per_counselor))
    assert by_db["sessions_in_range"].sum() > 0  # the demo holds sessions in each range

    order = ["session_date", "attendance"]
    days_db = review_counts.typed_per_day(per_day).sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        days_db, counted.per_day.sort_values(order).reset_index(drop=True)
    )
    # Every session of the range is counted once: the day counts add up to them.
    in_range = sessions["session_date"].between(pd.Timestamp(start), pd.Timestamp(TODAY))
    assert days_db["sessions"].sum() == int(in_range.sum()) > 0
