"""Scoring with known answers: EII, Cronbach's alpha, reliable change, clinical significance.

Every expected number is worked out by hand in the comment beside it, so a reader can
check the arithmetic without running anything. Trajectory rules: test_trajectory.py;
instrument definitions: test_instruments.py.
"""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from dashboard.domain.catalog import INDICATORS, IndicatorKind
from dashboard.domain.scoring import (
    DEFAULT_EII_PARAMS,
    DEFAULT_EII_SD,
    EII_MIN_ITEMS,
    MIN_LOCAL_INTAKES,
    RELIABLE_Z,
    Change,
    Course,
    ReliableChangeParams,
    classify_change,
    couple_eii,
    cronbach_alpha,
    discrepancy,
    eii_params,
    item_score,
    partner_eii,
    rci,
)
from dashboard.domain.validation import SessionInput

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
    inp = SessionInput(
        session_date=None,
        duration_minutes=None,
        format=None,
        attendance=None,
        ratings={"A": {"feel_seen": 0, "talk_honestly": None}},
    )
    assert inp.rated_items("A") == {"feel_seen": 0}
    assert inp.rated_items("B") == {}


# --- EII known answers ------------------------------------------------------------


def test_warning_signs_are_reverse_scored_item_by_item() -> None:
    # A warning sign rated 3 scores 10 - 3 = 7; a sign rated 3 scores 3.
    assert item_score("growing_silence", 3) == 7
    assert item_score("talk_honestly", 3) == 3
    assert item_score("emotional_coldness", 0) == 10


def test_eii_with_reverse_scoring_known_answer() -> None:
    # Signs 8, 6, 7, 9, 5 -> sum 35.
    # Warnings 2, 4, 3 -> reverse-scored 8, 6, 7 -> sum 21.
    # Mean of 8 items = (35 + 21) / 8 = 56 / 8 = 7.0 -> EII 70.0.
    ratings = dict(zip(SIGNS, [8, 6, 7, 9, 5], strict=True)) | dict(
        zip(WARNINGS, [2, 4, 3], strict=True)
    )
    assert partner_eii(ratings) == pytest.approx(70.0)


def test_eii_needs_six_of_eight_items_known_answer() -> None:
    # 6 items: signs 8, 6, 7, 9 and warnings 2 -> 8, 4 -> 6.
    # (8 + 6 + 7 + 9 + 8 + 6) / 6 = 44 / 6 = 7.333... -> EII 73.33
    six = dict(zip(SIGNS[:4], [8, 6, 7, 9], strict=True)) | dict(
        zip(WARNINGS[:2], [2, 4], strict=True)
    )
    assert partner_eii(six) == pytest.approx(44 / 6 * 10)
    assert partner_eii(six) == pytest.approx(73.333, abs=1e-3)
    # Drop one: 5 of 8 items -> no index.
    five = dict(six)
    del five[WARNINGS[1]]
    assert partner_eii(five) is None


# --- Cronbach's alpha -------------------------------------------------------------

# 4 respondents x 3 items.
ALPHA_MATRIX = [
    [1, 2, 3],
    [2, 3, 3],
    [3, 3, 4],
    [4, 5, 5],
]


def test_cronbach_alpha_known_answer() -> None:
    # Sample variances (ddof = 1, divide by n - 1 = 3):
    #   item 1: 1,2,3,4  mean 2.5   SS = 2.25+0.25+0.25+2.25      = 5.00 -> 5/3
    #   item 2: 2,3,3,5  mean 3.25  SS = 1.5625+0.0625+0.0625+3.0625 = 4.75 -> 4.75/3
    #   item 3: 3,3,4,5  mean 3.75  SS = 0.5625+0.5625+0.0625+1.5625 = 2.75 -> 2.75/3
    #   sum of item variances = 12.5/3
    #   totals: 6, 8, 10, 14  mean 9.5  SS = 12.25+2.25+0.25+20.25 = 35 -> 35/3
    # alpha = k/(k-1) * (1 - sum item var / total var) = 3/2 * (1 - 12.5/35)
    #       = 3/2 * 22.5/35 = 27/28 = 0.964286
    assert cronbach_alpha(ALPHA_MATRIX) == pytest.approx(27 / 28)


