"""The arithmetic behind bench/bench_expected_response.py's figures, on known answers.

The benchmark's sensitivity, false alarms and AUC are what issue 22 judges the expected
course by; a miscounted session or a flipped AUC would make them say the wrong thing.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest

from bench.bench_expected_response import (
    ENDS_IMPROVED,
    ENDS_WORSE,
    auc,
    early_stoppers,
    halves,
    naive_first_flags,
    rated_before,
    rules_first_flags,
    share,
)
from dashboard.domain.scoring import DEFAULT_EII_PARAMS


def frame(courses: dict[int, list[tuple[float | None, float | None]]]) -> pd.DataFrame:
    """A review-shaped sessions frame: per couple, one (eii_a, eii_b) per session, a
    week apart, every session held, no stage, counselor ratings."""
    rows = []
    for couple, pairs in courses.items():
        for n, (a, b) in enumerate(pairs):
            rows.append(
                {
                    "couple_id": couple,
                    "session_id": couple * 100 + n,
                    "session_date": pd.Timestamp(date(2026, 1, 5) + timedelta(weeks=n)),
                    "held": True,
                    "stage": pd.NA,
                    "eii_a": a,
                    "eii_b": b,
                    "source_a": None if a is None else "counselor",
                    "source_b": None if b is None else "counselor",
                }
            )
    out = pd.DataFrame(rows)
    out["stage"] = out["stage"].astype("Int64")
    out["eii_a"] = out["eii_a"].astype("float64")
    out["eii_b"] = out["eii_b"].astype("float64")
    return out


# Couple 1: a held session with no EII for either partner just after
# intake, then partner A drops 25 points at the 3rd rated session. Couple 2: flat but for
# partner A's one point dip at the 2nd rated session.
COURSES = {
    1: [(60.0, 60.0), (None, None), (60.0, 60.0), (35.0, 60.0), (35.0, 60.0)],
    2: [(50.0, 50.0), (49.0, 50.0), (50.0, 50.0), (50.0, 50.0)],
}


def test_rated_sessions_are_counted_per_couple_skipping_unrated_ones() -> None:
    # Couple 1: rated, unrated, rated, rated, rated -> rated sessions before each row
    # 0, 1, 1, 2, 3; couple 2 starts again at 0.
    assert rated_before(frame(COURSES)).tolist() == [0, 1, 1, 2, 3, 0, 1, 2, 3]


def test_todays_rules_flag_at_the_rated_session_of_the_reliable_drop() -> None:
    # Default EII norms: S_diff = 15·√2·√(1 − 0.80) = 9.487; 60 → 35 is RCI −25 / 9.487
    # = −2.64, beyond −1.96 (exclusive): reliable deterioration at the 3rd rated session.
    # Couple 2 never moves reliably, and 4 held sessions are too few for the
    # no-improvement rule (more than 8 held).
    first = rules_first_flags(frame(COURSES), DEFAULT_EII_PARAMS, pd.Index([1, 2]))
    assert first.loc[1, "any"] == 3 and first.loc[1, "det"] == 3
    assert math.isnan(first.loc[2, "any"]) and math.isnan(first.loc[2, "det"])


def test_naive_rule_flags_the_first_rating_strictly_below_intake() -> None:
    # Couple 1: 35 < 60 at the 3rd rated session; couple 2: 49 < 50 at the 2nd.
    first = naive_first_flags(frame(COURSES), pd.Index([1, 2]))
    assert first.to_dict() == {1: 3.0, 2: 2.0}


def test_auc_counts_ties_half() -> None:
    # Worse-ending couples score 3 and 2, improved ones 2 and 1: of the 2 × 2 pairs,
    # 3 > 2, 3 > 1, 2 > 1 win (3) and 2 = 2 is a tie (0.5): AUC = 3.5 / 4 = 0.875.
    classes = pd.Series([ENDS_WORSE, ENDS_WORSE, ENDS_IMPROVED, ENDS_IMPROVED])
    assert auc(pd.Series([3.0, 2.0, 2.0, 1.0]), classes) == pytest.approx(0.875)
    # Reversed scores rank the other way: 1 − 0.875.
    assert auc(pd.Series([-3.0, -2.0, -2.0, -1.0]), classes) == pytest.approx(0.125)


def test_share_flagged_by_a_session_includes_that_session() -> None:
    # Worse-ending couples first flagged at rated sessions 4, 5 and never: by the 4th,
    # 1 of 3 ("by" is inclusive); the improved couple flagged at 2 counts as a false alarm.
    classes = pd.Series([ENDS_WORSE, ENDS_WORSE, ENDS_WORSE, ENDS_IMPROVED], index=[1, 2, 3, 4])
    first = pd.Series([4.0, 5.0, math.nan, 2.0], index=[1, 2, 3, 4])
    assert share(first, classes, ENDS_WORSE, 4) == pytest.approx(1 / 3)
    assert share(first, classes, ENDS_IMPROVED, 4) == 1.0


def test_halves_split_by_couple_and_swap() -> None:
    sessions = frame({c: [(50.0, 50.0), (50.0, 50.0)] for c in range(1, 11)})
    fitted, held_out = halves(sessions)
    assert set(fitted["couple_id"]).isdisjoint(held_out["couple_id"])
    assert fitted["couple_id"].nunique() == 5 and held_out["couple_id"].nunique() == 5
    swapped_fit, swapped_out = halves(sessions, swap=True)
    assert set(swapped_fit["couple_id"]) == set(held_out["couple_id"])
    assert set(swapped_out["couple_id"]) == set(fitted["couple_id"])


def test_early_stoppers_are_the_short_courses_that_ended_without_improving() -> None:
    """Fallback with S_diff 10 (10th percentile 12.816 under intake). Couple 3 stops after
    3 ratings, partner A 50 -> 36 (under 37.184: well below; -14 is not beyond the
    reliable line 19.6, so today's rules say nothing); couple 4 stops after 2 flat ones;
    couple 5 gets better by 25 (improved: not a stopper); couple 6 is still coming (its
    last session is the clinic's last). 2 stoppers, 1 flagged well below, none by rules."""
    from dashboard.domain.expected_response import fallback_model

    sessions = frame(
        {
            3: [(50.0, 50.0), (45.0, 50.0), (36.0, 50.0)],
            4: [(50.0, 50.0), (50.0, 50.0)],
            5: [(40.0, 40.0), (65.0, 65.0)],
            6: [(50.0, 50.0)] * 2 + [(None, None)] * 10 + [(50.0, 50.0)],
        }
    )
    n, well, below, rules = early_stoppers(
        sessions, fallback_model("eii", 10.0), DEFAULT_EII_PARAMS
    )
    assert (n, well, below, rules) == (2, 0.5, 0.5, 0.0)
