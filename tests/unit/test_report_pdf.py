"""The couple progress report PDF, built from a hand-made `ProgressReport` (no database,
no browser); read back with poppler's pdftotext / pdfinfo / pdfimages."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from dashboard.domain.plain_words import case_status
from dashboard.domain.safety import SafetyFlag
from dashboard.reports.model import (
    BARRIER_COLUMNS,
    HABIT_COLUMNS,
    NOTES_EXCLUDED,
    SAFETY_NOTE_WITHHELD,
    SAFETY_NOTES_NOT_INCLUDED,
    STAGE_COLUMNS,
    ProgressReport,
    SessionNote,
)
from dashboard.reports.pdf import build_progress_report

NAME_A = "Zoë Ångström — Nguyễn"
NAME_B = "Łukasz Øster-Ñúñez"
STATISTICS = f"{NAME_A}: RCI 2.4 · {NAME_B}: RCI 0.8 · couple: RCI 2.0"
DIVERGING = f"Partners diverging: {NAME_A} and {NAME_B} rated the relationship far apart."
DAP = "She described the argument about the holiday in detail."
MISSING = "Charts are not included: no Chromium browser is installed on this server."


def _report(*, sessions: int = 6, notes: bool = False) -> ProgressReport:
    rows = [
        [f"{i} Mar 2026", "Both partners", "2. Trust and Vulnerability", "48.0", "51.5"]
        for i in range(1, sessions + 1)
    ]
    return ProgressReport(
        clinic_name="Clinique Émile & Søn",
        case_code="C-2026-0042",
        partner_a=NAME_A,
        partner_b=NAME_B,
        counselor="Cara Couns",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, min(sessions, 31)),
        generated_on=date(2026, 11, 1),
        flags=("Partners diverging",),
        status_lines=(
            f"{NAME_A} (partner A): reliable improvement (RCI 2.4)",
            f"{NAME_B} (partner B): no reliable change (RCI 0.8)",
            "The couple: reliable improvement (RCI 2.0)",
            DIVERGING,
        ),
        statistics=STATISTICS,
        method="Jacobson–Truax reliable change, documented default: SD 15, α 0.80.",
        stage_history=pd.DataFrame(
            [["1 Mar 2026", "1. Curiosity and Comfort", "First rating"]], columns=STAGE_COLUMNS
        ),
        barrier_summary=pd.DataFrame(
            [["Stress and distraction", 3, "2.3 (moderate)", "Mild, 6 Mar 2026"]],
            columns=BARRIER_COLUMNS,
        ),
        habits=pd.DataFrame(
            [["Daily check-in", 2, "1 of 2", "Mostly (2.0 of 3)"]], columns=HABIT_COLUMNS
        ),
        sessions=pd.DataFrame(
            rows, columns=["Date", "Attendance", "Stage", f"EII {NAME_A}", f"EII {NAME_B}"]
        ),
        include_notes=notes,
        notes=(SessionNote(date(2026, 3, 1), "Both partners", DAP, "Stuck.", "Breathe."),)
        if notes
        else (),
    )


def _png(width: int = 300, height: int = 150) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (0, 114, 178)).save(buf, format="PNG")
    return buf.getvalue()


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return path


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    assert match, info.stdout
    return int(match.group(1))


def pdf_images(path: Path) -> int:
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return len(listing) - 2  # two header lines


CHARTS = {"timeline": _png(900, 450), "radar": _png(900, 500), "barriers": _png(900, 300)}


def test_names_status_and_page_numbers_print(tmp_path: Path) -> None:
    path = _write(tmp_path, build_progress_report(_report(), CHARTS, None))
    text = pdf_text(path)
    joined = flat(text)
    assert NAME_A in text and NAME_B in text
    assert "C-2026-0042" in text and "Clinique Émile & Søn" in text
    assert f"Numbers. {STATISTICS}" in joined
    # The status once: the flag is its own line with its reasons, not a second heading.
    assert joined.count("Partners diverging") == 1 and DIVERGING in joined
    assert "Jacobson–Truax" in joined and "α 0.80" in joined
    n = pdf_pages(path)
    assert f"Page 1 of {n}" in text and f"Page {n} of {n}" in text
    assert pdf_images(path) == 3


def test_notes_excluded_says_so(tmp_path: Path) -> None:
    text = flat(pdf_text(_write(tmp_path, build_progress_report(_report(), CHARTS, None))))
    assert NOTES_EXCLUDED in text
    assert DAP not in text


def test_notes_included_print_the_dap_text(tmp_path: Path) -> None:
    report = _report(notes=True)
    text = flat(pdf_text(_write(tmp_path, build_progress_report(report, CHARTS, None))))
    assert DAP in text and "Assessment: Stuck." in text
    assert NOTES_EXCLUDED not in text


def test_missing_charts_leave_a_reason_and_no_images(tmp_path: Path) -> None:
    path = _write(tmp_path, build_progress_report(_report(), {}, MISSING))
    assert MISSING in flat(pdf_text(path))
    assert pdf_images(path) == 0
    assert pdf_pages(path) == 2  # the tables of a short case fill one page and a bit


def test_a_long_session_table_runs_onto_more_pages_with_its_header(tmp_path: Path) -> None:
    path = _write(tmp_path, build_progress_report(_report(sessions=120), {}, MISSING))
    n = pdf_pages(path)
    assert n >= 3
    text = pdf_text(path)
    # The header row repeats on every page the table runs onto.
    assert text.count("Attendance") >= n - 1
    assert f"Page {n} of {n}" in text


def test_only_png_charts_are_accepted() -> None:
    with pytest.raises(ValueError, match="PNG"):
        build_progress_report(_report(), {"timeline": b"GIF89a" + b"\0" * 30}, None)


def test_the_reports_habit_table_says_mostly_for_a_mean_of_2_5() -> None:
    """make_data: "Keep communication open and honest" followed up with 2 then 3, mean
    (2 + 3) / 2 = 2.5: "Mostly", not "Fully" (the old round-half-up of the word)."""
    from dashboard.reports.model import habit_summary
    from tests.unit.test_charts import make_data

    table = habit_summary(make_data()).set_index("Habit")
    assert table.loc["Keep communication open and honest"].iloc[-1] == "Mostly (2.5 of 3)"


def test_every_questionnaire_the_couple_has_is_in_words_and_its_chart_is_printed() -> None:
    """make_data: CSI-4 for both partners (A 10 -> 13 -> 15, B 8 -> 11 -> 14) and RDAS
    for A (40 -> 45). Each gets a row: first, latest, and the result in the timeline's
    words; the report then prints the questionnaire chart too."""
    from dashboard.domain.instruments import instrument_params, load_instruments
    from dashboard.domain.scoring import classify_change
    from dashboard.reports.model import INSTRUMENT_COLUMNS, REPORT_CHARTS, instrument_results
    from tests.unit.test_charts import make_data

    data = make_data()
    # CSI-4 below 30 intakes: default SD 5.25, alpha .94, threshold 3.56 (test_instruments).
    # A +5 and B +6 exceed it; both cross 13.5. RDAS +5 is within its 11.58.
    definitions = load_instruments()
    changes = {
        ("csi4", "A"): classify_change(10, 15, instrument_params(definitions["csi4"], [])),
        ("rdas", "A"): classify_change(40, 45, instrument_params(definitions["rdas"], [])),
    }
    table = instrument_results(data, changes)
    assert list(table.columns) == INSTRUMENT_COLUMNS
    rows = {(r.Questionnaire, r.Partner): r for r in table.itertuples()}
    name_a, name_b = data.partner_a, data.partner_b
    assert (rows["CSI-4", name_a].First, rows["CSI-4", name_a].Latest) == ("10", "15")
    assert rows["CSI-4", name_a].Result.startswith("Much better than at intake")
    # No course given: where the total stands against the published cutoff is said, in
    # the definition file's words, its source as written (not "anderson et al.").
    assert rows["RDAS", name_a].Result == (
        "About the same as at intake: any change is within measurement noise, below the "
        "range of couples not in distress (cutoff 47.31, Anderson et al. 2014)"
    )
    # B's CSI-4 change is not in `changes`: said so, never guessed.
    assert rows["CSI-4", name_b].Result.startswith("Not judged")
    # One total is a baseline, with no "latest".
    first_only = dataclasses.replace(data, instruments=data.instruments.iloc[:3])
    single = instrument_results(first_only, {}).set_index("Questionnaire")
    assert tuple(single.loc["RDAS", ["Latest", "Result"]]) == (
        "",
        "One total so far: the baseline",
    )
    report = _report()
    assert "instruments" not in report.chart_keys  # nothing recorded: no empty chart
    with_totals = dataclasses.replace(report, instruments=table)
    assert with_totals.chart_keys == REPORT_CHARTS


def test_the_printed_timeline_never_asks_for_a_mouse() -> None:
    from dashboard import charts
    from tests.unit.test_charts import make_data

    on_screen = {t.name for t in charts.all_figures(make_data())["timeline"].data}
    on_paper = {t.name for t in charts.all_figures(make_data(), for_print=True)["timeline"].data}
    assert "Barriers tagged (hover for details)" in on_screen
    assert "Barriers tagged (listed in the barrier summary)" in on_paper
    assert not any("hover" in str(name) for name in on_paper)


def test_the_one_page_summary_is_one_page_with_the_status_and_the_timeline(
    tmp_path: Path,
) -> None:
    """Summary: facts, status, the timeline (shrunk to stay on the page) and what the
    full report adds; no tables, no notes even when asked for."""
    report = dataclasses.replace(_report(sessions=30, notes=True), summary_only=True)
    assert report.chart_keys == ("timeline",)
    path = _write(tmp_path, build_progress_report(report, {"timeline": _png(900, 900)}, None))
    text = flat(pdf_text(path))
    assert pdf_pages(path) == 1
    assert pdf_images(path) == 1
    assert DIVERGING in text and f"Numbers. {STATISTICS}" in text
    assert text.count("One-page summary.") == 1
    # It says what it is, in the title and the page header; the full report likewise.
    assert "Couple progress summary" in text and "C-2026-0042 · progress summary" in text
    assert "progress report" not in text
    assert "C-2026-0042 · progress report" in flat(
        pdf_text(path_full := _write(tmp_path, build_progress_report(_report(), CHARTS, None)))
    )
    assert "Couple progress report" in flat(pdf_text(path_full))
    assert "Stage history" not in text and "Sessions Date" not in text
    assert DAP not in text


def test_the_session_count_says_how_many_were_held(tmp_path: Path) -> None:
    """15 rows of which 1 no-show: "15 (14 held, 1 no-show)", not a bare 15 beside 14
    rated sessions; every session held: just the number."""
    report = _report(sessions=15)
    assert report.session_count == "15"
    missed = report.sessions.copy()
    missed.loc[3, "Attendance"] = "No-show"
    missed.loc[7, "Attendance"] = "Cancelled"
    missed.loc[8, "Attendance"] = "Cancelled"
    missed.loc[9, "Attendance"] = "Partner A only"
    report = dataclasses.replace(report, sessions=missed)
    # 15 rows - 1 no-show - 2 cancelled = 12 held (one partner alone counts as held).
    assert report.session_count == "15 (12 held, 1 no-show, 2 cancelled)"
    text = flat(pdf_text(_write(tmp_path, build_progress_report(report, CHARTS, None))))
    assert "Sessions 15 (12 held, 1 no-show, 2 cancelled)" in text


def test_the_report_says_whether_the_case_is_open_paused_or_closed(tmp_path: Path) -> None:
    """A report read months later must not leave a closed couple looking open."""
    assert case_status("active", None, None) == "Active"
    assert case_status("paused", None, date(2026, 10, 3)) == "Paused since 3 Oct 2026"
    closed = case_status("closed", "goals_met", date(2026, 4, 12))
    assert closed == "Closed 12 Apr 2026 (Goals met)"
    assert case_status("closed", "dropped_out", date(2026, 4, 12)).endswith("(Stopped attending)")
    report = dataclasses.replace(_report(), case_status=closed)
    text = flat(pdf_text(_write(tmp_path, build_progress_report(report, CHARTS, None))))
    assert "Status Closed 12 Apr 2026 (Goals met)" in text
    # No status given (an older caller): no empty "Status" line.
    assert "Status" not in flat(
        pdf_text(_write(tmp_path, build_progress_report(_report(), CHARTS, None)))
    )


def test_a_partners_own_answers_carry_the_diamond_in_print(tmp_path: Path) -> None:
    """make_data: Alex's ratings at the last two sessions are their own check-in answers."""
    from dashboard.reports.model import session_table
    from tests.unit.test_charts import make_data

    table = session_table(make_data())
    assert table["EII Alex"].tolist()[4:] == [
        f"{table['EII Alex'][4].split()[0]} ◆",
        f"{table['EII Alex'][5].split()[0]} ◆",
    ]
    assert not any("◆" in v for v in table["EII Alex"][:4]) and not any(
        "◆" in v for v in table["EII Sam"]
    )
    report = dataclasses.replace(_report(), sessions=table)
    assert report.sessions_title == "Sessions (◆ the partner's own check-in answers)"
    text = flat(pdf_text(_write(tmp_path, build_progress_report(report, {}, MISSING))))
    assert "Sessions (◆ the partner's own check-in answers)" in text
    assert text.count("◆") == 3  # the heading and the two marked values
    assert _report().sessions_title == "Sessions"


