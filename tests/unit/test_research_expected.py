"""The research extract carries the expected-course alert, not its numbers (issue 22).

Fallback model from the documented EII defaults: S_diff = 15 × √2 × √(1 − .80) = 9.487,
so the 10th percentile sits 1.2816 × 9.487 = 12.16 points under the intake and the 25th
0.6745 × 9.487 = 6.40 under it, at every rating from the 2nd.
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date

import pandas as pd

from dashboard.domain.expected_response import fallback_model
from dashboard.domain.scoring import DEFAULT_EII_PARAMS
from dashboard.reports.research import build_research_extract

MODEL = fallback_model("eii", DEFAULT_EII_PARAMS.s_diff, label="rational fallback (test)")
INTAKE = date(2026, 1, 5)


def _extract(model=MODEL) -> dict[str, object]:  # type: ignore[no-untyped-def]
    # couple id -> (days since intake, EII A) of its sessions; B is never rated.
    courses = {
        1: ((7, 50.0), (21, 30.0)),  # 50 → 30 at rating 2: under 37.84, well below
        2: ((7, 60.0), (21, 62.0)),  # 60 → 62: on course
        3: ((0, 50.0), (7, 20.0)),  # well below, but both ratings in weeks 0-2: one point
        4: ((0, 55.0), (8, 54.0)),  # on course, one point as well
    }
    couples = [
        {"couple_id": c, "intake_date": INTAKE, "status": "active", "closing_reason": None}
        for c in courses
    ]
    sessions = [
        {
            "session_id": c * 10 + n,
            "couple_id": c,
            "session_date": date.fromordinal(INTAKE.toordinal() + day),
            "attendance": "both",
            "stage": None,
            "eii_a": eii,
            "eii_b": None,
        }
        for c, rows in courses.items()
        for n, (day, eii) in enumerate(rows)
    ]
    data = build_research_extract(
        couples=couples,
        sessions=sessions,
        ratings=[],
        barriers=[],
        habits=[],
        instruments=[],
        rng=random.Random(3),
        k=2,
        eii_norms=DEFAULT_EII_PARAMS,
        expected=model,
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            "couples": pd.read_csv(
                archive.open("couples.csv"), encoding="utf-8-sig", dtype=str, keep_default_na=False
            ),
            "points": pd.read_csv(
                archive.open("measurements.csv"), encoding="utf-8-sig", dtype=str
            ),
            "dictionary": pd.read_csv(archive.open("data_dictionary.csv"), encoding="utf-8-sig"),
            "README": archive.read("README.txt").decode(),
        }


def test_the_alert_is_released_without_its_numbers() -> None:
    files = _extract()
    couples, points = files["couples"], files["points"]
    assert len(couples) == 4
    by_points = points.groupby("couple_key").size()
    alerts = {
        (int(by_points[key]), alert, partner)
        for key, alert, partner in couples[
            ["couple_key", "expected_alert", "expected_partner"]
        ].itertuples(index=False)
    }
    assert alerts == {
        (2, "well below expected", "Partner A"),  # couple 1
        (2, "on course", ""),  # couple 2
        # Couples 3 and 4 show one point each: an alert would tell they were rated twice.
        (1, "no data yet", ""),
    }
    assert sorted(couples["expected_alert"]).count("no data yet") == 2
    # Only the alert: no percentile, rating number or expected score anywhere.
    for frame in (couples, points):
        assert not [
            c
            for c in frame.columns
            if c.startswith(("expected_p1", "expected_p2", "expected_p5", "expected_session"))
        ]
    dictionary = files["dictionary"]
    listed = set(dictionary.loc[dictionary["file"] == "couples.csv", "column"])
    assert {"expected_alert", "expected_partner"} <= listed
    assert "Model: rational fallback (test)." in str(files["README"])


def test_without_a_model_the_columns_are_empty() -> None:
    couples = _extract(model=None)["couples"]
    assert set(couples["expected_alert"]) == {""} and set(couples["expected_partner"]) == {""}
