"""Known answers of the expected course (issue 22, point 5)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.expected_response import (
    CLINIC,
    FALLBACK,
    MIN_COUPLES,
    Alert,
    Band,
    ExpectedModel,
    alert,
    caseload_alerts,
    couple_alert,
    courses,
    fallback_model,
    fit,
    partner_alerts,
)
from dashboard.domain.same_source import COUNSELOR, SELF
from dashboard.domain.scoring import SessionPoint

SIGMA = 8.0  # the known curve's rating-to-rating spread


def _slope(intake: float) -> float:
    """The known curve: change at rating k = slope(intake)·log(k); lower intakes gain more."""
    return 10.0 - 0.1 * (intake - 50.0)


def _known_sessions(couples: int, seed: int = 7, ratings: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    start = date(2026, 1, 5)
    for couple in range(1, couples + 1):
        intakes = {key: rng.uniform(20, 80) for key in ("a", "b")}
        for k in range(1, ratings + 1):
            row = {"couple_id": couple, "session_id": couple * 100 + k, "held": True}
            row["session_date"] = pd.Timestamp(start + timedelta(weeks=k))
            for key, x in intakes.items():
                noise = 0.0 if k == 1 else rng.normal(0, SIGMA)
                row[f"eii_{key}"] = x + _slope(x) * math.log(k) + noise
                row[f"source_{key}"] = COUNSELOR
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def known_model() -> ExpectedModel:
    return fit(courses(_known_sessions(1500)), measure="eii", fallback_s_diff=9.5)


@pytest.mark.parametrize("intake", [35.0, 50.0, 65.0])
@pytest.mark.parametrize("k", [2, 4, 8])
def test_the_fitted_curve_recovers_the_known_one(
    known_model: ExpectedModel, intake: float, k: int
) -> None:
    """Within 1.5 EII points of the generating curve at the middle intakes (3,000
    partners, 1,500 couples, spread 8): p50 = intake + slope·log k, p25 = that - 0.6745·8
    (= 5.40), p10 = that - 1.2816·8 (= 10.25)."""
    band = known_model.band(COUNSELOR, intake, k)
    assert band is not None and known_model.curves[COUNSELOR].method == CLINIC
    median = intake + _slope(intake) * math.log(k)
    assert band.p50 == pytest.approx(median, abs=1.5)
    assert band.p25 == pytest.approx(median - 5.396, abs=1.5)
    assert band.p10 == pytest.approx(median - 10.253, abs=1.5)
    assert band.p75 == pytest.approx(median + 5.396, abs=1.5)


def test_a_score_on_a_band_edge_is_on_its_better_side() -> None:
    """Fallback with S_diff 10, intake 50, rating 2: p25 = 50 - 0.6745·10 = 43.255, p10 =
    50 - 1.2816·10 = 37.184. Strictly under is below (module docstring): exactly on the
    25th percentile is on course, exactly on the 10th is below, not well below."""
    model = fallback_model("eii", 10.0)
    band = model.band(COUNSELOR, 50.0, 2)
    assert band == Band(
        2, pytest.approx(37.184), pytest.approx(43.255), 50.0, pytest.approx(56.745)
    )
    assert alert(band, 43.255) is Alert.ON_COURSE
    assert alert(band, 43.25) is Alert.BELOW
    assert alert(band, 37.184) is Alert.BELOW
    assert alert(band, 37.18) is Alert.WELL_BELOW
    assert alert(model.band(COUNSELOR, 50.0, 1), 10.0) is Alert.NO_DATA  # rating 1 is intake


def test_on_a_lower_is_better_scale_below_means_worse() -> None:
    """Distress-like scale: intake 20, S_diff 4: the 10th percentile of outcome is 20 +
    1.2816·4 = 25.13; 26 is well below expected, 18 on course."""
    model = fallback_model("distress", 4.0, higher_is_better=False)
    band = model.band(COUNSELOR, 20.0, 3)
    assert band is not None and band.p10 == pytest.approx(25.1264)
    assert alert(band, 26.0, higher_is_better=False) is Alert.WELL_BELOW
    assert alert(band, 18.0, higher_is_better=False) is Alert.ON_COURSE


def test_the_fallback_takes_over_below_the_minimum_and_says_so() -> None:
    enough = courses(_known_sessions(MIN_COUPLES, ratings=3))
    fewer = enough[enough["couple_id"] < MIN_COUPLES]  # 99 couples
    local = fit(enough, measure="eii", fallback_s_diff=9.5)
    fallback = fit(fewer, measure="eii", fallback_s_diff=9.5)
    assert not local.uses_fallback(COUNSELOR)
    assert fallback.uses_fallback(COUNSELOR)
    assert fallback.curves[COUNSELOR].method == FALLBACK
    assert fallback.curves[COUNSELOR].couples == MIN_COUPLES - 1
    text = fallback.method_text(COUNSELOR)
    assert "Rational fallback: 99 couples" in text and "needs 100" in text
    assert "Jacobson & Truax" in text and "below the first rating" in text
    assert "below the partner's first own answer" in fallback.method_text(SELF)
    # No self-reports at all: the self course is the fallback too, never a made-up fit.
    assert local.uses_fallback(SELF)
    # No S_diff (no reliable-change value): no band at all, so no alert is claimed.
    assert fit(fewer, measure="x", fallback_s_diff=None).band(COUNSELOR, 50.0, 2) is None


def test_the_model_survives_storage(known_model: ExpectedModel) -> None:
    again = ExpectedModel.from_json(known_model.with_label("expected course v1").to_json())
    assert again.label == "expected course v1"
    assert again.band(COUNSELOR, 42.0, 5) == known_model.band(COUNSELOR, 42.0, 5)


def _random_points(rng: random.Random) -> list[SessionPoint]:
    points = []
    day = date(2026, 1, 5)
    for _ in range(rng.randint(0, 9)):
        day += timedelta(days=7)
        eii = [None if rng.random() < 0.2 else rng.uniform(10, 90) for _ in range(2)]
        src = [SELF if rng.random() < 0.3 else COUNSELOR for _ in range(2)]
        points.append(SessionPoint(day, True, None, eii[0], eii[1], src[0], src[1]))
    return points


def _frame(couples: dict[int, list[SessionPoint]]) -> pd.DataFrame:
    """The caseload-shaped sessions frame of some couples' session points."""
    return pd.DataFrame(
        [
            {
                "couple_id": cid,
                "session_id": cid * 100 + n,
                "session_date": pd.Timestamp(p.session_date),
                "held": p.held,
                "eii_a": p.eii_a,
                "eii_b": p.eii_b,
                "source_a": p.source_a,
                "source_b": p.source_b,
            }
            for cid, points in couples.items()
            for n, p in enumerate(points)
        ]
    )