def test_the_charts_title_never_stays_behind_on_its_own(tmp_path: Path) -> None:
    """Whatever the chart's height, "Charts" prints on the page of its first chart (it
    once stayed alone at the foot of page 1 while a chart that just missed moved on)."""
    long_status = dataclasses.replace(
        _report(),
        status_lines=_report().status_lines
        + tuple(f"A status line {n} that fills the page a little more." for n in range(9)),
    )
    for height in range(620, 740, 4):  # 4 px: about 0.6 mm of printed chart a step
        path = _write(
            tmp_path, build_progress_report(long_status, {"timeline": _png(900, height)}, None)
        )
        listing = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        chart_page = int(listing[0].split()[0])
        page_text = subprocess.run(
            ["pdftotext", "-f", str(chart_page), "-l", str(chart_page), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Charts" in page_text, f"a {height} px chart is on page {chart_page}, alone"


SAFETY_FLAGS = (
    SafetyFlag(date(2026, 8, 31), True, "Shouting during an argument; safety plan reviewed."),
    SafetyFlag(date(2026, 9, 14), False, f"{NAME_A} feels afraid when the doorway is blocked."),
    SafetyFlag(date(2026, 11, 9), True, "Voices raised again; both agreed to take a break."),
)


def test_safety_has_its_own_section_with_dates_and_the_joint_sessions_notes(
    tmp_path: Path,
) -> None:
    """Every flagged session of the course, before the status: the dates in one line, the
    counselor's note of each joint session; an individual session's note stays out of
    this joint report (only its date prints)."""
    report = dataclasses.replace(_report(notes=True), safety=SAFETY_FLAGS)
    text = flat(pdf_text(_write(tmp_path, build_progress_report(report, CHARTS, None))))
    line = "Safety flag at 3 sessions: 31 Aug 2026, 14 Sep 2026, 9 Nov 2026"
    assert line in text
    assert text.index("Safety " + line) < text.index("Trajectory status")
    assert "31 Aug 2026: Shouting during an argument; safety plan reviewed." in text
    assert "9 Nov 2026: Voices raised again; both agreed to take a break." in text
    assert f"14 Sep 2026: {SAFETY_NOTE_WITHHELD}" in text
    assert "doorway" not in text
    # Made without session notes (for a referrer, a supervisor's batch): the dates, and
    # no text the counselor typed.
    bare = dataclasses.replace(_report(notes=False), safety=SAFETY_FLAGS)
    text = flat(pdf_text(_write(tmp_path, build_progress_report(bare, CHARTS, None))))
    assert line in text
    assert SAFETY_NOTES_NOT_INCLUDED in text
    assert "Shouting" not in text and "Voices raised" not in text and "doorway" not in text
    # No flag in the course: no Safety section at all.
    calm = flat(pdf_text(_write(tmp_path, build_progress_report(_report(), CHARTS, None))))
    assert "Safety" not in calm


def test_the_one_page_summary_gives_the_safety_dates_and_stays_one_page(tmp_path: Path) -> None:
    report = dataclasses.replace(
        _report(sessions=30, notes=True), summary_only=True, safety=SAFETY_FLAGS
    )
    path = _write(tmp_path, build_progress_report(report, {"timeline": _png(900, 900)}, None))
    text = flat(pdf_text(path))
    assert pdf_pages(path) == 1
    assert "Safety flag at 3 sessions: 31 Aug 2026, 14 Sep 2026, 9 Nov 2026" in text
    assert "The counselor's safety notes are in the full report." in text
    assert "Shouting" not in text


# plain_words.expected_lines / expected_workings, as the service gives them.
EXPECTED = (
    f"{NAME_A} is on course: 52.5 at rating 4, where half of partners who started near 45 "
    "are at 50.0 or more.",
    f"{NAME_B} is below the expected course: 41.0 at rating 3, where half of partners who "
    "started near 48 are at 47.0 or more.",
)
EXPECTED_WORKINGS = (
    "Expected course: expected course v2 of 6 Dec 2026, 812 couples.",
    f"{NAME_B}: 41.0 at rating 3, below expected; expected there: 10th percentile 38.0, "
    "25th 44.0, median 47.0.",
)


def test_each_partners_expected_course_is_said_in_words_with_its_model(tmp_path: Path) -> None:
    for summary in (False, True):
        report = dataclasses.replace(
            _report(),
            expected_lines=EXPECTED,
            expected_workings=EXPECTED_WORKINGS,
            summary_only=summary,
        )
        path = _write(tmp_path, build_progress_report(report, CHARTS, None))
        text = flat(pdf_text(path))
        # Under the timeline whose bands they read (after the status and its workings),
        # the words, then the model and the numbers behind them.
        for line in EXPECTED:
            assert line in text
        heading = text.index("Expected course, behind each partner's line")
        assert text.index("How this is calculated") < heading < text.index(EXPECTED[0])
        # The model and the numbers behind them in the full report; a summary has the
        # words only (its chart's legend names the model).
        assert all((line in text) is not summary for line in EXPECTED_WORKINGS)
        if not summary:
            assert text.index(EXPECTED[1]) < text.index(EXPECTED_WORKINGS[0])
        if summary:  # the two lines keep the summary on its one page
            assert pdf_pages(path) == 1