def test_alpha_uses_complete_rows_only() -> None:
    with_gap = [*ALPHA_MATRIX, [5, None, 1]]
    assert cronbach_alpha(with_gap) == pytest.approx(27 / 28)


def test_alpha_is_undefined_for_too_little_data() -> None:
    assert cronbach_alpha([[1, 2, 3]]) is None  # one respondent
    assert cronbach_alpha([[1], [2], [3]]) is None  # one item
    assert cronbach_alpha([]) is None
    assert cronbach_alpha([[2, 2], [2, 2], [2, 2]]) is None  # totals do not vary


def test_alpha_can_be_negative_when_items_disagree() -> None:
    # Items that move against each other. Rows (1,3), (3,1), (2,2), (3,3):
    # item 1 = 1,3,2,3 mean 2.25 SS 2.75;
    # item 2 = 3,1,2,3 mean 2.25 SS 2.75; totals 4,4,4,6 mean 4.5 SS 3.0
    # alpha = 2 * (1 - 5.5/3) = 2 * (-2.5/3) = -5/3
    assert cronbach_alpha([[1, 3], [3, 1], [2, 2], [3, 3]]) == pytest.approx(-5 / 3)


def test_alpha_refuses_ragged_rows() -> None:
    with pytest.raises(ValueError, match="same number of items"):
        cronbach_alpha([[1, 2, 3], [1, 2]])


# --- Reliable change parameters ---------------------------------------------------


def params(
    sd: float = 7.5,
    reliability: float = 0.84,
    *,
    cutoff: float | None = 60.0,
    override: float | None = None,
) -> ReliableChangeParams:
    return ReliableChangeParams(
        sd=sd,
        reliability=reliability,
        n=40,
        source="locally derived",
        cutoff=cutoff,
        cutoff_method="test cutoff",
        threshold_override=override,
    )


def test_s_diff_threshold_and_rci_known_answer() -> None:
    # SD 7.5, r .84: 1 - r = 0.16, sqrt = 0.4
    # S_diff = 7.5 * sqrt(2) * 0.4 = 3 * sqrt(2) = 4.242641
    # threshold = 1.96 * 4.242641 = 8.315576
    # scores 40 -> 52: RCI = 12 / (3 * sqrt(2)) = 4 / sqrt(2) = 2 * sqrt(2) = 2.828427
    p = params()
    assert p.s_diff == pytest.approx(4.242641, abs=1e-6)
    assert p.threshold == pytest.approx(8.315576, abs=1e-6)
    assert rci(40, 52, p.s_diff) == pytest.approx(2.828427, abs=1e-6)
    assert rci(52, 40, p.s_diff) == pytest.approx(-2.828427, abs=1e-6)


def test_rci_needs_a_positive_s_diff() -> None:
    with pytest.raises(ValueError):
        rci(40, 50, 0)


def test_an_instruments_own_threshold_overrides_jacobson_truax() -> None:
    p = params(override=11.58)
    assert p.threshold == 11.58
    assert p.s_diff == pytest.approx(4.242641, abs=1e-6)  # still there, not used


def test_params_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        params().sd = 3  # type: ignore[misc]


