"""Tables as files: CSV (UTF-8 with BOM) and Excel (openpyxl). Pure: frames in, bytes out.

Formula injection: a spreadsheet program treats a cell that begins with `=`, `+`, `-` or
`@` as a formula (and a leading tab or carriage return can hide such a start), so a
partner named `=HYPERLINK("http://x", "click")` would become a live link or worse when a
counselor opens the export. Every text cell that begins with one of those characters is
prefixed with a single quote, which makes the program show it as text (OWASP "CSV
Injection"). Numbers are left alone: a negative number is a number, not a formula, and
must stay one for analysis.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from datetime import date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboard.domain.numbers import half_up

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIN_WIDTH, MAX_WIDTH = 8, 60
DATE_FORMAT = "yyyy-mm-dd"


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
    """A copy of `frame` with every formula-like text cell quoted; numbers untouched."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        out[column] = series.map(escape_cell)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV, escaped, UTF-8 with a byte-order mark so Excel reads accents and dashes right."""
    return escape_formulas(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _cell(value: object) -> object:
    """A value openpyxl writes as itself: no NaN/NA, no numpy scalars, dates as dates."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | date):
        return value.item()  # numpy scalar -> Python
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _width(values: list[object], header: str) -> float:
    longest = max([len(str(header)), *(len(str(v)) for v in values if v is not None)])
    return float(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))


def to_xlsx_bytes(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """One workbook, a sheet per table: escaped, bold frozen header, fitted columns.

    Dates are real dates (formatted yyyy-mm-dd), numbers are numbers, and every text
    cell is stored as text, never as a formula.
    """
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for name, frame in frames.items():
        sheet = book.create_sheet(title=name[:31])
        escaped = escape_formulas(frame)
        headers = [str(c) for c in escaped.columns]
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = bold
        columns: list[list[object]] = [[] for _ in headers]
        for record in escaped.itertuples(index=False, name=None):
            values = [_cell(v) for v in record]
            sheet.append(values)
            row = sheet.max_row
            for index, value in enumerate(values):
                columns[index].append(value)
                cell = sheet.cell(row=row, column=index + 1)
                if isinstance(value, str):
                    cell.data_type = "s"  # belt and braces: never a formula
                elif isinstance(value, datetime | date):
                    cell.number_format = DATE_FORMAT
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers):
            width = _width(columns[index], header)
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
