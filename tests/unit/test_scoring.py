"""EII inputs: which ratings count, the 6-of-8 rule, the couple mean and discrepancy.

Item-level reverse-scoring rules get their own tests with the scoring issue; here the
warning signs are only checked to pull the index the right way.
"""

from __future__ import annotations

import pytest

from dashboard.domain.catalog import INDICATORS, IndicatorKind
from dashboard.domain.scoring import EII_MIN_ITEMS, couple_eii, discrepancy, partner_eii
from dashboard.domain.validation import SessionInput, rating_map

SIGNS = [i.key for i in INDICATORS if i.kind is IndicatorKind.SIGN]
WARNINGS = [i.key for i in INDICATORS if i.kind is IndicatorKind.WARNING]


def _ratings(sign: int | None, warning: int | None) -> dict[str, int | None]:
    return {**dict.fromkeys(SIGNS, sign), **dict.fromkeys(WARNINGS, warning)}


def test_best_possible_ratings_give_100_and_worst_give_0() -> None:
    assert partner_eii(_ratings(10, 0)) == pytest.approx(100)
    assert partner_eii(_ratings(0, 10)) == pytest.approx(0)


def test_warning_signs_pull_the_index_down() -> None:
    calm = partner_eii(_ratings(7, 1))
    tense = partner_eii(_ratings(7, 9))
    assert calm is not None and tense is not None
    assert tense < calm


def test_index_is_the_mean_of_the_rated_items_scaled_to_100() -> None:
    # Signs at 8, warnings at 2 (-> 8 after reverse scoring): every item scores 8.
    assert partner_eii(_ratings(8, 2)) == pytest.approx(80)


def test_six_of_eight_items_are_enough() -> None:
    assert EII_MIN_ITEMS == 6
    ratings = _ratings(5, 5)
    ratings[SIGNS[0]] = None
    del ratings[WARNINGS[0]]
    assert partner_eii(ratings) == pytest.approx(50)


def test_five_items_are_too_few_for_an_index() -> None:
    ratings = {key: 9 for key in SIGNS}
    assert partner_eii(ratings) is None
    assert partner_eii({}) is None


def test_blank_items_are_left_out_not_counted_as_zero() -> None:
    ratings = _ratings(10, 0)
    ratings[SIGNS[0]] = None
    ratings[SIGNS[1]] = None
    assert partner_eii(ratings) == pytest.approx(100)


def test_a_zero_rating_counts() -> None:
    ratings = _ratings(10, 0)
    ratings[SIGNS[0]] = 0
    assert partner_eii(ratings) == pytest.approx(87.5)


def test_couple_index_is_the_mean_of_both_partners() -> None:
    assert couple_eii(60.0, 80.0) == pytest.approx(70)
    assert couple_eii(60.0, None) is None
    assert couple_eii(None, 80.0) is None


def test_discrepancy_is_the_absolute_gap() -> None:
    assert discrepancy(80.0, 55.0) == pytest.approx(25)
    assert discrepancy(55.0, 80.0) == pytest.approx(25)
    assert discrepancy(None, 80.0) is None


def test_blank_ratings_are_dropped_before_saving() -> None:
    assert rating_map({"feel_seen": 0, "talk_honestly": None}) == {"feel_seen": 0}
    inp = SessionInput(
        session_date=None,
        duration_minutes=None,
        format=None,
        attendance=None,
        ratings={"A": {"feel_seen": 0, "talk_honestly": None}},
    )
    assert inp.rated_items("A") == {"feel_seen": 0}
    assert inp.rated_items("B") == {}
