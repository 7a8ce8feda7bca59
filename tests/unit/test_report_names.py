"""The progress report says what the timeline says: partners by name (never "Partner A
only"), and a questionnaire result that disagrees with the index says why they can."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from dashboard.domain.instruments import instrument_params, load_instruments
from dashboard.domain.scoring import (
    ChangeResult,
    CoupleTrajectory,
    ReliableChangeParams,
    SessionPoint,
    classify_change,
    couple_trajectory,
)
from dashboard.domain.workings import WHY_NOTE
from dashboard.reports.model import (
    ProgressReport,
    instrument_results,
    progress_report,
    session_table,
)
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
    # The cell says what the index says; why both can be right is said once, under it.
    assert rows["Alex"].endswith(". The index (EII) says Alex is about the same as at intake")
    # Sam: both better (CSI-4 +6, index +30 > 24.5): nothing added.
    assert "The index (EII)" not in rows["Sam"]
    table = instrument_results(data, changes, trajectory)
    report = _report(trajectory, changes)
    assert report.instruments.equals(table)
    assert report.instruments_note == WHY_NOTE
    assert "both can be right" in WHY_NOTE and "margin of error" in WHY_NOTE
    # Where every questionnaire agrees with the index: no note.
    agreeing = _report(make_trajectory(a=(30.0, 60.0), b=(30.0, 60.0)), changes)
    assert agreeing.instruments_note == ""
    # Without a trajectory (the older call) nothing is added.
    plain = instrument_results(data, changes)
    assert not plain["Result"].str.contains("The index", regex=False).any()


def test_the_note_prints_under_the_questionnaires_in_both_reports(tmp_path: Path) -> None:
    from dashboard.reports.pdf import build_progress_report

    csi = instrument_params(load_instruments()["csi4"], [])
    changes = {("csi4", "A"): classify_change(10, 16, csi)}
    trajectory = make_trajectory(a=(40.0, 45.0), b=(30.0, 60.0))
    for summary in (False, True):
        report = _report(trajectory, changes, summary_only=summary)
        path = tmp_path / f"r{summary}.pdf"
        path.write_bytes(build_progress_report(report, {}, "Charts are not drawn in this test."))
        text = " ".join(
            subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
            ).stdout.split()
        )
        assert "The index (EII) says Alex is about the same as at intake" in text, summary
        assert "both can be right: a questionnaire asks the partner" in text, summary
        assert "margin of error" in text, summary


def _report(
    trajectory: CoupleTrajectory,
    changes: dict[tuple[str, str], ChangeResult],
    *,
    summary_only: bool = False,
) -> ProgressReport:
    return progress_report(
        make_data(),
        trajectory,
        EII,
        instrument_changes=changes,
        clinic_name="C",
        counselor="Co",
        generated_on=date(2026, 2, 10),
        summary_only=summary_only,
    )


def make_trajectory(a: tuple[float, float], b: tuple[float, float]) -> CoupleTrajectory:
    """A couple trajectory whose partners changed first -> last as given."""
    return couple_trajectory(
        [
            SessionPoint(date(2026, 1, 5), True, 1, a[0], b[0]),
            SessionPoint(date(2026, 2, 9), True, 1, a[1], b[1]),
        ],
        EII,
    )
