"""The progress report says what the timeline says: partners by name (never "Partner A
only"), and a questionnaire result that disagrees with the index says why they can."""

from __future__ import annotations

from datetime import date

from dashboard.domain.instruments import instrument_params, load_instruments
from dashboard.domain.scoring import (
    CoupleTrajectory,
    ReliableChangeParams,
    SessionPoint,
    classify_change,
    couple_trajectory,
)
from dashboard.reports.model import instrument_results, session_table
from tests.unit.test_charts import make_data

EII = ReliableChangeParams(
    sd=12.5, reliability=0.5, n=60, source="locally derived", cutoff=60.0, cutoff_method="a"
)


def test_the_sessions_table_names_who_came() -> None:
    table = session_table(make_data())
    assert table["Attendance"][2] == "Alex only"
    assert not any("Partner" in str(v) for v in table["Attendance"])


def test_a_questionnaire_result_that_disagrees_with_the_index_says_why_in_print() -> None:
    data = make_data()
    csi = instrument_params(load_instruments()["csi4"], [])  # reliable beyond 3.56 points
    # Alex: CSI-4 10 -> 16, reliably better; the index 40 -> 45, about the same.
    changes = {
        ("csi4", "A"): classify_change(10, 16, csi),
        ("csi4", "B"): classify_change(8, 14, csi),
    }
    trajectory = make_trajectory(a=(40.0, 45.0), b=(30.0, 60.0))
    rows = {
        r.Partner: r.Result
        for r in instrument_results(data, changes, trajectory).itertuples()
        if r.Questionnaire == "CSI-4"
    }
    assert rows["Alex"].startswith("Much better than at intake")
    assert "The intimacy index (EII) says Alex is about the same as at intake" in rows["Alex"]
    assert "own margin of error" in rows["Alex"]
    # Sam: both better (CSI-4 +6, index +30 > 24.5): no sentence.
    assert "intimacy index" not in rows["Sam"]
    # Without a trajectory (the older call) nothing is added.
    plain = instrument_results(data, changes)
    assert not plain["Result"].str.contains("intimacy index").any()


def make_trajectory(a: tuple[float, float], b: tuple[float, float]) -> CoupleTrajectory:
    """A couple trajectory whose partners changed first -> last as given."""
    return couple_trajectory(
        [
            SessionPoint(date(2026, 1, 5), True, 1, a[0], b[0]),
            SessionPoint(date(2026, 2, 9), True, 1, a[1], b[1]),
        ],
        EII,
    )
