"""The overdue rule the caseload flags: active and more than three weeks unseen."""

from __future__ import annotations

import pytest

from dashboard.domain.caseload import OVERDUE_DAYS, is_overdue


def test_three_weeks_is_the_limit() -> None:
    assert OVERDUE_DAYS == 21


@pytest.mark.parametrize(("days", "overdue"), [(0, False), (21, False), (22, True), (400, True)])
def test_an_active_case_is_overdue_after_more_than_21_days(days: int, overdue: bool) -> None:
    assert is_overdue("active", days) is overdue


@pytest.mark.parametrize("status", ["paused", "closed"])
def test_paused_and_closed_cases_are_never_overdue(status: str) -> None:
    assert is_overdue(status, 400) is False