def test_describe_names_method_origin_and_numbers() -> None:
    # SD 8.6, alpha 0.77: S_diff = 8.6 * sqrt(2 * 0.23) = 8.6 * 0.678233 = 5.8328
    # threshold = 1.96 * 5.8328 = 11.432
    p = ReliableChangeParams(
        sd=8.6,
        reliability=0.77,
        n=108,
        source="locally derived",
        cutoff=62.0,
        cutoff_method="criterion a: intake mean 44.1 + 2 SD",
    )
    assert p.describe() == (
        "Jacobson–Truax reliable change, locally derived from 108 intakes: "
        "SD 8.6 (this clinic's intakes), α 0.77, S_diff 5.8 → ±11.4 EII points"
    )
    assert p.describe_cutoff() == "EII cutoff 62.0 (criterion a: intake mean 44.1 + 2 SD)"
    override = ReliableChangeParams(
        sd=None,
        reliability=None,
        n=3,
        source="published",
        cutoff=47.31,
        cutoff_method="Anderson et al. 2014",
        threshold_override=11.58,
        scale="RDAS",
        threshold_source="Anderson et al. 2014",
    )
    assert override.describe() == "RDAS reliable change 11.58 points (Anderson et al. 2014)"


# --- EII parameters from the clinic's intakes -------------------------------------


def intake(scores: list[int]) -> dict[str, int | None]:
    """Raw ratings whose reverse-scored item scores are `scores` (in INDICATORS order)."""
    return {
        i.key: (s if i.kind is IndicatorKind.SIGN else 10 - s)
        for i, s in zip(INDICATORS, scores, strict=True)
    }


LOW = intake([4] * 8)  # EII 40
HIGH = intake([6] * 8)  # EII 60
MIXED = intake([6, 6, 6, 6, 4, 4, 4, 4])  # EII 50


def test_eii_params_are_locally_derived_at_30_intakes() -> None:
    # 10 x LOW20, 10 x HIGH80, 10 x MIXED50: EIIs 20, 80, 50 (item scores 2 / 8).
    # alpha is LOW/HIGH/MIXED's below with every deviation from 5 tripled: alpha does
    # not change with scale, so 20/21 = 0.952381 (worked out in the next test).
    # SD of EIIs 20, 80, 50 (x10): 3 x 8.304548 = 24.913644, above the floor 15: used.
    # S_diff = 24.913644 * sqrt(2 * 1/21) = 24.913644 * 0.3086067 = 7.688517
    # threshold = 1.96 * 7.688517 = 15.069494
    # cutoff (criterion a) = 50 + 2 * 24.913644 = 99.827288
    low, high = intake([2] * 8), intake([8] * 8)
    mixed = intake([8, 8, 8, 8, 2, 2, 2, 2])
    p = eii_params([low] * 10 + [high] * 10 + [mixed] * 10)
    assert p.source == "locally derived" and not p.floor_in_use
    assert p.n == 30 == MIN_LOCAL_INTAKES
    assert p.reliability == pytest.approx(20 / 21)
    assert p.sd == pytest.approx(24.913644, abs=1e-6) == p.local_sd
    assert p.s_diff == pytest.approx(7.688517, abs=1e-6)
    assert p.threshold == pytest.approx(15.069494, abs=1e-6)
    assert p.cutoff == pytest.approx(99.827288, abs=1e-6)
    assert p.cutoff_method == "criterion a: intake mean 50.0 + 2 SD"
    assert p.describe() == (
        "Jacobson–Truax reliable change, locally derived from 30 intakes: "
        "SD 24.9 (this clinic's intakes), α 0.95 (from 30 intakes rated on every item), "
        "S_diff 7.7 → ±15.1 EII points"
    )


