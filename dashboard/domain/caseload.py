"""Caseload rules: when a case is waiting too long for its next session."""

from __future__ import annotations

from dashboard.domain.catalog import CoupleStatus

# An active couple with no held session for more than this many days is overdue.
OVERDUE_DAYS = 21


def is_overdue(status: str, days_without_session: int, limit: int = OVERDUE_DAYS) -> bool:
    """Active and more than `limit` days (the clinic's setting) without a held session.

    `days_without_session` counts from the last held session, or from intake for a
    couple never seen. Paused and closed cases are never overdue.
    """
    return status == CoupleStatus.ACTIVE and days_without_session > limit
