"""The couple progress report as a PDF (fpdf2: DejaVu Sans, Noto for every other script).

`build_progress_report(report, charts, charts_missing)` is pure: a `ProgressReport` and
chart PNGs in, PDF bytes out. Sections follow the issue's order: who and when; the
trajectory status in words with its method; the charts; stage history; barriers;
habits and adherence; the session table; session notes (only when included).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from dashboard import charts as chart_builders
from dashboard.reports.model import (
    NOTES_EXCLUDED,
    PRIVATE_NOTE_WITHHELD,
    ProgressReport,
    SessionNote,
)

__all__ = ["ProgressReport", "build_progress_report", "FONT_DIR"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
NOTO = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
# Glyphs DejaVu lacks come from these, in order (Debian: fonts-noto-core, fonts-noto-cjk,
# fonts-noto-color-emoji). (family, file, index in a font collection)
FALLBACK_FONTS = (
    ("NotoSans", NOTO / "NotoSans-Regular.ttf", 0),
    ("NotoArabic", NOTO / "NotoSansArabic-Regular.ttf", 0),
    ("NotoHebrew", NOTO / "NotoSansHebrew-Regular.ttf", 0),
    ("NotoDevanagari", NOTO / "NotoSansDevanagari-Regular.ttf", 0),
    ("NotoBengali", NOTO / "NotoSansBengali-Regular.ttf", 0),
    ("NotoTamil", NOTO / "NotoSansTamil-Regular.ttf", 0),
    ("NotoThai", NOTO / "NotoSansThai-Regular.ttf", 0),
    ("NotoArmenian", NOTO / "NotoSansArmenian-Regular.ttf", 0),
    ("NotoGeorgian", NOTO / "NotoSansGeorgian-Regular.ttf", 0),
    ("NotoEthiopic", NOTO / "NotoSansEthiopic-Regular.ttf", 0),
    ("NotoMath", NOTO / "NotoSansMath-Regular.ttf", 0),
    ("NotoSymbols", NOTO / "NotoSansSymbols-Regular.ttf", 0),
    ("NotoSymbols2", NOTO / "NotoSansSymbols2-Regular.ttf", 0),
    ("NotoCJK", NOTO_CJK / "NotoSansCJK-Regular.ttc", 0),  # Korean, Chinese, Japanese
    ("NotoEmoji", NOTO / "NotoColorEmoji.ttf", 0),
)
_log = logging.getLogger(__name__)
_warned_missing: set[str] = set()


@functools.cache
def _covered(path: Path, index: int) -> frozenset[int]:
    """The code points a font file draws (read once per process: the CJK collection
    alone takes a second to parse)."""
    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _report_text(report: ProgressReport) -> str:
    """Everything the report prints that a person or the data could have put there."""
    parts: list[str] = []
    for value in dataclasses.astuple(report):
        if isinstance(value, pd.DataFrame):
            parts.extend(map(str, value.columns))
            parts.extend(map(str, value.to_numpy().ravel()))
        elif isinstance(value, str | tuple):
            parts.append(str(value))
    return "".join(parts)


def _fonts_for(
    text: str, fallback_fonts: Sequence[tuple[str, Path, int]]
) -> tuple[list[tuple[str, Path, int]], bool]:
    """The fallback fonts this text needs (in order, each for what the ones before it
    lack), and whether it needs shaping (right-to-left or combining marks, or a script
    DejaVu lacks). A report in Latin letters needs neither and builds as fast as ever."""
    needed = {ord(c) for c in set(text)} - _covered(FONT_DIR / "DejaVuSans.ttf", 0)
    shaping = bool(needed) or any(
        unicodedata.bidirectional(c) in {"R", "AL", "AN"} or unicodedata.category(c) == "Mn"
        for c in set(text)
    )
    chosen = []
    for family, path, index in fallback_fonts:
        if not needed:
            break
        if not path.exists():
            chosen.append((family, path, index))  # reported missing by the caller
            continue
        drawn = needed & _covered(path, index)
        if drawn:
            chosen.append((family, path, index))
            needed -= drawn
    return chosen, shaping


TITLE = "Couple progress report"
SUMMARY_TITLE = "Couple progress summary"  # the one-page option says what it is


def _title(report: ProgressReport) -> str:
    return SUMMARY_TITLE if report.summary_only else TITLE


MARGIN = 15.0  # mm
INK = (33, 33, 33)
MUTED = (90, 90, 90)
ALERT = (0xB0, 0x3A, 0x00)  # the charts' alert vermilion, darkened for text on white
RULE = (180, 180, 180)
HEADING_FILL = (232, 237, 240)
# A chart may shrink to this share of its size to stay on the page it starts on.
CHART_MIN_SCALE = 0.7
SUMMARY_MIN_SCALE = 0.45
EXPECTED_HEADING = "Expected course, behind each partner's line"
SUMMARY_LINE_MM = 4.5  # an 8-point line of the summary, with its spacing
SUMMARY_NOTE = (
    "One-page summary. The full report adds the questionnaire, item and barrier charts, "
    "the stage history, barrier, habit and session tables."
)
CHART_TITLES = {
    "timeline": "Emotional Intimacy Index over time",
    "instruments": "Questionnaire totals over time",
    "radar": "Items: intake and latest",
    "barriers": "Barriers by session",
}


class _ReportPdf(FPDF):
    def __init__(
        self, report: ProgressReport, fallback_fonts: Sequence[tuple[str, Path, int]]
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.reserve = 0.0  # mm a chart leaves free below it (the summary's last lines)
        for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
            self.add_font(FONT, style, FONT_DIR / name)
        fonts, shaping = _fonts_for(_report_text(report), fallback_fonts)
        self._add_fallback_fonts(fonts)
        if shaping:  # right-to-left scripts joined and ordered, marks stacked (HarfBuzz)
            # Every paragraph is left to right, as the report is: a name typed in Arabic
            # or Hebrew is its own right-to-left run inside it (fpdf2's bidi algorithm
            # gives each run its direction). Left to guess, fpdf2 took the direction of
            # the first letter, and a status line starting with an Arabic name was laid
            # out right to left: the subject at the right margin, the full stop at the
            # front of the last line. (FSI/PDI marks around names would isolate them too,
            # but fpdf2 prints them as glyphs that pdftotext reads back around the name.)
            self.set_text_shaping(True, direction="ltr")
        self.set_margins(MARGIN, MARGIN + 4, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 4)
        self.set_title(f"{_title(report)} {report.case_code}")
        self.set_author(report.clinic_name)
        self.set_creator("Bondline")

    def _add_fallback_fonts(self, fonts: Sequence[tuple[str, Path, int]]) -> None:
        """Every fallback font on disk; without one, its scripts print as blanks, and the
        server's log says which package to install (once per process)."""
        present = [(family, path, index) for family, path, index in fonts if path.exists()]
        missing = sorted({str(path) for _, path, _ in fonts} - {str(p) for _, p, _ in present})
        if missing and not _warned_missing.intersection(missing):
            _warned_missing.update(missing)
            _log.warning(
                "PDF fonts missing (install fonts-noto-core, fonts-noto-cjk, "
                "fonts-noto-color-emoji): %s",
                ", ".join(missing),
            )
        for family, path, index in present:
            self.add_font(family, "", path, collection_font_number=index)
        if present:
            # Bold text falls back to the regular face: a name prints, if not in bold.
            self.set_fallback_fonts([family for family, _, _ in present], exact_match=False)

    def close_fonts(self) -> None:
        """fpdf2 reads TTF files lazily and leaves them open: close them when done."""
        for font in self.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()

    def header(self) -> None:
        self.set_y(8)
        self.set_font(FONT, "B", 9)
        self.set_text_color(*MUTED)
        self.cell(self.epw / 2, 5, self.report.clinic_name)
        self.set_font(FONT, "", 9)
        self.cell(
            self.epw / 2,
            5,
            f"{self.report.case_code} · {_title(self.report).removeprefix('Couple ')}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_draw_color(*RULE)
        self.line(MARGIN, 14, self.w - MARGIN, 14)
        self.set_y(MARGIN + 4)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        generated = chart_builders.format_date(self.report.generated_on)
        self.cell(self.epw / 2, 5, f"Generated {generated} · confidential clinical record")
        self.cell(self.epw / 2, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    # -- building blocks --------------------------------------------------------------
    def room(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def heading(self, text: str, *, keep: float = 22) -> None:
        """A section title, kept on one page with the first `keep` mm of its content."""
        self.room(keep + 14)
        self.ln(3)
        self.set_font(FONT, "B", 13)
        self.set_text_color(*INK)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(2)

    def para(self, text: str, *, size: float = 10, bold: bool = False, color=INK) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)

    def facts(self, rows: list[tuple[str, str]]) -> None:
        with self.table(
            col_widths=(32, 148),
            width=self.epw,
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.NONE,
            text_align="LEFT",
            line_height=5.5,
            padding=(0.6, 1),
        ) as table:
            for key, value in rows:
                row = table.row()
                row.cell(key, style=FontFace(emphasis="BOLD", color=MUTED))
                row.cell(value)

    def frame(
        self,
        frame: pd.DataFrame,
        widths: tuple[float, ...],
        empty: str,
        *,
        align: tuple[str, ...] | None = None,
    ) -> None:
        """A table whose header row repeats on every page it runs onto."""
        if frame.empty:
            self.para(empty, color=MUTED)
            return
        self.set_font(FONT, "", 9)
        aligns = align or ("LEFT",) * len(widths)
        with self.table(
            col_widths=widths,
            width=self.epw,
            text_align=aligns,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            repeat_headings=1,
            line_height=5,
            padding=(0.8, 1.2),
        ) as table:
            table.row([str(c) for c in frame.columns])
            for values in frame.itertuples(index=False):
                table.row(["" if pd.isna(v) else str(v) for v in values])
        self.ln(2)

    def chart_height(self, png: bytes) -> float:
        """The image's height in mm once scaled to the page width."""
        width_px, height_px = _png_size(png)
        return self.epw * height_px / width_px

    def chart(self, title: str, png: bytes, *, min_scale: float = 0.7) -> None:
        """A chart across the page width (each figure carries its own title); one that
        almost fits the rest of the page is drawn a little smaller there, centred,
        rather than leaving the page empty below the status (CHART_MIN_SCALE)."""
        height, width = self.chart_height(png), self.epw
        space = self.page_break_trigger - self.get_y() - 4 - self.reserve
        if height > space >= min_scale * height:
            width, height = width * space / height, space
        self.room(height + 4)
        self.image(png, x=MARGIN + (self.epw - width) / 2, w=width, h=height, alt_text=title)
        self.ln(4)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("chart images must be PNG")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _safety(pdf: _ReportPdf, report: ProgressReport) -> None:
    """Its own section before the status, when any session of the course was flagged:
    the dates in the alert colour, then the counselor's note of each."""
    if not report.safety:
        return
    pdf.heading("Safety")
    pdf.para(report.safety_line, bold=True, color=ALERT)
    for line in report.safety_notes:
        pdf.para(f"•  {line}", size=9)
    pdf.ln(1)


def _status(pdf: _ReportPdf, report: ProgressReport) -> None:
    """The status once: each line in words (a flag's line, with its reasons, in the
    alert colour), then only the numbers behind them and the method."""
    pdf.heading("Trajectory status")
    flagged = tuple(f"{flag}:" for flag in report.flags)
    for line in report.status_lines:
        if line.startswith(flagged):
            pdf.para(f"•  {line}", bold=True, color=ALERT)
        else:
            pdf.para(f"•  {line}")
    pdf.ln(1.5)
    pdf.para("How this is calculated", size=9, bold=True, color=MUTED)
    pdf.para(f"Numbers. {report.statistics}", size=8, color=MUTED)
    pdf.para(f"Method. {report.method}", size=8, color=MUTED)


def _charts(
    pdf: _ReportPdf,
    report: ProgressReport,
    charts: Mapping[str, bytes],
    charts_missing: str | None,
) -> None:
    present = [key for key in report.chart_keys if key in charts]
    # A one-page summary lets its one chart shrink further to stay on the page.
    min_scale = SUMMARY_MIN_SCALE if report.summary_only else CHART_MIN_SCALE
    keep = 20
    if present and not charts_missing:
        # The chart's smallest size plus the 4 mm it keeps free below itself (chart()):
        # with less, the title stayed alone at the foot of page 1 and the chart moved on.
        # And the summary's lines under it (pdf.reserve): else the title stayed alone at
        # the foot of page 1 above a Safety section (C-2026-0019's summary).
        keep = min_scale * pdf.chart_height(charts[present[0]]) + 4 + pdf.reserve
    pdf.heading("Charts", keep=keep)
    if charts_missing:
        pdf.para(charts_missing, bold=True, color=ALERT)
        pdf.para("The tables below carry the same numbers.", color=MUTED)
        _expected_course(pdf, report)
        return
    for key in present:
        pdf.chart(CHART_TITLES.get(key, key), charts[key], min_scale=min_scale)
        if key == "timeline":
            _expected_course(pdf, report)


def _expected_course(pdf: _ReportPdf, report: ProgressReport) -> None:
    """Under the timeline, whose bands it reads: each partner against the course expected
    for partners who started where they did, in words; then which expected course, the
    numbers each partner was judged on, and how the course was calculated. (Under the
    status they pushed the timeline off page 1; a partner well below expected is in the
    status already, as a not-on-track reason.)"""
    if not report.expected_lines and not report.expected_workings:
        return
    pdf.para(EXPECTED_HEADING, size=9, bold=True)
    for line in report.expected_lines:
        pdf.para(f"•  {line}", size=9)
    for line in _workings(report):
        pdf.para(line, size=8, color=MUTED)
    pdf.ln(2)


def _workings(report: ProgressReport) -> tuple[str, ...]:
    """The expected course's workings as printed: none on a one-page summary (its chart's
    legend names the model, charts/expected.paper_legend; the numbers and method are in
    the full report, whose legend gives only the key)."""
    return () if report.summary_only else report.expected_workings


def _summary_rest(
    pdf: _ReportPdf, report: ProgressReport, charts: Mapping[str, bytes], charts_missing: str | None
) -> None:
    """After the status: the timeline, shrunk as far as it must to stay on page 1 with
    one line per questionnaire and the closing note under it."""
    lines = [
        f"{r.Questionnaire}, {r.Partner}: {r.First}"
        + (f" → {r.Latest}" if r.Latest else "")
        + f". {r.Result}."
        for r in report.instruments.itertuples()
    ]
    note = report.instruments_note  # a result the index disagrees with: why, once
    # A line that wraps takes room for each of its lines, as fpdf will wrap it; the
    # expected course's workings print under the chart too (_expected_course).
    pdf.set_font(FONT, "", 8)
    rows = sum(
        len(pdf.multi_cell(0, 4, text, dry_run=True, output="LINES"))
        for text in [
            *(f"•  {line}" for line in lines),
            *([note] if note else []),
            *_workings(report),
        ]
    )
    if report.expected_lines:  # and its sentences, a point larger, under their heading,
        pdf.set_font(FONT, "", 9)  # with the 2 mm after them (a row)
        rows += 1 + sum(
            len(pdf.multi_cell(0, 4.5, f"•  {line}", dry_run=True, output="LINES"))
            for line in (EXPECTED_HEADING, *report.expected_lines)
        )
    pdf.reserve = SUMMARY_LINE_MM * (rows + 2) + (8 if lines else 0)
    _charts(pdf, report, charts, charts_missing)
    pdf.reserve = 0.0
    if lines:
        pdf.para("Questionnaires", size=9, bold=True)
        for line in lines:
            pdf.para(f"•  {line}", size=8)
        if note:
            pdf.para(note, size=8, color=MUTED)
    pdf.ln(1)
    pdf.para(SUMMARY_NOTE, size=8, color=MUTED)


def _notes(pdf: _ReportPdf, notes: tuple[SessionNote, ...]) -> None:
    if not notes:
        pdf.para("No session notes were written.", color=MUTED)
    for note in notes:
        pdf.room(25)
        when = chart_builders.format_date(note.session_date)
        pdf.para(f"{when} · {note.attendance}", size=10, bold=True)
        for label, text in (
            ("Data", note.data),
            ("Assessment", note.assessment),
            ("Plan", note.plan),
        ):
            if text.strip():
                pdf.para(f"{label}: {text.strip()}", size=9)
        pdf.ln(2)
    pdf.para(PRIVATE_NOTE_WITHHELD, size=8, color=MUTED)


_L, _R = "LEFT", "RIGHT"


def _tables(report: ProgressReport) -> list[tuple]:
    """Each table section: title, rows, column widths (mm), text when empty, alignment."""
    return [
        (
            "Stage history",
            report.stage_history,
            (30, 80, 70),
            "No stage has been rated yet.",
            (_L, _L, _L),
        ),
        (
            "Barrier summary",
            report.barrier_summary,
            (62, 30, 40, 48),
            "No barriers were tagged.",
            (_L, _R, _L, _L),
        ),
        (
            "Questionnaires",
            report.instruments,
            (30, 28, 16, 16, 90),
            "No questionnaire totals were recorded.",
            (_L, _L, _R, _R, _L),
        ),
        (
            "Habits and adherence",
            report.habits,
            (72, 30, 30, 48),
            "No habits were assigned.",
            (_L, _R, _R, _L),
        ),
        (
            report.sessions_title,
            report.sessions,
            (24, 31, 71, 27, 27),
            "No sessions yet.",
            (_L, _L, _L, _R, _R),
        ),
    ]


def build_progress_report(
    report: ProgressReport,
    charts: Mapping[str, bytes],
    charts_missing: str | None,
    *,
    fallback_fonts: Sequence[tuple[str, Path, int]] = FALLBACK_FONTS,
) -> bytes:
    """The report as PDF bytes. `charts`: PNGs keyed as `charts.all_figures`; when
    `charts_missing` is given it is printed where the charts would be. Any script a
    name or note is typed in prints through `fallback_fonts` (those found on disk)."""
    pdf = _ReportPdf(report, fallback_fonts)
    try:
        return _build(pdf, report, charts, charts_missing)
    finally:
        pdf.close_fonts()


def _build(
    pdf: _ReportPdf, report: ProgressReport, charts: Mapping[str, bytes], charts_missing: str | None
) -> bytes:
    pdf.add_page()
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, _title(report), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(FONT, "", 10)
    pdf.facts(
        [
            ("Clinic", report.clinic_name),
            ("Case", report.case_code),
            ("Partners", f"{report.partner_a} (A) and {report.partner_b} (B)"),
            ("Counselor", report.counselor),
            ("Period", report.period),
            ("Sessions", report.session_count),
            *([("Status", report.case_status)] if report.case_status else []),
        ]
    )
    _safety(pdf, report)
    _status(pdf, report)
    if report.summary_only:
        _summary_rest(pdf, report, charts, charts_missing)
        return bytes(pdf.output())
    _charts(pdf, report, charts, charts_missing)
    for title, frame, widths, empty, align in _tables(report):
        pdf.heading(title)
        pdf.frame(frame, widths, empty, align=align)
        if frame is report.instruments and report.instruments_note:
            pdf.para(report.instruments_note, size=8, color=MUTED)
    pdf.heading("Session notes", keep=15)
    if report.include_notes:
        _notes(pdf, report.notes)
    else:
        pdf.para(NOTES_EXCLUDED)
    return bytes(pdf.output())