def test_a_narrow_clinic_gets_the_documented_floor_sd() -> None:
    # 10 x LOW, 10 x HIGH, 10 x MIXED (reverse-scored item scores).
    # alpha (the n-1 divisors cancel, so one copy of each pattern is enough):
    #   items 1-4 take 4, 6, 6 -> mean 16/3, SS = 16/9 + 4/9 + 4/9 = 8/3
    #   items 5-8 take 4, 6, 4 -> mean 14/3, SS = 4/9 + 16/9 + 4/9 = 8/3
    #   sum of item SS = 8 * 8/3 = 64/3
    #   totals 32, 48, 40 -> mean 40, SS = 64 + 64 + 0 = 128
    #   alpha = 8/7 * (1 - (64/3)/128) = 8/7 * 5/6 = 20/21 = 0.952381
    # SD of EIIs 40, 60, 50 (x10): mean 50, SS = 10 * (100 + 100 + 0) = 2000
    #   SD = sqrt(2000 / 29) = 8.304548, below DEFAULT_EII_SD 15: the floor 15 is used
    #   (alone it would give a band of 1.96 * 8.304548 * 0.3086067 = ±5.02).
    # S_diff = 15 * sqrt(2 * 1/21) = 15 * 0.3086067 = 4.629100
    # threshold = 1.96 * 4.629100 = 9.073037
    # cutoff (criterion a, the clinic's own SD: the floor widens the band only)
    #   = 50 + 2 * 8.304548 = 66.609096
    p = eii_params([LOW] * 10 + [HIGH] * 10 + [MIXED] * 10)
    assert p.source == "locally derived"
    assert p.n == 30 == MIN_LOCAL_INTAKES
    assert p.reliability == pytest.approx(20 / 21)
    assert p.floor_in_use and p.sd == DEFAULT_EII_SD == 15.0
    assert p.local_sd == pytest.approx(8.304548, abs=1e-6)
    assert p.s_diff == pytest.approx(4.629100, abs=1e-6)
    assert p.threshold == pytest.approx(9.073037, abs=1e-6)
    assert p.cutoff == pytest.approx(66.609096, abs=1e-6)
    assert p.cutoff_method == "criterion a: intake mean 50.0 + 2 SD"
    assert p.reliability_n == 30  # every intake here is rated on all 8 items
    assert p.describe() == (
        "Jacobson–Truax reliable change, locally derived from 30 intakes: "
        "SD 15.0 (documented floor; this clinic's intake SD 8.3 is smaller), "
        "α 0.95 (from 30 intakes rated on every item), S_diff 4.6 → ±9.1 EII points"
    )


# The floor's boundary: intake EIIs 35 and 65 (15 each) and 50. Item scores alternate
# 2/5 (EII 35) and 5/8 (EII 65), in both orders, so the items do not all agree.
_B35 = [intake([2, 5] * 4)] * 8 + [intake([5, 2] * 4)] * 7
_B65 = [intake([5, 8] * 4)] * 8 + [intake([8, 5] * 4)] * 7
_B50 = intake([5] * 8)


def test_the_floor_is_not_used_at_exactly_fifteen() -> None:
    # EIIs 35 x15, 65 x15, 50 x1: n 31, mean 50, SS = 30 * 15^2 = 6750,
    #   SD = sqrt(6750 / 30) = 15 exactly: not below the floor, so the clinic's own SD
    #   (inclusive: "never below 15"; the CSI-4's floor rule, reliable_change.py).
    # alpha: odd items take 2 x8, 5 x7, 5 x8, 8 x7, 5 x1: sum 152, sum of squares 880,
    #   SS = 880 - 152^2/31 = 4176/31; even items 5 x8, 2 x7, 8 x8, 5 x7, 5: sum 158,
    #   squares 940, SS = 940 - 158^2/31 = 4176/31; totals 28, 52, 40: SS = 30 * 12^2 = 4320
    #   alpha = 8/7 * (1 - 8 * (4176/31) / 4320) = 0.857757
    # S_diff = 15 * sqrt(2 * 0.142243) = 8.000576; threshold = 1.96 * 8.000576 = 15.681129
    sources = ["counselor"] * 29 + ["self"] * 2
    p = eii_params([*_B35, *_B65, _B50], sources)
    assert p.n == 31 and p.sd == 15.0 == p.local_sd and not p.floor_in_use
    assert p.reliability == pytest.approx(0.857757, abs=1e-6)
    assert p.threshold == pytest.approx(15.681129, abs=1e-6)
    assert p.cutoff == 80.0  # 50 + 2 * 15
    assert (p.counselor_intakes, p.self_intakes) == (29, 2)
    assert p.describe() == (
        "Jacobson–Truax reliable change, locally derived from 31 intakes: "
        "SD 15.0 (this clinic's intakes), α 0.86 (from 31 intakes rated on every item: "
        "29 by the counselor, 2 self-reported), S_diff 8.0 → ±15.7 EII points"
    )


