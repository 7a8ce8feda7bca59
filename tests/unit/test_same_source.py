"""Like with like (same_source.py): which two ratings a partner's change compares.

PARAMS (test_trajectory.py): S_diff 12.5, so a change is reliable beyond 24.5 points.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.same_source import (
    eii_source,
    first_rating,
    nth_rating,
    ordinal,
    same_source_pair,
)
from dashboard.domain.scoring import Change, partner_trajectory
from tests.unit.test_trajectory import PARAMS

C, S = "counselor", "self"
KEYS = [i.key for i in INDICATORS]


@pytest.mark.parametrize(
    ("sources", "pair"),
    [
        ([C], (None, None, None)),  # baseline only
        ([C, C], (C, 0, 1)),
        ([C, S], (None, None, None)),  # no same-source pair
        ([S, C], (None, None, None)),
        ([C, C, S], (C, 0, 1)),  # latest source has 1 rating: the other's pair
        ([C, S, S], (S, 1, 2)),  # latest source has 2: its own pair
        ([C, S, C], (C, 0, 2)),  # first and latest counselor: the self between is left out
        ([S, S, C, C], (C, 2, 3)),
        ([S, C, S, C, S], (S, 0, 4)),
    ],
)
def test_the_pair_chosen(
    sources: list[str], pair: tuple[str | None, int | None, int | None]
) -> None:
    got = same_source_pair(sources)
    assert (got.source, got.first, got.last) == pair
    assert got.first_source == sources[0] and got.latest_source == sources[-1]


def test_an_eiis_source_at_the_six_item_boundary() -> None:
    # "self" when the partner's own answers alone make an EII (6 of the 8 items).
    six_own = {k: (S if n < 6 else C) for n, k in enumerate(KEYS)}
    five_own = {k: (S if n < 5 else C) for n, k in enumerate(KEYS)}
    assert eii_source(six_own) == S
    assert eii_source(five_own) == C
    assert eii_source(dict.fromkeys(KEYS, C)) == C
    assert eii_source(dict.fromkeys(KEYS[:5], S)) is None  # 5 items: no EII at all
    assert eii_source({**dict.fromkeys(KEYS[:6], S), "not_an_item": S}) == S


def _trajectory(*rows: tuple[float, str]):  # type: ignore[no-untyped-def]
    start = date(2026, 3, 2)
    dates = [start + timedelta(weeks=i) for i in range(len(rows))]
    return partner_trajectory(
        "Partner A", [v for v, _ in rows], PARAMS, dates, [s for _, s in rows]
    )


def test_known_answers_and_the_technical_line() -> None:
    # Counselor 20 -> 50 (+30: RCI 2.4, below the cutoff 60), then Alex's own 10: the
    # counselor's pair.
    t = _trajectory((20.0, C), (50.0, C), (10.0, S))
    assert t.status is Change.IMPROVED and (t.baseline, t.latest) == (20.0, 50.0)
    assert t.describe() == (
        "reliable improvement (RCI 2.4); not comparable yet: baseline rated by the "
        "counselor, latest given in Partner A's own check-in; judged on the counselor's "
        "ratings of 2 Mar 2026 to 9 Mar 2026"
    )
    # Across sources only: not yet measurable, with the words why.
    t = _trajectory((40.0, C), (90.0, S))
    assert t.status is None and t.change is None
    assert t.describe() == (
        "not yet measurable: not comparable yet: baseline rated by the counselor, latest "
        "given in Partner A's own check-in"
    )
    # Before: 40 -> 72 across sources was +32, "improved"; now self 70 -> 72, +2.
    t = _trajectory((40.0, C), (70.0, S), (72.0, S))
    assert t.status is Change.NO_RELIABLE_CHANGE and t.change is not None
    assert t.change.difference == 2.0
    assert t.describe().endswith(
        "; judged on Partner A's own ratings of 9 Mar 2026 to 16 Mar 2026 (the baseline "
        "was rated by the counselor)"
    )
    # The early-change course is that source's sessions: 2 over 7 days here.
    assert t.change.course is not None and (t.change.course.sessions, t.change.course.days) == (
        2,
        7,
    )


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_a_ratings_number_as_said_aloud(n: int, said: str) -> None:
    assert ordinal(n) == said


def test_whose_rating_an_expected_course_is_read_at() -> None:
    assert nth_rating("counselor", "Sam", 3) == "the counselor's 3rd rating"
    assert nth_rating("self", "Sam", 3) == "Sam's 3rd own answer"
    assert (first_rating("counselor"), first_rating("self")) == ("first rating", "first own answer")
