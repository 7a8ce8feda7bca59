"""The admin's clinic-by-month chart of the caseload review: couples opened and closed,
and the median sessions held until a partner first reliably improved (partner-level, as
the couple's outcome is: the couple-mean EII does not count)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    COUPLE_COLOR,
    PARTNER_A_COLOR,
    _floats,
    _note,
    _one_decimal,
    bottom_legend,
    message_figure,
)
from dashboard.charts.review_layout import (
    CLINIC_MONTHLY_SUBTITLE,
    CLINIC_MONTHLY_TITLE,
    NEUTRAL_GREY,
    _count,
    _review_layout,
    format_month,
)
from dashboard.domain.numbers import one_decimal

NEW_COUPLES_COLOR = PARTNER_A_COLOR
CLOSED_COUPLES_COLOR = NEUTRAL_GREY
IMPROVEMENT_COLOR = COUPLE_COLOR
NO_REVIEW_CLINIC = "No couples in this date range"
NO_IMPROVEMENT = "No partner reached a first reliable improvement in this date range"
FIRST_IMPROVED = "Couples with a partner first improved"
MEDIAN_TO_FIRST = "Median sessions to a partner's first reliable improvement"


def clinic_monthly_chart(frame: pd.DataFrame) -> go.Figure:
    """Top: couples opened and closed each month. Bottom: the median number of sessions
    held until either partner first reliably improved, for the couples where that
    happened that month (a month where none did is a gap)."""
    if frame.empty:
        return message_figure(CLINIC_MONTHLY_TITLE, NO_REVIEW_CLINIC)
    months = [format_month(m) for m in frame["month"]]
    improved = [int(n) for n in frame["improved_couples"]]
    median = _floats(frame["median_sessions_to_improvement"])
    traces = [
        dict(
            type="bar",
            x=months,
            y=[int(n) for n in frame[column]],
            name=name,
            marker=dict(color=color),
            hovertemplate=f"%{{x}}: %{{y}} {what}<extra></extra>",
            meta=column,
        )
        for column, name, what, color in (
            ("new_couples", "New couples", "new", NEW_COUPLES_COLOR),
            ("closed_couples", "Closed couples", "closed", CLOSED_COUPLES_COLOR),
        )
    ]
    traces.append(
        dict(
            type="scatter",
            x=months,
            y=median,
            yaxis="y2",
            name=MEDIAN_TO_FIRST,
            mode="lines+markers",
            connectgaps=False,
            line=dict(color=IMPROVEMENT_COLOR, width=2.5),
            marker=dict(color=IMPROVEMENT_COLOR, size=8),
            hovertext=[
                f"{m}: no partner first improved"
                if math.isnan(v)
                else f"{m}: median {one_decimal(v)} sessions held to a partner's first "
                f"reliable improvement (n = {_count(n, 'couple')})"
                for m, v, n in zip(months, median, improved, strict=True)
            ],
            hovertemplate="%{hovertext}<extra></extra>",
            meta="median_sessions_to_improvement",
        )
    )
    annotations = []
    if all(math.isnan(v) for v in median):
        annotations.append(_note(NO_IMPROVEMENT, 0.5, 0.19))
    layout = _review_layout(
        CLINIC_MONTHLY_TITLE,
        CLINIC_MONTHLY_SUBTITLE,
        height=540,
        barmode="group",
        hovermode="closest",
        annotations=annotations,
        xaxis=dict(type="category", anchor="y2", title=dict(text="Month")),
        yaxis=dict(domain=[0.48, 1], title=dict(text="Couples"), rangemode="tozero"),
        yaxis2=dict(
            domain=[0, 0.38], anchor="x", title=dict(text="Median sessions"), rangemode="tozero"
        ),
        margin=dict(l=70, r=30, t=70, b=70),
        legend=bottom_legend(),
    )
    return go.Figure(dict(data=traces, layout=layout))


def clinic_monthly_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Month, couples opened / closed / with a partner first improved, and the median
    sessions held to that improvement."""
    return pd.DataFrame(
        {
            "Month": pd.to_datetime(frame["month"]).to_numpy(),
            "New couples": frame["new_couples"].astype("int64").to_numpy(),
            "Closed couples": frame["closed_couples"].astype("int64").to_numpy(),
            FIRST_IMPROVED: frame["improved_couples"].astype("int64").to_numpy(),
            MEDIAN_TO_FIRST: _one_decimal(frame["median_sessions_to_improvement"]),
        }
    )