def test_the_floor_is_used_just_below_fifteen() -> None:
    # One more intake at EII 50: SS stays 6750, SD = sqrt(6750 / 31) = 14.756081 < 15.
    # alpha: odd items sum 157, squares 905, SS = 905 - 157^2/32 = 4311/32 (even the
    #   same); alpha = 8/7 * (1 - 8 * (4311/32) / 4320) = 0.857738
    # S_diff = 15 * sqrt(2 * 0.142262) = 8.001116; threshold = 15.682187
    sources = ["counselor"] * 29 + ["self"] * 3
    p = eii_params([*_B35, *_B65, _B50, _B50], sources)
    assert p.n == 32 and p.sd == 15.0 and p.floor_in_use
    assert p.local_sd == pytest.approx(14.756081, abs=1e-6)
    assert p.reliability == pytest.approx(0.857738, abs=1e-6)
    assert p.threshold == pytest.approx(15.682187, abs=1e-6)
    assert p.cutoff == pytest.approx(50 + 2 * 14.756081, abs=1e-6)  # own SD: 79.512163
    assert p.describe() == (
        "Jacobson–Truax reliable change, locally derived from 32 intakes: "
        "SD 15.0 (documented floor; this clinic's intake SD 14.8 is smaller), "
        "α 0.86 (from 32 intakes rated on every item: 29 by the counselor, "
        "3 self-reported), S_diff 8.0 → ±15.7 EII points"
    )


def test_alpha_counts_only_complete_intakes_by_source() -> None:
    # A self-reported intake rated on 6 items counts for the SD, not for alpha's n.
    six = {**_B50, INDICATORS[0].key: None, INDICATORS[1].key: None}
    p = eii_params([*_B35, *_B65, _B50, six], ["counselor"] * 30 + ["self"] * 2)
    assert (p.n, p.reliability_n) == (32, 31)
    assert (p.counselor_intakes, p.self_intakes) == (30, 1)


def test_alpha_names_its_own_n_when_fewer_intakes_are_complete() -> None:
    """The issue's case: SD from 118 intakes, alpha from the 107 rated on all 8 items.
    Here: 30 complete intakes (as above) and 3 more rated on 6 items only."""
    six_of_eight = {**LOW, INDICATORS[0].key: None, INDICATORS[1].key: None}
    p = eii_params([LOW] * 10 + [HIGH] * 10 + [MIXED] * 10 + [six_of_eight] * 3)
    assert (p.n, p.reliability_n) == (33, 30)
    assert p.reliability == pytest.approx(20 / 21)  # alpha from the same 30 rows as above
    assert "locally derived from 33 intakes" in p.describe()
    assert "α 0.95 (from 30 intakes rated on every item)" in p.describe()


def test_eii_params_fall_back_to_the_documented_default_below_30_intakes() -> None:
    p = eii_params([LOW] * 10 + [HIGH] * 10 + [MIXED] * 9)
    assert p.source == "default"
    assert p.n == 29
    assert (p.sd, p.reliability, p.cutoff) == (15.0, 0.80, 65.0)
    # S_diff = 15 * sqrt(2 * 0.2) = 15 * 0.632456 = 9.486833; threshold 18.594193
    assert p.s_diff == pytest.approx(9.486833, abs=1e-6)
    assert p.threshold == pytest.approx(18.594193, abs=1e-6)
    assert p.describe() == (
        "Jacobson–Truax reliable change, documented default (only 29 intakes; 30 needed): "
        "SD 15.0, α 0.80, S_diff 9.5 → ±18.6 EII points"
    )
    assert p.describe_cutoff() == "EII cutoff 65.0 (documented default; only 29 intakes)"
    assert DEFAULT_EII_PARAMS.n == 0  # the shared default is never mutated


