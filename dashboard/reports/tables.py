"""Tables as files: CSV (UTF-8 with BOM) and Excel (XlsxWriter). Pure: frames in, bytes out.

Formula injection: a spreadsheet program treats a cell that begins with `=`, `+`, `-` or
`@` as a formula (and a leading tab or carriage return can hide such a start), so a
partner named `=HYPERLINK("http://x", "click")` would become a live link or worse when a
counselor opens the export. Every text cell that begins with one of those characters is
prefixed with a single quote, which makes the program show it as text (OWASP "CSV
Injection"). Numbers are left alone: a negative number is a number, not a formula, and
must stay one for analysis.

Speed: a clinic's ratings table is tens of thousands of rows. openpyxl took minutes for
the demo's (its appends grew quadratically); XlsxWriter's per-cell calls still cost 5-10x
the CSV. So XlsxWriter writes the workbook without its rows (styles, widths, the frozen
bold header: its well-tried XML), and the rows are written here as the XML XlsxWriter's
`constant_memory` mode writes (inline strings), a block at a time straight into the zip:
1-2x the CSV (bench/bench_exports.py). Both builders report rows written as they go,
for the page's "Preparing… 3,000 of 15,000 rows".
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from dashboard.domain.numbers import half_up

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIN_WIDTH, MAX_WIDTH = 8, 60
DATE_FORMAT = "yyyy-mm-dd"
PROGRESS_ROWS = 2_000  # rows between two progress reports
# Characters XML 1.0 cannot carry (the workbook is XML): dropped, as openpyxl did.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
WORKBOOK_OPTIONS = {
    "in_memory": True,  # XlsxWriter writes only the rowless scaffold: no temporary files
    "strings_to_formulas": False,  # belt and braces: a text cell is never a formula
    "strings_to_urls": False,  # nor a link
    "strings_to_numbers": False,
}

ZIP_LEVEL = 1  # deflate's fastest: 2.4x quicker than its default here, files ~25% larger
_SHEET_PART = re.compile(r"xl/worksheets/sheet(\d+)\.xml")

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
    values = series.tolist()
    if series.hasnans:
        return [None if _missing(v) else v for v in values]
    return values


def _width(values: list[Any], header: str) -> float:
    longest = max([len(header), *(len(str(v)) for v in set(values) if v is not None)])
    return float(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))


EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's serial dates (1900 system)


def _serial(value: date) -> str:
    """A date or time as Excel stores it: days since its epoch (a fraction for the time)."""
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    days = (moment.replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86_400
    return f"{days:.16G}"


def _text(value: str) -> str:
    clean = ILLEGAL_CHARACTERS.sub("", value)
    return f' t="inlineStr"><is><t xml:space="preserve">{xml_escape(clean)}</t></is></c>'


def _body(value: object, date_style: int) -> str:
    """A cell's XML after its reference, by the value's type: text as text, never as a
    formula; a date as Excel's serial day in the date style."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool):
        return f' t="b"><v>{int(value)}</v></c>'
    if isinstance(value, date):  # datetimes too
        return f' s="{date_style}"><v>{_serial(value)}</v></c>'
    if isinstance(value, int | float):
        return f"><v>{value:.16G}</v></c>"
    if hasattr(value, "item"):  # a numpy scalar
        return _body(value.item(), date_style)
    return _text(str(value))


@dataclass(frozen=True)
class _Sheet:
    """One table ready to write: its header, its columns as values, which hold dates."""

    name: str
    headers: list[str]
    columns: list[list[Any]]
    dated: list[bool]  # a column holding dates is formatted as dates

    @classmethod
    def of(cls, name: str, frame: pd.DataFrame) -> _Sheet:
        escaped = escape_formulas(frame)
        columns = [_values(escaped[c]) for c in escaped.columns]
        dated = [
            escaped[c].dtype == object and any(isinstance(v, date) for v in values)
            for c, values in zip(escaped.columns, columns, strict=True)
        ]
        return cls(name[:31], [str(c) for c in escaped.columns], columns, dated)

    def rows(self, start: int, stop: int, date_style: int) -> str:
        """Rows start..stop-1 of the table (0 = the first under the header) as XML.

        A table repeats itself (a case code, a date, an item on every rating row), so
        each distinct value's XML is made once."""
        cells = []
        for col, values in enumerate(self.columns):
            block = values[start:stop]
            bodies = {v: _body(v, date_style) for v in set(block) if v is not None}
            bodies[None] = ""
            ref = f'<c r="{xl_col_to_name(col)}'
            cells.append(
                [
                    f'{ref}{row}"{bodies[value]}' if value is not None else ""
                    for row, value in enumerate(block, start=start + 2)
                ]
            )
        return "".join(
            f'<row r="{row}">{"".join(record)}</row>'
            for row, record in enumerate(zip(*cells, strict=True), start=start + 2)
        )


def _scaffold(sheets: list[_Sheet]) -> tuple[bytes, int]:
    """The workbook without its rows, from XlsxWriter: styles, sheets, widths, the bold
    frozen header, date columns formatted. Returns it and the date style's index."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS) as book:  # closing writes the file
        bold = book.add_format({"bold": True})
        dates = book.add_format({"num_format": DATE_FORMAT})
        for sheet in sheets:
            page = book.add_worksheet(sheet.name)
            for col, (header, values) in enumerate(zip(sheet.headers, sheet.columns, strict=True)):
                style = dates if sheet.dated[col] else None
                page.set_column(col, col, _width(values, header), style)
            page.freeze_panes(1, 0)
            page.write_row(0, 0, sheet.headers, bold)
    return buffer.getvalue(), dates.xf_index or 0


def to_xlsx_bytes(frames: Mapping[str, pd.DataFrame], *, progress: RowsDone | None = None) -> bytes:
    """One workbook, a sheet per table: escaped, bold frozen header, fitted columns.

    Dates are real dates (formatted yyyy-mm-dd), numbers are numbers, and every text
    cell is stored as text (an inline string), never as a formula. `progress` hears the
    rows written so far every PROGRESS_ROWS rows and at the end of each sheet.

    XlsxWriter writes everything but the rows (so styles, widths and the frozen header
    are its well-tried XML); the rows, which are nearly all of the time, are written
    here a block at a time straight into the zip, as XlsxWriter's `constant_memory`
    mode writes them but without its per-cell calls (3-5x faster than those), and only
    one block's XML is held at a time, never the whole sheet's.
    """
    sheets = [_Sheet.of(name, frame) for name, frame in frames.items()]
    scaffold, date_style = _scaffold(sheets)
    out = io.BytesIO()
    written = 0
    with (
        zipfile.ZipFile(io.BytesIO(scaffold)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            number = _SHEET_PART.fullmatch(info.filename)
            if number is None:
                target.writestr(info, data, zipfile.ZIP_DEFLATED, ZIP_LEVEL)
                continue
            sheet = sheets[int(number.group(1)) - 1]
            head, tail = data.decode("utf-8").split("</sheetData>", 1)
            size = len(sheet.columns[0]) if sheet.columns else 0
            last = f"{xl_col_to_name(max(len(sheet.headers) - 1, 0))}{size + 1}"
            head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head)
            with target.open(info.filename, "w") as part:
                part.write(head.encode("utf-8"))
                for start in range(0, size, PROGRESS_ROWS):
                    stop = min(start + PROGRESS_ROWS, size)
                    part.write(sheet.rows(start, stop, date_style).encode("utf-8"))
                    if progress is not None:
                        progress(written + stop)
                part.write(f"</sheetData>{tail}".encode())
            written += size
            if progress is not None:
                progress(written)
    return out.getvalue()
