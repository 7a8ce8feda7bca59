"""One rounding rule for every shown number: half up (away from zero), one decimal.

Known answers from the issue: EII 51.25 printed 51.2 and 43.75 printed 43.8 (Python
rounds half to even); both now follow the rule a person counts by.
"""

from __future__ import annotations

import math

import pytest

from dashboard.domain.catalog import adherence_word
from dashboard.domain.numbers import half_up, one_decimal, shown


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (51.25, "51.3"),  # EII 41 of 80 item points: 41 / 8 * 10 = 51.25, a tie: up
        (43.75, "43.8"),  # 35 / 8 * 10 = 43.75: up (half-to-even said 43.8 by luck)
        (51.24, "51.2"),
        (0.05, "0.1"),  # 0.05 is 0.05000000000000000277 in binary; the decimal 0.05 rounds up
        (2.5, "2.5"),
        (4.999999999999998, "5.0"),  # 20.4 - 15.4 in floats: noise, not digits
        (0.0, "0.0"),
        (-0.04, "0.0"),  # never "-0.0"
    ],
)
def test_one_decimal_rounds_half_up(value: float, text: str) -> None:
    assert one_decimal(value) == text


def test_python_alone_would_round_these_half_to_even() -> None:
    """Why numbers.py exists: the same ties in Python's own formatting."""
    assert f"{51.25:.1f}" == "51.2"
    assert round(0.125, 2) == 0.12


def test_negative_changes_round_away_from_zero_with_a_true_minus() -> None:
    assert shown(-5.25, 1, signed=True) == "−5.3"
    assert shown(5.25, 1, signed=True) == "+5.3"
    assert half_up(-5.25, 1) == -5.3


def test_other_places_and_missing_values() -> None:
    assert half_up(0.125, 2) == 0.13
    assert half_up(52.857142857142854, 2) == 52.86
    assert shown(0.945, 2) == "0.95"
    assert half_up(2.5, 0) == 3.0
    assert math.isnan(half_up(math.nan, 1))


@pytest.mark.parametrize(
    ("mean", "word"),
    [
        (3.0, "Fully"),
        (2.6, "Fully"),
        (2.5, "Mostly"),  # the case: half the follow-ups fully done is not "Fully"
        (5 / 3, "Mostly"),  # scores 2, 2, 1
        (1.5, "A little"),
        (0.5, "None"),
        (0.0, "None"),
    ],
)
def test_mean_adherence_in_words_never_reads_better_than_it_is(mean: float, word: str) -> None:
    assert adherence_word(mean) == word