def test_the_caseload_form_agrees_with_the_couple_form(known_model: ExpectedModel) -> None:
    """Vectorized = scalar, field by field, over random couples with mixed sources, for a
    fitted model (counselor) with the fallback (self)."""
    rng = random.Random(3)
    couples = {cid: _random_points(rng) for cid in range(1, 400)}
    frame = _frame(couples)
    table = caseload_alerts(frame, known_model)
    seen = set()
    for cid, points in couples.items():
        if not points:
            continue
        one = couple_alert(points, known_model)
        row = table.loc[cid]
        assert row["alert_a"] == one.partner_a.alert and row["alert_b"] == one.partner_b.alert
        assert row["alert"] == one.alert and row["alert_partner"] == one.partner
        seen.add(one.alert)
    assert {Alert.ON_COURSE, Alert.BELOW, Alert.WELL_BELOW, Alert.NO_DATA} <= seen


def test_a_partner_is_judged_on_the_course_of_their_latest_source() -> None:
    """Counselor-rated 50, 52, then two self-reports 60 and 45: judged on the self course
    (rating 2, intake 60; fallback S_diff 10: p10 = 60 - 12.816 = 47.18), so 45 is well
    below; the counselor ratings are not compared with the partner's own answers."""
    model = fallback_model("eii", 10.0)
    d = date(2026, 1, 5)
    points = [
        SessionPoint(d + timedelta(weeks=i), True, None, x, 50.0, src, COUNSELOR)
        for i, (x, src) in enumerate(
            [(50.0, COUNSELOR), (52.0, COUNSELOR), (60.0, SELF), (45.0, SELF)]
        )
    ]
    judged = couple_alert(points, model)
    assert judged.partner_a.source == SELF and judged.partner_a.session == 2
    assert judged.partner_a.alert is Alert.WELL_BELOW
    assert judged.partner == "Partner A"
    assert judged.partner_a.band is not None and round(judged.partner_a.band.p10, 3) == 47.184
    rows = courses(_frame({1: points}))
    every = partner_alerts(rows, model)
    assert list(every[rows["partner"] == "a"]) == [
        Alert.NO_DATA,
        Alert.ON_COURSE,
        Alert.NO_DATA,
        Alert.WELL_BELOW,
    ]


