"""When the demo's counselors do not see couples: the clinic's year-end closure and each
counselor's leave (two summer weeks and one more week off a year).

A session that would fall in one moves to the same weekday of the first week the
counselor is back, and the couple's course resumes from there (archetypes._walk). Each counselor's leave is
drawn from a generator of its own (counselor and year), so it is the same whichever
couples they see and leaves every other draw of the clinic as it was.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta

# The clinic closes between Christmas Eve and New Year's Day (inclusive).
YEAR_END = ((12, 24), (1, 1))
# A counselor's summer leave: two weeks from a Monday between these ISO weeks.
SUMMER_WEEKS = (27, 33)
# One more week off, from a Monday in these ISO weeks (spring or autumn).
OTHER_WEEKS = ((8, 22), (38, 46))

Period = tuple[date, date]


@functools.cache
def _year_away(counselor: str, year: int) -> tuple[Period, ...]:
    """The counselor's days away in `year` (the closure that starts in it, and leave)."""
    rng = random.Random(f"bondline-demo-leave:{counselor}:{year}")
    summer = date.fromisocalendar(year, rng.randint(*SUMMER_WEEKS), 1)
    low, high = rng.choice(OTHER_WEEKS)
    other = date.fromisocalendar(year, rng.randint(low, high), 1)
    (m0, d0), (m1, d1) = YEAR_END
    return (
        (date(year, m0, d0), date(year + 1, m1, d1)),
        (summer, summer + timedelta(days=13)),
        (other, other + timedelta(days=6)),
    )


def _away(counselor: str, day: date) -> bool:
    """Is the counselor away (on leave, or the clinic closed) on `day`?"""
    return any(
        start <= day <= end
        for year in (day.year - 1, day.year)
        for start, end in _year_away(counselor, year)
    )


def back_at_work(counselor: str, day: date) -> date:
    """`day`, or, when the counselor is away then, the same weekday in the first week
    they are back: the couple keeps its slot and skips the weeks between."""
    while _away(counselor, day):
        day += timedelta(days=7)
    return day


def away(counselor: str, day: date) -> bool:
    """Is the counselor away (on leave, or the clinic closed) on `day`? (For tests.)"""
    return _away(counselor, day)
