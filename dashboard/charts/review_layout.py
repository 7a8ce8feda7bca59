"""The caseload review charts' titles and frame: what keeps them readable at 800 px.

Pure plotly layout dicts, shared by the review charts (review.py, clinic_month.py).
"""

from __future__ import annotations

import textwrap

import pandas as pd

from dashboard.charts.common import _layout

NEUTRAL_GREY = "#999999"  # Okabe-Ito grey: no reliable change, closed, stayed put
# Titles short enough for one line of a ~470 px chart (an 800 px window); what they
# leave out is the subtitle's, in smaller type, wrapped.
OUTCOME_MIX_TITLE = "Couples per counselor by outcome"
OUTCOME_MIX_SUBTITLE = "Judged per partner: EII, first vs latest rating"
STAGE_DISTRIBUTION_TITLE = "Couples per counselor by current stage"
STAGE_DISTRIBUTION_SUBTITLE = "The counselor's latest rating"
STAGE_FLOW_TITLE = "Stage flow: stage at intake → current stage"
BARRIER_PREVALENCE_TITLE = "Barrier prevalence by month"
WEEKLY_SESSIONS_TITLE = "Sessions per week"
WEEKLY_SESSIONS_SUBTITLE = "A bar a week, from its Monday"
CLINIC_MONTHLY_TITLE = "Clinic by month"
CLINIC_MONTHLY_SUBTITLE = "New and closed couples; median sessions until a partner improved"
REVIEW_MARGIN = dict(l=70, r=30, t=70, b=100)
LEGEND_GAP_PX = 64  # legend top below the plot area: clear of the x-axis title
# Streamlit draws a chart's title at the figure's top whatever its position says, where
# plotly's toolbar shows on hover: the page keeps that toolbar to three buttons
# (REVIEW_CHART_CONFIG) and titles to a line that ends before them at 800 px.
TITLE_TOP_PX = 12
REVIEW_CHART_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": [
        "zoom2d",
        "pan2d",
        "select2d",
        "lasso2d",
        "zoomIn2d",
        "zoomOut2d",
        "autoScale2d",
    ],
}
TITLE_WRAP = 44  # characters of a 16 px title line in a ~470 px chart
SUBTITLE_WRAP = 62  # of a 12 px subtitle line
TITLE_LINE_PX, SUBTITLE_LINE_PX, TITLE_GAP_PX = 21, 20, 18  # a line break keeps 16 px spacing


def _review_layout(title: str, subtitle: str = "", *, above_plot_px: int = 0, **extra) -> dict:
    """`_layout` with a subtitle in smaller type under the title, and a top margin that
    holds both (plus `above_plot_px` for a note over the plot): at 800 px neither runs
    into the plot, the note or the legend."""
    layout = _layout(title, **extra)
    lines = textwrap.wrap(title, TITLE_WRAP) or [title]
    sub = textwrap.wrap(subtitle, SUBTITLE_WRAP)
    text = "<br>".join(lines)
    if sub:
        text += '<br><span style="font-size:12px">' + "<br>".join(sub) + "</span>"
    layout["title"] = dict(text=text, x=0.01, xanchor="left", font=dict(size=16))
    top = TITLE_TOP_PX + TITLE_LINE_PX * len(lines) + SUBTITLE_LINE_PX * len(sub) + TITLE_GAP_PX
    layout["margin"] = {**layout["margin"], "t": top + above_plot_px}
    return layout


def _legend_below(height: int, margin: dict) -> dict:
    """A horizontal legend a fixed distance under the plot (below the x-axis title),
    whatever the figure's height."""
    plot = height - margin["t"] - margin["b"]
    y = -LEGEND_GAP_PX / plot
    return dict(orientation="h", yanchor="top", y=y, x=0, xanchor="left", traceorder="normal")


def format_month(value: object) -> str:
    """'Mar 2026'; an empty string for a missing date."""
    if value is None or pd.isna(value):
        return ""
    return f"{pd.Timestamp(value):%b %Y}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
