"""CSV, Excel and research-extract builders: formula escaping, Unicode, round trips."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from dashboard.domain.scoring import DEFAULT_EII_PARAMS
from dashboard.reports.research import build_research_extract
from dashboard.reports.tables import (
    PROGRESS_ROWS,
    eii_cell,
    escape_formulas,
    to_csv_bytes,
    to_xlsx_bytes,
)

UNICODE_NAME = "Zoë Ångström — Nguyễn"


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [UNICODE_NAME, '=HYPERLINK("http://x")', "plain"],
            "when": [date(2026, 3, 2), date(2026, 3, 9), None],
            "change": [-3.5, 2.0, 0.0],
            "count": [1, -2, 3],
        }
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_quoted(start: str) -> None:
    frame = pd.DataFrame({"text": [f"{start}1+2", "safe"]})
    escaped = escape_formulas(frame)
    assert escaped["text"].tolist() == [f"'{start}1+2", "safe"]
    assert frame["text"].tolist() == [f"{start}1+2", "safe"]  # the input is not changed


def test_leading_spaces_do_not_hide_a_formula() -> None:
    escaped = escape_formulas(pd.DataFrame({"text": ['  =HYPERLINK("http://x")', " plain"]}))
    assert escaped["text"].tolist() == ['\'  =HYPERLINK("http://x")', " plain"]


def test_numbers_are_left_alone() -> None:
    escaped = escape_formulas(pd.DataFrame({"n": [-3, 4], "x": [-1.5, 2.5], "b": [True, False]}))
    assert escaped["n"].tolist() == [-3, 4]
    assert pd.api.types.is_integer_dtype(escaped["n"])
    assert escaped["x"].tolist() == [-1.5, 2.5]
    assert escaped["b"].tolist() == [True, False]


def test_mixed_column_escapes_text_but_not_numbers() -> None:
    escaped = escape_formulas(pd.DataFrame({"m": [-2, "-2", None]}, dtype=object))
    assert escaped["m"].tolist()[:2] == [-2, "'-2"]


def test_csv_has_bom_and_round_trips_unicode() -> None:
    data = to_csv_bytes(sample())
    assert data.startswith(b"\xef\xbb\xbf")
    assert UNICODE_NAME.encode("utf-8") in data
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert len(back) == 3
    assert list(back.columns) == ["name", "when", "change", "count"]
    assert back.loc[0, "name"] == UNICODE_NAME
    assert back.loc[1, "name"] == '\'=HYPERLINK("http://x")'
    assert back["change"].tolist() == [-3.5, 2.0, 0.0]  # negative numbers stay numbers
    assert back["count"].tolist() == [1, -2, 3]
    assert back.loc[0, "when"] == "2026-03-02"


def test_xlsx_round_trip_with_sheets_counts_and_escaping() -> None:
    big = pd.DataFrame({"k": range(25)})
    data = to_xlsx_bytes({"people": sample(), "numbers": big})
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None)
    assert list(sheets) == ["people", "numbers"]
    assert len(sheets["people"]) == 3
    assert len(sheets["numbers"]) == 25
    people = sheets["people"]
    assert people.loc[0, "name"] == UNICODE_NAME
    assert people.loc[1, "name"] == '\'=HYPERLINK("http://x")'
    assert people["change"].tolist() == [-3.5, 2.0, 0.0]
    assert people.loc[0, "when"] == pd.Timestamp(2026, 3, 2)


def test_xlsx_header_bold_frozen_dates_real_and_no_formulas() -> None:
    book = load_workbook(io.BytesIO(to_xlsx_bytes({"people": sample()})))
    sheet = book["people"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet["B2"].is_date
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["A3"].data_type == "s"
    assert sheet["C2"].value == -3.5
    assert sheet.column_dimensions["A"].width >= len(UNICODE_NAME)
    formulas = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_empty_frame_gives_header_only() -> None:
    frame = pd.DataFrame(columns=["a", "b"])
    assert pd.read_csv(io.BytesIO(to_csv_bytes(frame)), encoding="utf-8-sig").empty
    back = pd.read_excel(io.BytesIO(to_xlsx_bytes({"t": frame})))
    assert list(back.columns) == ["a", "b"]
    assert back.empty


def _extract(rng_seed: int = 1, k: int = 2) -> dict[str, pd.DataFrame]:
    """Two couples alike in everything but their scores (so k = 2 holds), and a session
    of a couple that is not in the extract."""
    couples = [
        {
            "couple_id": cid,
            "intake_date": date(2026, 1, 5),
            "status": "active",
            "closing_reason": None,
        }
        for cid in (1, 2)
    ]
    sessions = [
        {
            "session_id": sid,
            "couple_id": cid,
            "session_date": when,
            "duration_minutes": 50,
            "format": "video",
            "attendance": "both",
            "stage": None,
            "eii_a": eii_a,
            "eii_b": None,
        }
        for sid, cid, when, eii_a in (
            (10, 1, date(2026, 1, 12), 40.0),  # week 1: the intake point
            (11, 1, date(2026, 1, 26), 45.0),  # week 3
            (20, 2, date(2026, 1, 6), 60.0),
            (21, 2, date(2026, 2, 2), 80.0),  # week 4
            (12, 9, date(2026, 2, 1), 50.0),
        )
    ]
    data = build_research_extract(
        couples=couples,
        sessions=sessions,
        ratings=[
            {"session_id": 12, "partner": "A", "item": "feel_seen", "value": 3},
            {"session_id": 10, "partner": "B", "item": "feel_seen", "value": 9},  # no EII B
        ],
        barriers=[
            {"session_id": 10, "barrier_code": "x", "is_seed": False, "severity": 3},
            {
                "session_id": 11,
                "barrier_code": "stress_distraction",
                "is_seed": True,
                "severity": 1,
            },
        ],
        habits=[{"session_id": 10, "habit": "stay_curious", "adherence": 1}],
        instruments=[],
        rng=random.Random(rng_seed),
        k=k,
        eii_norms=DEFAULT_EII_PARAMS,
        norms_version="clinic norms v3 of 2 Nov 2026, 198 intakes",
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {
            n: pd.read_csv(archive.open(n), encoding="utf-8-sig", dtype=str, keep_default_na=False)
            for n in archive.namelist()
            if n.endswith(".csv")
        }
        files["README"] = archive.read("README.txt").decode()
    return files


def test_research_builder_releases_points_not_sessions_and_drops_orphans() -> None:
    files = _extract()
    points = files["measurements.csv"]
    assert len(files["couples.csv"]) == 2
    assert set(files["couples.csv"]["couple_key"]) == set(points["couple_key"])
    # Each couple: intake (weeks 0-2) and weeks 3-5; no dates, no days, no session keys.
    assert sorted(points["point"]) == ["intake (weeks 0–2)"] * 2 + ["weeks 3–5"] * 2
    assert "session_date" not in points.columns and "days_since_intake" not in points.columns
    assert sorted(points["eii_a"]) == ["40.0", "45.0", "60.0", "80.0"]
    # Default EII norms: S_diff = 15 x sqrt(2) x sqrt(1 - .80) = 9.487; a change must
    # exceed 1.96 x 9.487 = 18.59 points. 40 -> 45 (+5) is not reliable; 60 -> 80 (+20)
    # is. Partner B has no EII: not measurable (empty).
    changes = files["couples.csv"][["change_a", "change_b", "outcome"]].values.tolist()
    assert sorted(changes) == [
        ["improved", "", "One partner improved"],
        ["no reliable change", "", "No reliable change"],
    ]
    assert DEFAULT_EII_PARAMS.describe() in files["README"]  # the norms, named
    assert "Clinic norms version: clinic norms v3 of 2 Nov 2026, 198 intakes." in files["README"]
    assert set(points["couple_eii"]) == {""}  # needs both partners
    # The orphan session's rating is left out; so is partner B's rating where B has no
    # EII (it would tell who attended).
    assert files["ratings.csv"].empty
    # A barrier the clinic named itself is not exported by name (a person typed it).
    assert sorted(files["barriers.csv"]["barrier"]) == ["clinic_specific", "stress_distraction"]
    assert files["habits.csv"][["point", "habit", "adherence"]].values.tolist() == [
        ["intake (weeks 0–2)", "stay_curious", "1"]
    ]
    assert "k-anonymity (k = 2)" in files["README"]
    assert "unique on the released fields: 0.0%" in files["README"]
    assert _extract(1)["measurements.csv"].equals(points)  # the rng alone decides
    again = _extract(2)["couples.csv"]  # another extract: new keys
    assert not set(again["couple_key"]) & set(files["couples.csv"]["couple_key"])


def test_with_k_3_two_alike_couples_are_left_out_and_the_readme_says_so() -> None:
    files = _extract(k=3)
    assert files["couples.csv"].empty and files["measurements.csv"].empty
    assert "Left out: 2 couple(s)" in files["README"]


def test_an_eii_has_two_decimals_in_a_table() -> None:
    assert eii_cell(52.857142857142854) == 52.86
    assert eii_cell(None) is None


def test_a_workbook_reads_back_as_a_user_sees_it() -> None:
    """Every kind of cell, past several progress blocks: texts with XML's own characters,
    spaces and control characters, real dates and times, numbers, booleans and gaps."""
    rows = 4 * PROGRESS_ROWS + 7
    frame = pd.DataFrame(
        {
            "who": pd.Series([f"<b>&{i}</b>" for i in range(rows)], dtype="str"),
            "when": [date(2026, 1, 1) + pd.Timedelta(days=i % 300) for i in range(rows)],
            "n": pd.array([None if i % 5 == 0 else i for i in range(rows)], dtype="Int64"),
            "x": [None if i % 7 == 0 else i / 4 for i in range(rows)],
            "ok": [i % 2 == 0 for i in range(rows)],
        }
    )
    odd = pd.DataFrame(
        {
            "text": pd.Series(["  padded  ", "bell\x07ringing", "-1", None], dtype="str"),
            "at": [datetime(2026, 3, 2, 9, 30), None, date(2026, 3, 3), "later"],
        }
    )
    heard: list[int] = []
    book = load_workbook(
        io.BytesIO(to_xlsx_bytes({"big": frame, "odd": odd}, progress=heard.append))
    )
    assert book.sheetnames == ["big", "odd"]
    big = book["big"]
    assert big.max_row == rows + 1 and big.max_column == 5
    assert [c.value for c in big[1]] == ["who", "when", "n", "x", "ok"]
    assert all(c.font.bold for c in big[1]) and big.freeze_panes == "A2"
    for row in (2, PROGRESS_ROWS + 1, PROGRESS_ROWS + 2, rows + 1):  # across block edges
        i = row - 2
        who, when, n, x, ok = (c.value for c in big[row])
        assert who == f"<b>&{i}</b>"
        assert when == datetime(2026, 1, 1) + pd.Timedelta(days=i % 300)
        assert big.cell(row, 2).number_format == "yyyy-mm-dd"
        assert n == (None if i % 5 == 0 else i)
        assert x == (None if i % 7 == 0 else i / 4)
        assert ok is (i % 2 == 0)
    assert big.column_dimensions["A"].width >= len("<b>&16000</b>")
    assert heard == sorted(heard) and heard[-1] == rows + len(odd)
    assert PROGRESS_ROWS in heard  # told along the way, not only at the end
    sheet = book["odd"]
    assert [c.value for c in sheet["A"]][1:] == ["  padded  ", "bellringing", "'-1", None]
    assert sheet["B2"].value == datetime(2026, 3, 2, 9, 30) and sheet["B2"].is_date
    assert (sheet["B3"].value, sheet["B4"].value) == (None, datetime(2026, 3, 3))
    assert sheet["B5"].value == "later" and sheet["B5"].data_type == "s"


def test_csv_reports_rows_as_it_writes() -> None:
    frame = pd.DataFrame({"k": range(12 * PROGRESS_ROWS + 3)})
    heard: list[int] = []
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame, progress=heard.append)), encoding="utf-8-sig")
    assert back["k"].tolist() == list(range(len(frame)))
    assert heard[-1] == len(frame) and len(heard) > 1 and heard == sorted(heard)


def test_a_partners_own_check_in_answers_are_not_released_so_change_is_like_with_like() -> None:
    """Partner A of couple 1: the counselor rated 40 at intake and 45 in week 3; A's own
    check-in said 80 in week 4. Judged across sources, 40 -> 80 (+40) would be a reliable
    improvement (default band ±18.59); the extract releases the counselor's ratings only,
    so its weeks 3-5 point is week 3's 45: +5, no reliable change."""
    couples = [
        {"couple_id": cid, "intake_date": date(2026, 1, 5), "status": "active"}
        | {"closing_reason": None}
        for cid in (1, 2)
    ]

    def session(sid: int, cid: int, when: date, eii_a: float | None, source_a: str | None):
        return {
            "session_id": sid,
            "couple_id": cid,
            "session_date": when,
            "attendance": "both",
            "stage": None,
            "eii_a": eii_a,
            "eii_b": None,
            "source_a": source_a,
            "source_b": None,
        }

    sessions = [
        session(10, 1, date(2026, 1, 12), 40.0, "counselor"),
        session(11, 1, date(2026, 1, 26), 45.0, "counselor"),
        session(13, 1, date(2026, 2, 2), 80.0, "self"),  # week 4: A's own check-in
        session(20, 2, date(2026, 1, 6), 60.0, "counselor"),
        session(21, 2, date(2026, 1, 27), 62.0, "counselor"),
        session(22, 2, date(2026, 2, 3), None, None),
    ]
    data = build_research_extract(
        couples=couples,
        sessions=sessions,
        ratings=[
            {
                "session_id": 11,
                "partner": "A",
                "item": "feel_seen",
                "value": 4,
                "source": "counselor",
            },
            {"session_id": 13, "partner": "A", "item": "feel_seen", "value": 9, "source": "self"},
        ],
        barriers=[],
        habits=[],
        instruments=[
            {"session_id": 13, "partner": "A", "instrument": "csi4", "total": 20, "source": "self"}
        ],
        rng=random.Random(3),
        k=2,
        eii_norms=DEFAULT_EII_PARAMS,
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        read = {
            n: pd.read_csv(archive.open(n), encoding="utf-8-sig", dtype=str, keep_default_na=False)
            for n in ("couples.csv", "measurements.csv", "ratings.csv", "instruments.csv")
        }
        readme_text = archive.read("README.txt").decode()
    assert sorted(read["measurements.csv"]["eii_a"]) == ["40.0", "45.0", "60.0", "62.0"]
    assert sorted(read["couples.csv"]["change_a"]) == ["no reliable change"] * 2
    assert read["ratings.csv"]["value"].tolist() == ["4"]  # the counselor's, not A's own 9
    assert read["instruments.csv"].empty  # A's own CSI-4 is not released
    assert "Every score is the counselor's" in readme_text