def test_one_couple_is_one_couple_in_the_words() -> None:
    one = courses(_known_sessions(1, ratings=2))
    text = fit(one, measure="eii", fallback_s_diff=9.5).method_text(COUNSELOR)
    assert "Rational fallback: 1 couple has a second rating from counselor ratings" in text


def _declining_high_intakes(couples: int) -> pd.DataFrame:
    """Partners starting at 60 or more lose 4 points a rating (half of them), the rest
    hold: the clinic's own 10th percentile at rating 6 for an intake of 70 is far under
    intake (about -20), below the reliable-change line."""
    rows = []
    for couple in range(1, couples + 1):
        intake = 40.0 + (couple % 40)
        falls = intake >= 60 and couple % 2 == 0
        for k in range(1, 8):
            score = intake - (4.0 * (k - 1) if falls else 0.0) + (couple % 3) - 1
            if k == 1:
                score = intake
            rows.append(
                {
                    "couple_id": couple,
                    "session_id": couple * 100 + k,
                    "session_date": pd.Timestamp(date(2026, 1, 5) + timedelta(weeks=k)),
                    "held": True,
                    "eii_a": score,
                    "eii_b": score,
                    "source_a": COUNSELOR,
                    "source_b": COUNSELOR,
                }
            )
    return pd.DataFrame(rows)


def test_a_reliable_deterioration_is_never_on_course() -> None:
    """S_diff 5: the reliable-change line is 1.96·5 = 9.8 points. Without the floor, the
    10th percentile at rating 6 for an intake of 70 sits 20 points under intake (half of
    the group fell 4 a rating); with it, at 70 - 9.8 = 60.2, so 60.0 (a reliable
    deterioration) is well below expected; 60.2 exactly (RCI exactly 1.96, not beyond it)
    is not, and the 25th percentile, floored too, leaves it on course."""
    model = fit(courses(_declining_high_intakes(400)), measure="eii", fallback_s_diff=5.0)
    band = model.band(COUNSELOR, 70.0, 6)
    assert band is not None and not model.uses_fallback(COUNSELOR)
    assert band.p10 == pytest.approx(70.0 - 9.8)
    assert alert(band, 60.0) is Alert.WELL_BELOW
    assert band.p25 == pytest.approx(60.2)
    assert alert(band, 60.2) is Alert.ON_COURSE
    assert (
        "never sit further below the first score than the reliable-change line"
        in model.method_text(COUNSELOR)
    )


def test_intake_groups_sharing_a_median_still_give_a_band() -> None:
    """Integer intakes piled at the top of a scale (a questionnaire at its ceiling): 400
    of 600 partners start at exactly 20, so several intake groups share the median 20;
    every intake still gets a band, the top ones the merged group's."""
    rows = []
    for couple in range(1, 301):
        intake = 20.0 if couple <= 200 else float(couple % 15)
        for k in range(1, 5):
            score = intake + (couple % 5) - 2 if k > 1 else intake
            rows.append(
                {
                    "couple_id": couple,
                    "session_id": couple * 10 + k,
                    "session_date": pd.Timestamp(date(2026, 1, 5) + timedelta(weeks=k)),
                    "held": True,
                    "eii_a": score,
                    "eii_b": score,
                    "source_a": COUNSELOR,
                    "source_b": COUNSELOR,
                }
            )
    model = fit(courses(pd.DataFrame(rows)), measure="csi4", fallback_s_diff=2.0)
    centers = model.curves[COUNSELOR].centers
    assert centers[-1] == 20.0 and len(set(centers)) == len(centers)
    for intake in (20.0, 21.0, 7.0):
        band = model.band(COUNSELOR, intake, 3)
        assert band is not None and all(math.isfinite(v) for v in (band.p10, band.p50))