def test_intakes_with_too_few_items_do_not_count() -> None:
    thin = {k: v for k, v in list(HIGH.items())[:5]}  # 5 of 8 -> no EII
    p = eii_params([LOW] * 10 + [HIGH] * 10 + [MIXED] * 9 + [thin] * 5)
    assert p.n == 29 and p.source == "default"


def test_six_item_intakes_count_for_sd_but_not_for_alpha() -> None:
    # Items 1-6 of MIXED: 6, 6, 6, 6, 4, 4 -> mean 32/6 -> EII 53.33: it has an EII
    # (counts in n and the SD) but lacks items 7-8 (left out of alpha).
    six = {k: v for k, v in list(MIXED.items())[:6]}
    p = eii_params([LOW] * 10 + [HIGH] * 10 + [MIXED] * 10 + [six])
    assert p.n == 31 and p.source == "locally derived"
    # alpha over the 30 complete intakes only (10 LOW, 10 HIGH, 10 MIXED)
    assert p.reliability == pytest.approx(
        cronbach_alpha([[4] * 8] * 10 + [[6] * 8] * 10 + [[6, 6, 6, 6, 4, 4, 4, 4]] * 10)
    )


def test_alpha_needs_thirty_complete_intakes_too() -> None:
    # 30 intakes with an EII, but only 29 rated on all 8 items: alpha from 29 rows is
    # not trusted, so the documented default applies and says why.
    six = {k: v for k, v in list(MIXED.items())[:6]}
    p = eii_params([LOW] * 10 + [HIGH] * 10 + [MIXED] * 9 + [six])
    assert p.n == 30 and p.source == "default"
    assert "only 29 intakes rated on all 8 items, 30 needed" in p.describe()


def test_unusable_local_alpha_falls_back_to_the_default() -> None:
    # Items that disagree at intake give alpha <= 0: the default is used, and says why.
    a = intake([2, 2, 2, 2, 8, 8, 8, 8])
    b = intake([8, 8, 8, 8, 2, 2, 2, 2])
    c = intake([5, 5, 5, 5, 5, 5, 5, 6])
    p = eii_params([a, b, c] * 10)
    assert p.source == "default" and p.n == 30
    assert p.describe().startswith("Jacobson–Truax reliable change, documented default (local α −")
    assert "unusable" in p.describe()


def test_no_complete_intakes_leave_alpha_uncomputable() -> None:
    # 30 intakes with 7 of 8 items each: every one has an EII, none counts for alpha.
    seven = [{k: v for k, v in list(r.items())[:7]} for r in [LOW, HIGH, MIXED] * 10]
    p = eii_params(seven)
    assert p.source == "default" and p.n == 30
    assert "only 0 intakes rated on all 8 items, 30 needed" in p.describe()


def test_local_cutoff_is_capped_at_100() -> None:
    # EIIs 80 and 100 (x15 each): mean 90, SD = sqrt(15*(100+100)/29) = 10.169 ->
    # 90 + 2 * 10.169 = 110.3 -> capped at 100. Items vary so alpha is defined.
    top = intake([10] * 8)
    eighty = intake([8, 8, 8, 8, 8, 8, 8, 8])
    wobble = intake([9, 9, 9, 9, 7, 7, 7, 7])  # EII 80 as well
    p = eii_params([top] * 15 + [eighty] * 8 + [wobble] * 7)
    assert p.source == "locally derived"
    assert p.cutoff == 100.0
    assert p.cutoff_method.endswith("capped at 100.0")


# --- Classifying change -----------------------------------------------------------

# SD 12.5, r .5: S_diff = 12.5 * sqrt(2 * 0.5) = 12.5 * 1 = 12.5 exactly, so an RCI of
# exactly 1.96 is a change of 1.96 * 12.5 = 24.5 points (all exact in binary).
EXACT = params(12.5, 0.5, cutoff=60.0)


