"""Shared by both chart families: the palette, the template, and small helpers.

See dashboard/charts/__init__.py for what every builder keeps to.
"""

from __future__ import annotations

import html
import textwrap

import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.catalog import (
    ATTENDANCE_LABELS,
    HABIT_BY_KEY,
    HABITS,
    SEED_BARRIERS,
    STAGE_BY_NUMBER,
    Attendance,
)
from dashboard.domain.numbers import half_up
from dashboard.domain.plain_words import partner_names
from dashboard.domain.scoring import DIVERGING_GAP, DIVERGING_SESSIONS
from dashboard.domain.timeline import Threshold, TimelineData

# -- palette (Okabe-Ito) -------------------------------------------------------------
PARTNER_A_COLOR = "#0072B2"
PARTNER_B_COLOR = "#E69F00"
COUPLE_COLOR = "#009E73"
ALERT_COLOR = "#D55E00"
GAP_COLOR = "#000000"  # the discrepancy line: Okabe-Ito black, no partner's colour
THRESHOLD_COLOR = "#4D4D4D"  # cutoff lines: dark neutral, dashed
LABEL_COLOR = "#4D4D4D"
BAND_LABEL_COLOR = "#00684C"  # the couple's green, darkened for text
# Light neutrals, alternately warm and cool so neighbouring stages stay apart, and a
# little darker at each stage so the order also reads without colour.
STAGE_TINTS: dict[int, str] = {1: "#F3F0E8", 2: "#E9EDF0", 3: "#E3DDD2", 4: "#D3DAE0"}
# Habits take the Okabe-Ito colours not reserved above, each with its own marker and
# dash, so no habit depends on colour alone.
HABIT_STYLES: tuple[tuple[str, str, str], ...] = (
    ("#56B4E9", "circle", "solid"),
    ("#CC79A7", "square", "dash"),
    ("#000000", "diamond", "dot"),
    ("#999999", "triangle-up", "dashdot"),
    ("#F0E442", "x", "longdash"),
)
# Severity 0 (not tagged) .. 3 (severe): lightness falls monotonically and ends in the
# alert colour, so the order survives any colour vision and greyscale print.
SEVERITY_COLORS: tuple[str, ...] = ("#F2F2F2", "#FDD9B5", "#F4A460", ALERT_COLOR)

_GRID = "#E5E5E5"
_AXIS = dict(gridcolor=_GRID, zerolinecolor=_GRID, linecolor="#BDBDBD", automargin=True)
# A small template in the spirit of "plotly_white": the stock one costs ~5 ms a figure.
TEMPLATE = dict(
    layout=dict(
        font=dict(family="DejaVu Sans, Arial, sans-serif", size=12, color="#2A2A2A"),
        paper_bgcolor="#FFFFFF",
        plot_bgcolor="#FFFFFF",
        colorway=[PARTNER_A_COLOR, PARTNER_B_COLOR, COUPLE_COLOR, ALERT_COLOR, "#56B4E9"],
        xaxis=_AXIS,
        yaxis=_AXIS,
        polar=dict(
            bgcolor="#FFFFFF",
            angularaxis=dict(gridcolor=_GRID, linecolor="#BDBDBD"),
            radialaxis=dict(gridcolor=_GRID, linecolor="#BDBDBD"),
        ),
        hoverlabel=dict(align="left"),
    )
)

# The partners-diverging rule's own numbers, so the line drawn is the rule applied.
DIVERGING_POINTS = DIVERGING_GAP
DIVERGING_LABEL = (
    f"Partners-diverging line: {DIVERGING_GAP:g} points ({DIVERGING_SESSIONS} sessions in a row)"
)
STAGE_BANDS_TITLE = "Stage bands: counselor's rating"
THRESHOLDS_TITLE = "Thresholds"
BARRIER_MARKERS_NAME = "Barriers tagged (hover for details)"
BARRIER_MARKERS_PRINT_NAME = "Barriers tagged (listed in the barrier summary)"
PARTIAL_MONTH_NOTE = (
    "Open markers: a month only partly in the date range (so far): fewer days' sessions, "
    "so not joined to the line."
)
NOTE_BELOW_AXIS_PX = 78  # a note under a date axis clears its tick dates and title
LEGEND_WRAP = 64  # characters a legend line may hold: fits a ~470 px chart (800 px window)
PLOT_WIDTH_PX = 860  # the timeline's plotting width on the page and in the report
CHAR_PX = 6.2  # width of a 10 px label character


# -- small helpers -------------------------------------------------------------------
def partner_labels(data: TimelineData) -> tuple[str, str]:
    """The partners' display names, as the status sentences say them (plain_words)."""
    return partner_names(data.partner_a, data.partner_b)


def esc(text: object) -> str:
    """User text made safe for plotly's pseudo-HTML (labels, legend, hover)."""
    return html.escape(str(text), quote=False)


def format_date(value: object) -> str:
    """'3 Mar 2026'; an empty string for a missing date."""
    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    return f"{ts.day} {ts:%b %Y}"


