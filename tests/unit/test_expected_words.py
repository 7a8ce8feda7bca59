"""The expected course in words: each partner's sentence, the caseload cell, the numbers
behind them, the order worst first and the attention list's filter (issue 22, point 3).

Models as in test_expected_not_on_track.py: FALLBACK (S_diff 12.5: 10th percentile at
intake − 16.02, 25th at intake − 8.43125, median at intake) and FITTED (by hand: intake
groups centred on 40 and 60, change = a + b·log(rating)).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.domain.expected_response import Alert
from dashboard.domain.need import BY_EXPECTED, EXPECTED_FILTERS, at_expected, order_caseload
from dashboard.domain.outcomes import alert_columns
from dashboard.domain.plain_words import (
    expected_cell,
    expected_numbers,
    expected_sentence,
    status_sentences,
)
from dashboard.domain.review import (
    BELOW_EXPECTED,
    NOT_LISTED_FLAGS,
    NOT_LISTED_REVIEW,
    listed_for,
)
from dashboard.domain.scoring import couple_trajectory
from tests.unit.test_expected_not_on_track import ALERT_SCENARIOS, FALLBACK, FITTED, C, S
from tests.unit.test_outcomes import PARAMS, sessions

# FITTED at intake 50 (halfway between the groups), rating 3 (log 3 = 1.0986):
# group 40: 10th −14 + 1·1.0986, median 0 + 6·1.0986; group 60: 10th −16, median
# −2 + 3·1.0986; halfway: 10th −14.4507, median +3.9437, so 35.549 and 53.944 absolute;
# 25th: (−7 + 3·1.0986 − 9 + 1.0986) / 2 = −5.8028, 44.197 absolute.
P10_AT_3, P25_AT_3, P50_AT_3 = 50 - 14.4507, 50 - 5.8028, 50 + 3.9437


def _alert(points, model):  # type: ignore[no-untyped-def]
    return couple_trajectory(points, PARAMS, model).expected


def test_the_fitted_band_is_the_one_the_words_use() -> None:
    a = _alert(sessions((2, 50.0, 50.0), (2, 50.0, 50.0), (2, 40.0, 50.0)), FITTED).partner_a
    assert a.band is not None
    assert (a.band.p10, a.band.p25, a.band.p50) == pytest.approx(
        (P10_AT_3, P25_AT_3, P50_AT_3), abs=1e-3
    )


def test_each_partners_sentence_under_a_fitted_model() -> None:
    below = _alert(sessions((2, 50.0, 50.0), (2, 50.0, 50.0), (2, 40.0, 50.0)), FITTED)
    assert below.partner_a.alert == Alert.BELOW  # 40 < 44.197, 40 ≥ 35.549
    assert expected_sentence("Priya", below.partner_a, FITTED) == (
        "Priya is below the expected course: 40.0 at the counselor's 3rd rating, where half "
        "of partners who started near 50 are at 53.9 or more."
    )
    # B 50, 50, 50: the 25th is 44.197, so on course.
    assert expected_sentence("Sam", below.partner_b, FITTED) == (
        "Sam is on course: 50.0 at the counselor's 3rd rating, where half of partners who "
        "started near 50 are at 53.9 or more."
    )
    well = _alert(sessions((2, 50.0, 50.0), (2, 50.0, 50.0), (2, 30.0, 50.0)), FITTED)
    assert expected_sentence("Priya", well.partner_a, FITTED) == (
        "Priya is well below the expected course: 30.0 at the counselor's 3rd rating, where "
        "9 in 10 partners who started near 50 are at 35.5 or more."
    )


def test_an_intake_beyond_the_fitted_groups_names_the_nearest_group() -> None:
    # FITTED's groups are centred on 40 and 60; beyond them the nearest group's change is
    # held flat and added to the partner's own intake (expected_response._bands).
    # Intake 15, rating 2 (log 2 = 0.6931), group 40: 10th −14 + 0.6931 = −13.3069,
    # 25th −7 + 3·0.6931 = −4.9206, median 6·0.6931 = +4.1589: 1.693, 10.079, 19.159.
    # 5.0 is under 10.079, not under 1.693: below.
    low = _alert(ALERT_SCENARIOS["A intake 15"], FITTED).partner_a
    assert low.alert == Alert.BELOW
    assert expected_sentence("Priya", low, FITTED) == (
        "Priya is below the expected course: 5.0 at the counselor's 2nd rating, where half "
        "of partners who started near 40, the lowest starting group in the clinic's data, had "
        "improved by 4.2 points or more by then; from Priya's 15.0 that is 19.2 or more."
    )
    # Intake 85, rating 3 (log 3 = 1.0986), group 60: 10th −16 (69.0), 25th
    # −9 + 1.0986 (77.099): 60.0 is under the 10th, well below.
    high = _alert(ALERT_SCENARIOS["A intake 85"], FITTED).partner_a
    assert high.alert == Alert.WELL_BELOW
    assert expected_sentence("Priya", high, FITTED) == (
        "Priya is well below the expected course: 60.0 at the counselor's 3rd rating, where "
        "9 in 10 partners who started near 60, the highest starting group in the clinic's "
        "data, had worsened by no more than 16.0 points by then; from Priya's 85.0 that is "
        "69.0 or more."
    )


def test_the_fallback_says_no_change_is_expected() -> None:
    # 50 → 40 at rating 2: under the 25th (50 − 8.43125 = 41.56875), over the 10th.
    alert = _alert(ALERT_SCENARIOS["A drops 10 at rating 2"], FALLBACK)
    assert expected_sentence("Priya", alert.partner_a, FALLBACK) == (
        "Priya is below the expected course: 40.0 at the counselor's 2nd rating; without "
        "enough of the clinic's own couples no change is expected, and a score unchanged since 50.0 "
        "would read 41.6 or more 3 times in 4."
    )
    # 50 → 33 at rating 2: under the 10th (33.98).
    alert = _alert(ALERT_SCENARIOS["A drops 17 at rating 2"], FALLBACK)
    assert expected_sentence("Priya", alert.partner_a, FALLBACK) == (
        "Priya is well below the expected course: 33.0 at the counselor's 2nd rating; "
        "without enough of the clinic's own couples no change is expected, and a score unchanged since 50.0 "
        "would read 34.0 or more 9 times in 10."
    )


def test_own_answers_and_no_data_yet() -> None:
    # A's own answers 60 then 40 (after two counselor ratings): the self course, rating 2.
    alert = _alert(ALERT_SCENARIOS["A self-reports down"], FALLBACK)
    assert alert.partner_a.source == S
    assert expected_sentence("Priya", alert.partner_a, FALLBACK).startswith(
        "Priya is well below the expected course: 40.0 at Priya's 2nd own answer;"
    )
    one = _alert(sessions((2, 50.0, 50.0), (2, 50.0, None)), FALLBACK)
    assert one.partner_b.alert == Alert.NO_DATA
    assert expected_sentence("Sam", one.partner_b, FALLBACK) == (
        "Sam: no expected course yet; it starts at the second rating from one source "
        "(the counselor's, or their own check-in answers)."
    )
    assert alert.partner_b.source == C


def test_not_on_track_in_plain_words_names_the_partner() -> None:
    t = couple_trajectory(ALERT_SCENARIOS["B drops 17 at rating 3"], PARAMS, FALLBACK)
    assert status_sentences("Priya", "Sam", t)[-1] == (
        "Not on track: Sam is well below the expected course at the counselor's 3rd rating."
    )


def test_the_cell_and_the_numbers_behind_it() -> None:
    assert expected_cell(Alert.ON_COURSE, None) == "on course"
    assert expected_cell(Alert.NO_DATA, None) == "no data yet"
    assert expected_cell(Alert.BELOW, "Partner B") == "below expected — Partner B"
    assert expected_cell(Alert.WELL_BELOW, "Partner A") == "well below expected — Partner A"
    t = couple_trajectory(ALERT_SCENARIOS["A drops 17 at rating 2"], PARAMS, FALLBACK)
    # A: 33 at rating 2 (10th 33.98, 25th 41.56875, median 50); B: 50, on course.
    assert expected_numbers(alert_columns(t.expected), ("Priya", "Sam")) == (
        "Priya: 33.0 at the counselor's 2nd rating, well below expected; expected there: "
        "10th percentile 34.0, 25th 41.6, median 50.0. Sam: 50.0 at the counselor's 2nd "
        "rating, on course; expected there: 10th percentile 34.0, 25th 41.6, median 50.0."
    )
    # 33.97 under 33.98: two decimals, so the score never reads equal to its line.
    t = couple_trajectory(sessions((2, 50.0, 50.0), (2, 33.97, None)), PARAMS, FALLBACK)
    assert expected_numbers(alert_columns(t.expected)) == (
        "Partner A: 33.97 at the counselor's 2nd rating, well below expected; expected "
        "there: 10th percentile 33.98, 25th 41.57, median 50.00."
    )
    assert expected_numbers(alert_columns(None)) == ""
    assert not math.isnan(alert_columns(t.expected)["expected_p10_a"])  # type: ignore[arg-type]


def test_worst_first_and_the_attention_filter() -> None:
    frame = pd.DataFrame(
        {
            "case_code": ["C-1", "C-2", "C-3", "C-4", "C-5"],
            "expected_rank": [1, 3, 0, 2, 3],
            "flags": ["Safety", "Not on track", "Partners diverging", "Safety", "Not on track"],
        }
    )
    ordered = order_caseload(frame, BY_EXPECTED)
    # Well below (3) first, then below (2), on course (1), no data yet (0); case code within.
    assert ordered["case_code"].tolist() == ["C-2", "C-5", "C-4", "C-1", "C-3"]
    assert listed_for(frame, [BELOW_EXPECTED])["case_code"].tolist() == ["C-2", "C-4", "C-5"]
    assert listed_for(frame, ["Safety"])["case_code"].tolist() == ["C-1", "C-4"]
    assert listed_for(frame, [])["case_code"].tolist() == frame["case_code"].tolist()
    # Couples below expected but not listed (below alone is a warning) are found too,
    # after the listed ones, never twice, and only by the expected-course filter.
    listed = frame.assign(couple_id=[1, 2, 3, 4, 5], review="Not reviewed", reviewed=False)
    off = pd.DataFrame(
        {"couple_id": [6, 7, 2], "case_code": ["C-6", "C-7", "C-2"], "expected_rank": [2, 1, 3]}
    ).assign(flags=NOT_LISTED_FLAGS)
    found = listed_for(listed, [BELOW_EXPECTED], off)
    assert found["case_code"].tolist() == ["C-2", "C-4", "C-5", "C-6"]  # C-7 is on course
    assert found["review"].tolist() == ["Not reviewed"] * 3 + [NOT_LISTED_REVIEW]
    assert listed_for(listed, ["Safety"], off)["case_code"].tolist() == ["C-1", "C-4"]
    # An empty list (every listed couple reviewed and hidden) still finds them.
    alone = listed_for(listed.iloc[:0], [BELOW_EXPECTED], off.iloc[:2])
    assert alone["case_code"].tolist() == ["C-6"]


def test_my_caseloads_expected_course_filter() -> None:
    frame = pd.DataFrame(
        {
            "case_code": ["C-1", "C-2", "C-3", "C-4"],
            "expected_alert": [Alert.ON_COURSE, Alert.WELL_BELOW, Alert.NO_DATA, Alert.BELOW],
        }
    )
    assert EXPECTED_FILTERS == ("well below expected", "below expected", "on course", "no data yet")
    below = [Alert.WELL_BELOW.value, Alert.BELOW.value]
    assert at_expected(frame, below)["case_code"].tolist() == ["C-2", "C-4"]
    assert at_expected(frame, ["no data yet"])["case_code"].tolist() == ["C-3"]
    assert at_expected(frame, [])["case_code"].tolist() == ["C-1", "C-2", "C-3", "C-4"]