def test_rci_of_exactly_1_96_is_not_reliable() -> None:
    # 40 -> 64.5: RCI = 24.5 / 12.5 = 1.96, not above 1.96.
    result = classify_change(40, 64.5, EXACT)
    assert result.rci == RELIABLE_Z == 1.96
    assert result.status is Change.NO_RELIABLE_CHANGE
    assert result.describe() == "no reliable change (RCI 1.96)"


def test_rci_just_above_1_96_is_reliable() -> None:
    # 40 -> 64.75: RCI = 24.75 / 12.5 = 1.98 > 1.96.
    result = classify_change(40, 64.75, EXACT)
    assert result.rci == pytest.approx(1.98)
    assert result.status is Change.IMPROVED


def test_reliable_deterioration_mirrors_improvement() -> None:
    # 64.5 -> 40: RCI -1.96 (not reliable); 64.75 -> 40: RCI -1.98 (reliable).
    assert classify_change(64.5, 40, EXACT).status is Change.NO_RELIABLE_CHANGE
    worse = classify_change(64.75, 40, EXACT)
    assert worse.status is Change.DETERIORATED
    assert worse.describe() == "reliable deterioration (RCI −2.0)"


def test_float_noise_at_the_line_is_not_a_reliable_change() -> None:
    # S_diff 10 (SD 10, r .5): 59.6 - 40 = 19.600000000000001 in binary, RCI "1.96".
    p = params(10, 0.5)
    assert classify_change(40, 59.6, p).status is Change.NO_RELIABLE_CHANGE
    assert classify_change(40, 59.7, p).status is Change.IMPROVED


def test_lower_is_better_flips_the_direction() -> None:
    assert classify_change(64.75, 40, EXACT, higher_is_better=False).status is Change.IMPROVED


def test_clinically_significant_change_crosses_the_cutoff() -> None:
    # 40 -> 64.75: reliable (RCI 1.98) and from below 60 to above it.
    result = classify_change(40, 64.75, EXACT)
    assert result.clinically_significant
    assert result.meets_cutoff is True
    # RCI 1.98 is shown as "2.0": one decimal, enough while it stays on the same side of 1.96
    assert result.describe() == (
        "clinically significant improvement (RCI 2.0; crossed the cutoff 60.0)"
    )


def test_reliable_improvement_that_stays_below_the_cutoff_is_not_clinically_significant() -> None:
    # 20 -> 44.75: reliable (RCI 1.98) but still below 60.
    result = classify_change(20, 44.75, EXACT)
    assert result.status is Change.IMPROVED and not result.clinically_significant
    assert result.meets_cutoff is False
    assert result.describe() == "reliable improvement (RCI 2.0)"


def test_starting_above_the_cutoff_is_not_crossing_it() -> None:
    # 61 -> 85.75: reliable (RCI 1.98), but it never was on the dysfunctional side.
    assert not classify_change(61, 85.75, EXACT).clinically_significant


def test_reaching_the_cutoff_exactly_counts_as_crossing() -> None:
    # 35.25 -> 60: change 24.75, RCI 1.98; 60 is on the cutoff's good side (>= cutoff).
    assert classify_change(35.25, 60, EXACT).clinically_significant


def test_crossing_without_reliable_change_is_not_clinically_significant() -> None:
    # 50 -> 70: RCI 20 / 12.5 = 1.6: crosses 60 but not reliable.
    result = classify_change(50, 70, EXACT)
    assert result.status is Change.NO_RELIABLE_CHANGE and not result.clinically_significant


def test_no_cutoff_means_never_clinically_significant() -> None:
    result = classify_change(0, 100, params(12.5, 0.5, cutoff=None))
    assert result.status is Change.IMPROVED
    assert not result.clinically_significant and result.meets_cutoff is None