def _dates(values: pd.Series) -> list[str]:
    return [format_date(v) for v in values]


def _floats(values: pd.Series) -> list[float]:
    """Plain floats, NaN where missing (what plotly draws as a gap)."""
    return pd.to_numeric(values, errors="coerce").astype(float).tolist()


def _one_decimal(values: pd.Series | list) -> list[float]:
    return [half_up(v, 1) for v in _floats(pd.Series(values))]  # NaN stays NaN


def stage_name(number: object) -> str:
    """'2. Trust and Vulnerability' for a stored stage number; 'Not rated' when empty."""
    if number is None or pd.isna(number):
        return "Not rated"
    stage = STAGE_BY_NUMBER.get(int(number))
    return stage.label if stage else f"Stage {int(number)}"


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _wrap(text: str, width: int = 20) -> str:
    return "<br>".join(textwrap.wrap(text, width)) or text


_SEED_BARRIER_NAMES = {b.code: b.name for b in SEED_BARRIERS}
_SEED_BARRIER_RANK = {b.name: i for i, b in enumerate(SEED_BARRIERS)}
_HABIT_RANK = {h.label: i for i, h in enumerate(HABITS)}


def barrier_name(value: object) -> str:
    """A seed barrier code reads as its catalog name; a clinic barrier keeps its own."""
    return _SEED_BARRIER_NAMES.get(str(value), str(value))


def barrier_order(names: object) -> list[str]:
    """Barriers present, in catalog order; clinic-specific ones after, alphabetically."""
    present = {str(n) for n in names}
    return sorted(present, key=lambda n: (_SEED_BARRIER_RANK.get(n, len(SEED_BARRIERS)), n))


def habit_name(key: object) -> str:
    return HABIT_BY_KEY[key].label if key in HABIT_BY_KEY else str(key)


def _habit_rank(label: str) -> tuple[int, str]:
    return _HABIT_RANK.get(label, len(HABITS)), label


def _attendance_label(value: object) -> str:
    try:
        return ATTENDANCE_LABELS[Attendance(str(value))]
    except ValueError:
        return str(value)


def attendance_words(value: object, name_a: str, name_b: str) -> str:
    """'Alex only' where the catalog says 'Partner A only': tables use the names."""
    if str(value) == Attendance.PARTNER_A.value:
        return f"{name_a} only"
    if str(value) == Attendance.PARTNER_B.value:
        return f"{name_b} only"
    return _attendance_label(value)


def bottom_legend(**extra: object) -> dict:
    """A horizontal legend at the foot of the figure, below the axis titles.

    Placed against the container, not the plot area: a legend placed a fraction below
    the plot moved up onto "Session date" when its own height (a long thresholds list, a
    narrow printed page) squeezed the plot. The margins grow to make room for it.
    """
    return (
        dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left") | extra
    )


def _layout(title: str, **extra: object) -> dict:
    layout: dict = dict(
        template=TEMPLATE,
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=16)),
        margin=dict(l=70, r=30, t=70, b=60),
        legend=bottom_legend(),
    )
    layout.update(extra)
    return layout


def _note(text: str, x: float, y: float, **extra: object) -> dict:
    """A paper-anchored annotation (messages and notes, never data)."""
    note = dict(text=text, xref="paper", yref="paper", x=x, y=y, showarrow=False)
    note["font"] = dict(size=11, color=LABEL_COLOR)
    note.update(extra)
    return note


def message_figure(title: str, message: str) -> go.Figure:
    """A figure that says, in its middle, why there is nothing to draw."""
    return go.Figure(
        layout=_layout(
            title,
            height=300,
            xaxis=dict(visible=False),
            yaxis=dict(visible=False),
            annotations=[_note(message, 0.5, 0.5, font=dict(size=16, color=LABEL_COLOR))],
        )
    )


def _in_legend(wording: str) -> dict:
    """Shape properties that list a threshold, in full, under "Thresholds" in the legend."""
    return dict(
        name=_wrap(wording, LEGEND_WRAP),
        showlegend=True,
        legendgroup="thresholds",
        legendgrouptitle=dict(text=THRESHOLDS_TITLE),
    )


def _hline(
    y: float,
    text: str,
    *,
    xref: str,
    yref: str,
    color: str,
    dash: str,
    name: str,
    legend: str | None = None,
) -> dict:
    """A horizontal threshold across a subplot, its label written on the line; with
    `legend`, that wording is listed in the legend too (as the shape's name)."""
    return dict(
        type="line",
        xref=xref,
        yref=yref,
        x0=0,
        x1=1,
        y0=y,
        y1=y,
        line=dict(color=color, width=1.5, dash=dash),
        layer="above",
        **({} if legend else dict(name=name)),
        label=dict(
            text=text,
            textposition="start",
            yanchor="bottom",
            font=dict(size=10, color=color),
        ),
        **(_in_legend(legend) if legend else {}),
    )


def _threshold_label(threshold: Threshold) -> str:
    return esc(threshold.label)
