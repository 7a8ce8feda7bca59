"""A couple's outcome from its partners (couple_outcome.py), at every category boundary.

Statuses come from couple_trajectory with S_diff = 12.5 exactly (SD 12.5, r .5): a
change of 24.5 points is RCI 1.96, NOT reliable (|RCI| must be above 1.96, Jacobson &
Truax 1991); 24.75 is RCI 1.98, reliable. So each category's edge is one partner moving
24.5 (stays out) or 24.75 (comes in).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from dashboard.domain.couple_outcome import (
    BOTH_IMPROVED,
    DETERIORATED,
    MIXED,
    NO_CHANGE,
    ONE_IMPROVED,
    OUTCOMES,
    TOO_EARLY,
    couple_outcome,
    couple_outcomes,
)
from dashboard.domain.outcomes import caseload_outcomes
from dashboard.domain.scoring import Change, ReliableChangeParams, SessionPoint, couple_trajectory

PARAMS = ReliableChangeParams(
    sd=12.5, reliability=0.5, n=40, source="locally derived", cutoff=60.0, cutoff_method="test"
)
START = date(2026, 1, 5)
UP, NONE, DOWN = Change.IMPROVED, Change.NO_RELIABLE_CHANGE, Change.DETERIORATED

# Every pair of partner statuses (None: cannot be judged yet), worst case first.
TABLE = [
    (UP, DOWN, MIXED),
    (DOWN, UP, MIXED),
    (DOWN, DOWN, DETERIORATED),
    (DOWN, NONE, DETERIORATED),
    (NONE, DOWN, DETERIORATED),
    (DOWN, None, DETERIORATED),
    (None, DOWN, DETERIORATED),
    (UP, UP, BOTH_IMPROVED),
    (UP, NONE, ONE_IMPROVED),
    (NONE, UP, ONE_IMPROVED),
    (UP, None, ONE_IMPROVED),
    (None, UP, ONE_IMPROVED),
    (NONE, NONE, NO_CHANGE),
    (NONE, None, NO_CHANGE),
    (None, NONE, NO_CHANGE),
    (None, None, TOO_EARLY),
]


def test_the_table_covers_every_pair_once() -> None:
    pairs = {(a, b) for a, b, _ in TABLE}
    assert len(pairs) == len(TABLE) == 16  # (improved, none, deteriorated, None) squared
    assert {o for *_, o in TABLE} == set(OUTCOMES)


@pytest.mark.parametrize(("a", "b", "outcome"), TABLE)
def test_scalar(a: Change | None, b: Change | None, outcome: str) -> None:
    assert couple_outcome(a, b) == outcome


def test_vectorized_equals_scalar() -> None:
    index = pd.Index([10 + n for n in range(len(TABLE))], name="couple_id")
    a = pd.Series([row[0] for row in TABLE], index=index, dtype=object)
    b = pd.Series([row[1] for row in TABLE], index=index, dtype=object)
    got = couple_outcomes(a, b)
    assert list(got.index) == list(index)
    assert got.tolist() == [row[2] for row in TABLE]


def test_a_deteriorated_partner_is_never_improved_or_unchanged() -> None:
    for a, b, outcome in TABLE:
        if DOWN in (a, b):
            assert outcome in (MIXED, DETERIORATED)


def test_chart_order() -> None:
    assert OUTCOMES == (
        "Both improved",
        "One partner improved",
        "No reliable change",
        "Mixed: one improved, one deteriorated",
        "Deteriorated",
        "Not yet measurable",
    )


def _points(a: list[float | None], b: list[float | None]) -> list[SessionPoint]:
    return [
        SessionPoint(START + timedelta(weeks=i), True, 2, x, y)
        for i, (x, y) in enumerate(zip(a, b, strict=True))
    ]


# Boundaries from real EIIs: one partner at the line (24.5: no) or just past it (24.75).
BOUNDARIES = {
    "A +24.75, B -24.75": ([40.0, 64.75], [60.0, 35.25], MIXED),
    "A +24.75, B -24.5 (at the line)": ([40.0, 64.75], [60.0, 35.5], ONE_IMPROVED),
    "A +24.5 (at the line), B -24.75": ([40.0, 64.5], [60.0, 35.25], DETERIORATED),
    "A +24.5, B -24.5 (both at the line)": ([40.0, 64.5], [60.0, 35.5], NO_CHANGE),
    "A +24.75, B +24.75": ([40.0, 64.75], [40.0, 64.75], BOTH_IMPROVED),
    "A +24.75, B +24.5 (at the line)": ([40.0, 64.75], [40.0, 64.5], ONE_IMPROVED),
    "A +24.75, B baseline only": ([40.0, 64.75], [50.0, None], ONE_IMPROVED),
    "A -24.75, B baseline only": ([40.0, 15.25], [50.0, None], DETERIORATED),
    "A +24.5, B baseline only": ([40.0, 64.5], [50.0, None], NO_CHANGE),
    "both baseline only": ([40.0, None], [None, 50.0], TOO_EARLY),
    "no ratings": ([None, None], [None, None], TOO_EARLY),
    # The couple mean says no reliable change ((40+60)/2 = 50 -> (64.75+35.25)/2 = 50),
    # the partners say mixed.
    "couple mean flat, partners opposite": ([40.0, 64.75], [60.0, 35.25], MIXED),
}


@pytest.mark.parametrize("name", list(BOUNDARIES))
def test_boundaries_scalar_and_vectorized(name: str) -> None:
    a, b, outcome = BOUNDARIES[name]
    points = _points(a, b)
    t = couple_trajectory(points, PARAMS)
    assert couple_outcome(t.partner_a.status, t.partner_b.status) == outcome
    frame = pd.DataFrame(
        {
            "couple_id": 1,
            "session_id": range(len(points)),
            "session_date": [pd.Timestamp(p.session_date) for p in points],
            "held": True,
            "stage": pd.array([2] * len(points), dtype="Int64"),
            "eii_a": pd.array(a, dtype="float64"),
            "eii_b": pd.array(b, dtype="float64"),
        }
    )
    assert caseload_outcomes(frame, PARAMS).loc[1, "outcome"] == outcome
