"""Known answers for the research extract's generaliser (reports/anonymity.py).

A table of seven couples small enough to count its classes by hand:

    couple  status  reason        course  held  rated at weeks (both partners)
    1-3     closed  goals_met     4       5     0, 4
    4-5     closed  dropped_out   4       5     0, 4
    6-7     active  -             13      9     0, 4, 13

Bands (anonymity.WEEK_EDGES / SESSION_EDGES, lower bounds inclusive): weeks level 0
0|3|6|12|26|52, level 1 0|3|12|26, level 2 0|3|26, level 3 0|3; held level 0
0|1|2|4|8|16, level 1 0|1|4|12, level 2 0|4.
"""

from __future__ import annotations

import pytest

from dashboard.reports import anonymity
from dashboard.reports.anonymity import (
    MOST_GENERAL,
    WITHHELD,
    Course,
    Levels,
    Rated,
    anonymise,
    band_of,
    below_k,
    choose_levels,
    count_label,
    points_of,
    unique_share,
    week_label,
)


def _course(status: str, reason: str | None, weeks: int, held: int, rated: list[int]) -> Course:
    return Course(
        status, reason, weeks, held, tuple(Rated(i, w, True, True) for i, w in enumerate(rated))
    )


SEVEN = [
    *[_course("closed", "goals_met", 4, 5, [0, 4])] * 3,
    *[_course("closed", "dropped_out", 4, 5, [0, 4])] * 2,
    *[_course("active", None, 13, 9, [0, 4, 13])] * 2,
]


def test_bands_take_their_lower_bound_and_name_the_intake() -> None:
    edges = anonymity.WEEK_EDGES[0]
    assert [band_of(edges, w) for w in (0, 2, 3, 5, 6, 11, 12, 25, 26, 51, 52, 300)] == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
    ]  # fmt: skip
    assert [week_label(edges, b) for b in (0, 1, 5)] == [
        "intake (weeks 0–2)",
        "weeks 3–5",
        "week 52 on",
    ]
    assert week_label(edges, 0, point=False) == "weeks 0–2"  # a course length, not a point
    held = anonymity.SESSION_EDGES[0]
    assert [count_label(held, n) for n in (0, 1, 2, 3, 4, 7, 8, 15, 16, 40)] == [
        "0", "1", "2–3", "2–3", "4–7", "4–7", "8–15", "8–15", "16 or more", "16 or more",
    ]  # fmt: skip


def test_classes_counted_by_hand() -> None:
    # Level 0: {1-3} 3, {4-5} 2, {6-7} 2: with k = 3, four couples below k.
    assert below_k(SEVEN, Levels(0, 0, 0, 0), 3) == 4
    # Closing reason withheld: {1-5} 5, {6-7} 2.
    assert below_k(SEVEN, Levels(1, 0, 0, 0), 3) == 2
    # Open / closed, or status withheld, still leaves 6-7 apart by course (3-5 vs 12-25 weeks).
    assert below_k(SEVEN, Levels(2, 0, 0, 0), 3) == 2
    assert below_k(SEVEN, Levels(3, 0, 0, 0), 3) == 2
    # Everything at its most general: one class of seven.
    assert below_k(SEVEN, MOST_GENERAL, 3) == 0
    assert below_k(SEVEN, Levels(0, 0, 0, 0), 2) == 0


def test_the_least_generalisation_that_puts_everyone_in_a_class_of_k() -> None:
    """6-7 join 1-5 only with status withheld (3), course at weeks 3-25 (2: 4 and 13 in
    one band), held at 4-11 (1: 5 and 9), points intake + weeks 3-25 (2): height 8, and
    no other node of height 8 or less does it (7 x 0.05 allows no couple below k)."""
    assert choose_levels(SEVEN, 3) == Levels(3, 2, 1, 2)
    done = anonymise(SEVEN, 3)
    assert (done.withheld, done.left_out, len(done.released)) == (0, 0, 7)
    assert list(done.class_sizes().values()) == [7]


def test_couples_below_k_are_withheld_then_left_out() -> None:
    # At level 0 with k = 3: 4-5 and 6-7 (classes of 2) are withheld; all four share the
    # coarsest points (intake, week 3 on), a class of 4: released, nothing left out.
    done = anonymise(SEVEN, 3, Levels(0, 0, 0, 0))
    assert (done.withheld, done.left_out) == (4, 0)
    withheld = [r for r in done.released if r.withheld]
    assert {(r.status, r.closing_reason, r.course, r.sessions) for r in withheld} == {
        (WITHHELD,) * 4
    }
    assert {tuple(p.label for p in r.points) for r in withheld} == {
        ("intake (weeks 0–2)", "week 3 on")
    }
    assert sorted(done.class_sizes().values()) == [3, 4]
    # With the closing reason withheld, only 6-7 are withheld: a class of 2 < 3, left out.
    done = anonymise(SEVEN, 3, Levels(1, 0, 0, 0))
    assert (done.withheld, done.left_out, len(done.released)) == (0, 2, 5)


def test_a_point_prefers_both_partners_first_at_intake_last_after() -> None:
    rated = (
        Rated(1, 0, True, False),  # week 0, partner A only
        Rated(2, 1, True, True),  # week 1, both: the intake point
        Rated(3, 4, True, True),  # week 4, both: the weeks 3-5 point
        Rated(4, 5, True, False),  # week 5, A only: passed over for session 3
        Rated(5, 7, False, True),  # week 7, B only, alone in weeks 6-11: taken
    )
    points = points_of(Course("active", None, 7, 5, rated), 0)
    assert [(p.label, p.session_id, p.a, p.b) for p in points] == [
        ("intake (weeks 0–2)", 2, True, True),
        ("weeks 3–5", 3, True, True),
        ("weeks 6–11", 5, False, True),
    ]
    assert [(p.weeks_from, p.weeks_to) for p in points] == [(0, 2), (3, 5), (6, 11)]


def test_unique_share_and_k_below_2() -> None:
    assert unique_share([("a",), ("a",), ("b",), ("c",)]) == 0.5
    assert unique_share([]) == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        anonymise(SEVEN, 1)


def test_which_instruments_a_point_carries_is_a_quasi_identifier() -> None:
    """Three couples alike but for an SRS total at one couple's intake (its counselor
    records the SRS): apart at instruments level 0, one class of three at level 1."""
    srs = frozenset({("A", "srs"), ("B", "srs")})
    plain = _course("active", None, 4, 3, [0, 4])
    given = Course("active", None, 4, 3, (Rated(0, 0, True, True, srs), Rated(1, 4, True, True)))
    three = [plain, plain, given]
    assert below_k(three, Levels(0, 0, 0, 0, 0), 2) == 1
    assert below_k(three, Levels(0, 0, 0, 0, 1), 3) == 0
    assert [p.instruments for p in points_of(given, 0)] == [(("A", "srs"), ("B", "srs")), ()]
    # A partner without an EII at the point does not show theirs (it would tell who came).
    alone = Course("active", None, 0, 1, (Rated(0, 0, True, False, srs),))
    assert [p.instruments for p in points_of(alone, 0)] == [(("A", "srs"),)]
    assert choose_levels(three, 3) == Levels(0, 0, 0, 0, 1)