def test_instrument_threshold_is_judged_on_the_difference() -> None:
    p = params(override=11.58, cutoff=47.31)
    # 40 -> 51.5: +11.5 < 11.58 -> not reliable; 40 -> 52: +12 > 11.58 -> reliable
    # (and crosses 47.31).
    below = classify_change(40, 51.5, p)
    assert below.status is Change.NO_RELIABLE_CHANGE and below.rci is None
    assert below.describe() == "no reliable change (+11.5 points; threshold 11.58)"
    above = classify_change(40, 52, p)
    assert above.status is Change.IMPROVED and above.clinically_significant
    # exactly at the threshold is not reliable: 5 -> 16.58 (difference 11.58, float noise)
    assert classify_change(5, 16.58, p).status is Change.NO_RELIABLE_CHANGE


def test_rci_display_never_contradicts_the_status() -> None:
    # RCI 1.964 is reliable; one decimal ("2.0") would be fine, two ("1.96") would not.
    p = params(12.5, 0.5, cutoff=None)
    # 40 -> 64.55: RCI = 24.55 / 12.5 = 1.964
    assert classify_change(40, 64.55, p).describe() == "reliable improvement (RCI 2.0)"
    # 40 -> 64.0: RCI = 24 / 12.5 = 1.92 -> "1.9" (same side of 1.96 as 1.92).
    assert classify_change(40, 64.0, p).describe() == "no reliable change (RCI 1.9)"
    # 40 -> 64.45: RCI = 24.45 / 12.5 = 1.956; one decimal would say "2.0" beside
    # "no reliable change", so two decimals are shown.
    assert classify_change(40, 64.45, p).describe() == "no reliable change (RCI 1.96)"
    assert math.isclose(classify_change(40, 64.45, p).rci or 0, 1.956)


# --- Early change (DOMAIN.md): 4 rated sessions AND 28 days, both inclusive -----------


@pytest.mark.parametrize(
    ("dates", "long_enough"),
    [
        # 4 sessions, 2026-01-05 -> 2026-02-02: 28 days. Both minimums met exactly.
        ([date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19), date(2026, 2, 2)], True),
        # 4 sessions, 2026-01-05 -> 2026-02-01: 27 days. One day short.
        ([date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19), date(2026, 2, 1)], False),
        # 3 sessions over 60 days: one session short.
        ([date(2026, 1, 5), date(2026, 2, 4), date(2026, 3, 6)], False),
        # The case: 3 sessions in 2 weeks.
        ([date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)], False),
    ],
)
def test_a_course_is_long_enough_from_4_sessions_over_28_days(
    dates: list[date], long_enough: bool
) -> None:
    assert Course.of(dates).long_enough is long_enough


def test_clinically_significant_change_on_a_short_course_is_early_change() -> None:
    # SD 7.5, r .84: threshold 8.315576 (above). 40 -> 62: +22, RCI 22 / 4.242641
    # = 5.185450, reliable; 40 below the cutoff 60, 62 at or above it: crossed.
    short = Course.of([date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)])
    early = classify_change(40, 62, params(), course=short)
    assert early.status is Change.IMPROVED
    assert early.early_change and not early.clinically_significant
    assert early.describe() == (
        "early change: reliable improvement (RCI 5.2; crossed the cutoff 60.0; 3 rated "
        "sessions over 14 days, called clinically significant from 4 rated sessions over "
        "28 days)"
    )
    long = Course(sessions=4, days=28)
    lasting = classify_change(40, 62, params(), course=long)
    assert lasting.clinically_significant and not lasting.early_change
    # Without a course (a single judgement with no dates), the old rule stands.
    assert classify_change(40, 62, params()).clinically_significant
    # Early change is only about the "clinically significant" label: a reliable
    # improvement short of the cutoff stays a reliable improvement.
    short_of_cutoff = classify_change(40, 55, params(), course=short)
    assert short_of_cutoff.describe() == "reliable improvement (RCI 3.5)"
    assert not short_of_cutoff.early_change
