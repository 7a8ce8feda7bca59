"""Tables as files: CSV (UTF-8 with BOM) and Excel (XlsxWriter). Pure: frames in, bytes out.

Formula injection: a spreadsheet program treats a cell that begins with `=`, `+`, `-` or
`@` as a formula (and a leading tab or carriage return can hide such a start), so a
partner named `=HYPERLINK("http://x", "click")` would become a live link or worse when a
counselor opens the export. Every text cell that begins with one of those characters is
prefixed with a single quote, which makes the program show it as text (OWASP "CSV
Injection"). Numbers are left alone: a negative number is a number, not a formula, and
must stay one for analysis.

Speed: a clinic's ratings table is tens of thousands of rows. The workbook is written by
XlsxWriter in `constant_memory` mode (each row goes to disk as it is written, strings
inline), cell by cell through the typed writers, so Excel costs a small multiple of CSV
(bench/bench_exports.py) instead of the minute openpyxl took. Both builders can report
rows written as they go, for the page's "Preparing… 3,000 of 15,000 rows".
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import partial
from typing import Any

import pandas as pd
import xlsxwriter

from dashboard.domain.numbers import half_up

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIN_WIDTH, MAX_WIDTH = 8, 60
DATE_FORMAT = "yyyy-mm-dd"
PROGRESS_ROWS = 2_000  # rows between two progress reports
# Characters XML 1.0 cannot carry (the workbook is XML): dropped, as openpyxl did.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
WORKBOOK_OPTIONS = {
    "constant_memory": True,  # rows are flushed as written: memory flat whatever the size
    "strings_to_formulas": False,  # belt and braces: a text cell is never a formula
    "strings_to_urls": False,  # nor a link
    "strings_to_numbers": False,
    "remove_timezone": True,  # Excel has no time zones
}

RowsDone = Callable[[int], None]  # rows written so far, all sheets together

EII_DECIMALS = 2  # an EII is a mean of 6-8 ratings x 10: two decimals lose nothing real


def eii_cell(value: float | None) -> float | None:
    """An EII for a table: 52.86, not 52.857142857142854."""
    return None if value is None else half_up(float(value), EII_DECIMALS)


def escape_cell(value: object) -> object:
    """A text value that a spreadsheet would run as a formula, made plain text.

    Leading spaces do not make a formula harmless in every spreadsheet, so they are
    looked past."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every formula-like text cell quoted; numbers untouched.

    Text columns are checked in one vectorised pass; a column of mixed values cell by
    cell."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if isinstance(series.dtype, pd.StringDtype):
            risky = series.str.lstrip(" ").str.startswith(FORMULA_STARTS).fillna(False)
            if risky.any():
                out[column] = series.where(~risky.astype(bool), "'" + series)
        else:
            out[column] = series.map(escape_cell)
    return out


def to_csv_bytes(frame: pd.DataFrame, *, progress: RowsDone | None = None) -> bytes:
    """CSV, escaped, UTF-8 with a byte-order mark so Excel reads accents and dashes right."""
    escaped = escape_formulas(frame)
    buffer = io.StringIO()
    for start in range(0, max(len(escaped), 1), PROGRESS_ROWS * 5):
        chunk = escaped.iloc[start : start + PROGRESS_ROWS * 5]
        chunk.to_csv(buffer, index=False, header=start == 0, lineterminator="\r\n")
        if progress is not None:
            progress(min(start + len(chunk), len(escaped)))
    return buffer.getvalue().encode("utf-8-sig")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or value != value  # NaN


def _values(series: pd.Series) -> list[Any]:
    """The column as Python values, a missing one as None (an empty cell)."""
    if isinstance(series.dtype, pd.StringDtype):
        series = series.str.replace(ILLEGAL_CHARACTERS, "", regex=True)
    values = series.tolist()
    if series.hasnans:
        return [None if _missing(v) else v for v in values]
    return values


def _width(values: list[Any], header: str) -> float:
    longest = max([len(header), *(len(str(v)) for v in values if v is not None)])
    return float(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))


def _any_cell(sheet: Any, dates: Any, row: int, col: int, value: object) -> None:
    """A value of a mixed column, by its type: text as text, never as a formula."""
    if isinstance(value, str):
        sheet.write_string(row, col, ILLEGAL_CHARACTERS.sub("", value))
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, datetime | date):
        sheet.write_datetime(row, col, value, dates)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif hasattr(value, "item"):  # a numpy scalar
        _any_cell(sheet, dates, row, col, value.item())
    else:
        sheet.write_string(row, col, str(value))


def _writer(sheet: Any, dates: Any, series: pd.Series) -> Callable[[int, int, Any], object]:
    """The typed XlsxWriter call for a column, chosen once instead of for every cell."""
    if pd.api.types.is_bool_dtype(series):
        return sheet.write_boolean
    if pd.api.types.is_numeric_dtype(series):
        return sheet.write_number
    if isinstance(series.dtype, pd.StringDtype):
        return sheet.write_string
    return partial(_any_cell, sheet, dates)


def to_xlsx_bytes(frames: Mapping[str, pd.DataFrame], *, progress: RowsDone | None = None) -> bytes:
    """One workbook, a sheet per table: escaped, bold frozen header, fitted columns.

    Dates are real dates (formatted yyyy-mm-dd), numbers are numbers, and every text
    cell is stored as text, never as a formula. `progress` hears the rows written so
    far every PROGRESS_ROWS rows and at the end of each sheet.
    """
    buffer = io.BytesIO()
    written = 0
    with xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS) as book:  # closing writes the file
        bold = book.add_format({"bold": True})
        dates = book.add_format({"num_format": DATE_FORMAT})
        for name, frame in frames.items():
            sheet = book.add_worksheet(name[:31])
            escaped = escape_formulas(frame)
            headers = [str(c) for c in escaped.columns]
            columns = [_values(escaped[c]) for c in escaped.columns]
            writers = [_writer(sheet, dates, escaped[c]) for c in escaped.columns]
            for col, header in enumerate(headers):
                sheet.set_column(col, col, _width(columns[col], header))
            sheet.freeze_panes(1, 0)
            sheet.write_row(0, 0, headers, bold)
            for row, record in enumerate(zip(*columns, strict=True), start=1):
                for col, value in enumerate(record):
                    if value is not None:
                        writers[col](row, col, value)
                if progress is not None and row % PROGRESS_ROWS == 0:
                    progress(written + row)
            written += len(frame)
            if progress is not None:
                progress(written)
    return buffer.getvalue()
