"""The expected-course alert joins the not-on-track rules (issue 22, point 2).

scoring.couple_trajectory(..., expected=model) and outcomes.caseload_outcomes(...,
expected=model) must agree field by field for every scenario of test_outcomes.py, under
the rational fallback and under a fitted model, as they already do without a model.

Known answers use the fallback with S_diff 12.5 (PARAMS: SD 12.5, r .5):
expected_response.fallback_model puts the 10th percentile at intake − 1.2816·12.5 =
intake − 16.02 and the 25th at intake − 0.6745·12.5 = intake − 8.43125, at every rating
from the 2nd on (no change expected; Jacobson & Truax 1991).
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.expected_response import (
    CLINIC,
    MAX_SESSION,
    Alert,
    ExpectedModel,
    SourceCurves,
    fallback_model,
)
from dashboard.domain.outcomes import (
    EXPECTED_COLUMNS,
    TRAJECTORY_FLAGS,
    alert_columns,
    caseload_outcomes,
)
from dashboard.domain.plain_words import expected_cell
from dashboard.domain.scoring import (
    SessionPoint,
    couple_trajectory,
    expected_flag,
)
from tests.unit.test_outcomes import (
    PARAMS,
    SCENARIOS,
    SOURCE_SCENARIOS,
    START,
    assert_agrees,
    frame,
    sessions,
    sourced,
)

C, S = "counselor", "self"
FALLBACK = fallback_model("eii", PARAMS.s_diff, label="fallback (test)", bounds=(0.0, 100.0))
# A fitted model by hand: two intake groups (centres 40 and 60), counselor and self
# curves; change at rating k = a + b·log(k) per percentile (10th, 25th, 50th, 75th),
# tabled per rating as expected_response.SourceCurves holds it.
_COUNSELOR = (
    ((-14.0, 1.0), (-7.0, 3.0), (0.0, 6.0), (6.0, 8.0)),  # intake near 40: gains
    ((-16.0, 0.0), (-9.0, 1.0), (-2.0, 3.0), (4.0, 4.0)),  # intake near 60
)
_SELF = (
    ((-18.0, 0.0), (-10.0, 2.0), (0.0, 4.0), (8.0, 5.0)),
    ((-20.0, 0.0), (-12.0, 0.0), (-3.0, 2.0), (5.0, 3.0)),
)


def _table(lines: tuple) -> tuple:  # type: ignore[type-arg]
    return tuple(
        tuple(tuple(a + b * math.log(k) for a, b in group) for k in range(2, MAX_SESSION + 1))
        for group in lines
    )


FITTED = ExpectedModel(
    "eii",
    {
        C: SourceCurves(CLINIC, 150, 300, (40.0, 60.0), _table(_COUNSELOR)),
        S: SourceCurves(CLINIC, 120, 200, (40.0, 60.0), _table(_SELF)),
    },
    label="expected course v1 (test)",
    bounds=(0.0, 100.0),
)

# Dropping a partner by a few points at a time: every alert at least once.
ALERT_SCENARIOS: dict[str, list[SessionPoint]] = {
    "A drops 10 at rating 2": sessions((2, 50.0, 50.0), (2, 40.0, 50.0)),
    "A drops 17 at rating 2": sessions((2, 50.0, 50.0), (2, 33.0, 50.0)),
    "B drops 17 at rating 3": sessions((2, 50.0, 60.0), (2, 50.0, 58.0), (2, 50.0, 43.0)),
    "both drop 20": sessions((2, 50.0, 60.0), (2, 30.0, 40.0)),
    "A below, B well below": sessions((2, 50.0, 60.0), (2, 40.0, 40.0)),
    "A rises, B one rating": sessions((2, 50.0, 60.0), (2, 70.0, None)),
    "A self-reports down": sourced(
        (50.0, C, 50.0, C), (52.0, C, 50.0, C), (60.0, S, 50.0, C), (40.0, S, 50.0, C)
    ),
    "A self then counselor": sourced((60.0, S, 50.0, C), (30.0, C, 50.0, C)),
    "long course, B sags": sessions(*[(2, 50.0, 50.0 - i) for i in range(14)]),
    "A intake 85": sessions((2, 85.0, 50.0), (2, 70.0, 50.0), (2, 60.0, 50.0)),
    "A intake 15": sessions((2, 15.0, 50.0), (2, 5.0, 50.0)),
    # Alone in a frame, B has no rating anywhere: no data yet, not an error.
    "B never rated": sessions((2, 50.0, None), (2, 30.0, None)),
}
EVERYTHING = {**SCENARIOS, **SOURCE_SCENARIOS, **ALERT_SCENARIOS}


def same(x: object, y: object) -> bool:
    if isinstance(y, float) and math.isnan(y):
        return isinstance(x, float) and math.isnan(x)
    if isinstance(x, float) and isinstance(y, float):
        return x == y
    return x == y and (x is None) == (y is None)


def assert_expected_agrees(
    row: pd.Series, points: list[SessionPoint], model: ExpectedModel
) -> None:
    t = couple_trajectory(points, PARAMS, model)
    assert_agrees(row, t, points)  # every older field, reasons word for word included
    scalar = alert_columns(t.expected)
    for column in EXPECTED_COLUMNS:
        assert same(row[column], scalar[column]), (column, row[column], scalar[column])
    flagged = any(expected_flag(p.alert) for p in (t.expected.partner_a, t.expected.partner_b))
    assert bool(row["below_expected"]) is flagged


@pytest.mark.parametrize("model", [FALLBACK, FITTED], ids=["fallback", "fitted"])
def test_every_scenario_agrees_with_couple_trajectory_under_a_model(model: ExpectedModel) -> None:
    couples = {n + 1: points for n, points in enumerate(EVERYTHING.values())}
    out = caseload_outcomes(frame(couples), PARAMS, model)
    assert "below_expected" in TRAJECTORY_FLAGS
    # Every alert occurs, so the agreement covers each of them.
    assert set(out["expected_alert"]) == set(Alert)
    for couple_id, points in couples.items():
        assert_expected_agrees(out.loc[couple_id], points, model)


@pytest.mark.parametrize("name", list(ALERT_SCENARIOS))
@pytest.mark.parametrize("model", [FALLBACK, FITTED], ids=["fallback", "fitted"])
def test_each_alert_scenario_alone_agrees(name: str, model: ExpectedModel) -> None:
    points = ALERT_SCENARIOS[name]
    out = caseload_outcomes(frame({7: points}), PARAMS, model)
    assert_expected_agrees(out.loc[7], points, model)


def test_a_fitted_model_from_data_agrees_too() -> None:
    """A model fitted by expected_response.fit on a synthetic clinic, not built by hand."""
    from dashboard.domain.expected_response import courses, fit

    rng = np.random.default_rng(22)
    clinic: dict[int, list[SessionPoint]] = {}
    for couple in range(1, 241):
        a, b = rng.uniform(25, 75, size=2)
        clinic[couple] = [
            SessionPoint(
                START + timedelta(weeks=k),
                True,
                2,
                float(a + 4 * math.log(k + 1) + rng.normal(0, 7)) if k else float(a),
                float(b + 4 * math.log(k + 1) + rng.normal(0, 7)) if k else float(b),
            )
            for k in range(int(rng.integers(1, 9)))
        ]
    model = fit(courses(frame(clinic)), measure="eii", fallback_s_diff=PARAMS.s_diff)
    assert not model.uses_fallback(C)
    out = caseload_outcomes(frame(clinic), PARAMS, model)
    assert out["below_expected"].any() and not out["below_expected"].all()
    for couple_id, points in clinic.items():
        assert_expected_agrees(out.loc[couple_id], points, model)


def _one(points: list[SessionPoint], model: ExpectedModel = FALLBACK) -> pd.Series:
    return caseload_outcomes(frame({1: points}), PARAMS, model).loc[1]


def test_exactly_on_the_10th_percentile_is_not_well_below() -> None:
    # Intake 50: 10th percentile 50 − 16.02 = 33.98, 25th 50 − 8.43125 = 41.56875.
    # expected_response's rule: "well below" is STRICTLY under the 10th (on it: not).
    on = _one(sessions((2, 50.0, 50.0), (2, 33.98, 50.0)))
    assert on["expected_alert_a"] == Alert.BELOW  # under the 25th, on the 10th
    assert not on["below_expected"] and not on["not_on_track"]
    under = _one(sessions((2, 50.0, 50.0), (2, 33.97, 50.0)))
    assert under["expected_alert_a"] == Alert.WELL_BELOW
    assert under["below_expected"] and under["not_on_track"]
    # 33.97 and 33.98 both read 34.0 at one decimal: the reason shows two.
    assert under["not_on_track_reasons"] == (
        "Partner A is well below the expected course at the counselor's 2nd rating "
        "(33.97; 10th percentile 33.98)"
    )


def test_below_expected_is_a_warning_not_a_flag() -> None:
    # 50 → 40: under the 25th (41.56875), above the 10th (33.98); −10 is no reliable
    # change either (the line is 1.96 × 12.5 = 24.5 points).
    row = _one(sessions((2, 50.0, 50.0), (2, 40.0, 50.0)))
    assert (row["expected_alert"], row["expected_partner"]) == (Alert.BELOW, "Partner A")
    assert not row["not_on_track"] and row["reasons"] == ""
    assert expected_cell(row["expected_alert"], row["expected_partner"]) == (
        "below expected — Partner A"
    )


def test_well_below_warns_before_reliable_deterioration() -> None:
    # B: 60 → 58 → 43 at rating 3: 17 down, under the 10th (60 − 16.02 = 43.98) but not
    # a reliable deterioration (24.5 points needed): only the new rule flags the couple.
    row = _one(ALERT_SCENARIOS["B drops 17 at rating 3"])
    assert not row["deteriorated_b"] and row["below_expected"]
    assert row["reasons"] == (
        "not on track: Partner B is well below the expected course at the counselor's "
        "3rd rating (43.0; 10th percentile 44.0)"
    )
    assert expected_cell(row["expected_alert"], row["expected_partner"]) == (
        "well below expected — Partner B"
    )


def test_both_partners_well_below_give_a_reason_each() -> None:
    # A 50 → 30 (10th: 33.98), B 60 → 40 (10th: 43.98).
    row = _one(ALERT_SCENARIOS["both drop 20"])
    assert row["expected_partner"] == "both partners"
    assert row["not_on_track_reasons"] == (
        "Partner A is well below the expected course at the counselor's 2nd rating "
        "(30.0; 10th percentile 34.0); "
        "Partner B is well below the expected course at the counselor's 2nd rating "
        "(40.0; 10th percentile 44.0)"
    )
    assert expected_cell(row["expected_alert"], row["expected_partner"]) == (
        "well below expected — both partners"
    )


def test_a_partners_own_check_in_answers_count_on_their_own_course() -> None:
    # A: counselor 50, 52, then A's own answers 60, 40. The latest source (self) has two
    # ratings: A is judged on the self course, intake 60, rating 2: 10th percentile
    # 60 − 16.02 = 43.98, and 40 is under it. On the counselor course (50 → 52) A
    # would be on course.
    row = _one(ALERT_SCENARIOS["A self-reports down"])
    assert row["expected_source_a"] == S
    assert (row["expected_session_a"], row["expected_score_a"]) == (2.0, 40.0)
    assert row["expected_p10_a"] == pytest.approx(60 - 16.02)
    assert row["expected_alert_a"] == Alert.WELL_BELOW and row["not_on_track"]
    assert row["not_on_track_reasons"] == (
        "Partner A is well below the expected course at Partner A's 2nd own answer "
        "(40.0; 10th percentile 44.0)"
    )
    # Under the fitted model's self curve (intake 60: 10th at −20 + 0·log 2): 40 is on it.
    fitted = _one(ALERT_SCENARIOS["A self-reports down"], FITTED)
    assert fitted["expected_p10_a"] == pytest.approx(40.0)
    assert fitted["expected_alert_a"] == Alert.BELOW and not fitted["below_expected"]


def test_no_model_keeps_todays_rules_and_no_alert() -> None:
    out = caseload_outcomes(frame({1: ALERT_SCENARIOS["both drop 20"]}), PARAMS)
    assert not out.loc[1, "below_expected"] and not out.loc[1, "not_on_track"]
    assert out.loc[1, "expected_alert"] is None
    t = couple_trajectory(ALERT_SCENARIOS["both drop 20"], PARAMS)
    assert t.expected is None and not t.not_on_track


def test_moving_the_one_constant_moves_both_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # scoring.NOT_ON_TRACK_ALERT at "below expected": A's 50 → 40 (under the 25th,
    # 41.56875, over the 10th) now puts the couple on the list, scalar and vectorized
    # alike, with the 25th percentile named.
    from dashboard.domain import scoring

    monkeypatch.setattr(scoring, "NOT_ON_TRACK_ALERT", Alert.BELOW.value)
    points = ALERT_SCENARIOS["A drops 10 at rating 2"]
    row = _one(points)
    assert row["below_expected"] and row["not_on_track"]
    assert row["not_on_track_reasons"] == (
        "Partner A is below the expected course at the counselor's 2nd rating "
        "(40.0; 25th percentile 41.6)"
    )
    assert_expected_agrees(row, points, FALLBACK)
