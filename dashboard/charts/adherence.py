"""Homework adherence: one line per habit, with what was never followed up; and its table."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    HABIT_STYLES,
    LABEL_COLOR,
    NOTE_BELOW_AXIS_PX,
    _floats,
    _habit_rank,
    _layout,
    _note,
    bottom_legend,
    esc,
    format_date,
    habit_name,
    message_figure,
)
from dashboard.charts.couple_frames import Prepared, _prepare
from dashboard.domain.catalog import (
    ADHERENCE,
    HABITS,
)
from dashboard.domain.timeline import TimelineData

NO_HABITS = "No habits assigned"
# Short enough for a phone-width page (plotly does not wrap titles); the x axis says
# when adherence is recorded.
ADHERENCE_TITLE = "Homework: how fully each habit was followed"
# Room under the adherence chart's note for its legend: one row per habit (five at
# most) when the page is narrow and the legend stacks.
LEGEND_ROWS_PX = 20 * len(HABITS) + 10
NOTE_WRAP = 80  # characters a line of that note holds on an 800 px page


@dataclass(frozen=True)
class Assignment:
    habit: str  # catalog label
    assigned_on: pd.Timestamp
    adherence: int | None
    recorded_on: pd.Timestamp | None


def assignments(data: TimelineData) -> list[Assignment]:
    """Habit assignments, in the order they were set (catalog order within a date)."""
    h = data.habits
    out = []
    for assigned, key, adherence, recorded in zip(
        h["assigned_on"], h["habit"], _floats(h["adherence"]), h["recorded_on"], strict=True
    ):
        out.append(
            Assignment(
                habit_name(key),
                pd.Timestamp(assigned),
                None if math.isnan(adherence) else int(adherence),
                None if recorded is None or pd.isna(recorded) else pd.Timestamp(recorded),
            )
        )
    out.sort(key=lambda a: (a.assigned_on, _habit_rank(a.habit)))
    return out


def _due_next(p: Prepared, task: Assignment) -> bool:
    """Homework set at the latest session is not late yet: it is due at the next one."""
    return p.latest_date is not None and task.assigned_on >= p.latest_date


def _adherence_word(p: Prepared, task: Assignment) -> str:
    if task.adherence is not None:
        return ADHERENCE[task.adherence]
    return "Due at the next session" if _due_next(p, task) else "Not followed up"


def _adherence(p: Prepared) -> go.Figure:
    tasks = assignments(p.data)
    if not tasks:
        return message_figure(ADHERENCE_TITLE, NO_HABITS)
    done = [t for t in tasks if t.adherence is not None and t.recorded_on is not None]
    done.sort(key=lambda t: (t.recorded_on, t.assigned_on))
    traces = []
    for i, habit in enumerate(sorted({t.habit for t in done}, key=_habit_rank)):
        color, symbol, dash = HABIT_STYLES[i % len(HABIT_STYLES)]
        mine = [t for t in done if t.habit == habit]
        traces.append(
            dict(
                type="scatter",
                x=[t.recorded_on for t in mine],
                y=[t.adherence for t in mine],
                name=esc(habit),
                mode="lines+markers",
                line=dict(color=color, dash=dash, width=2),
                marker=dict(color=color, symbol=symbol, size=9),
                hovertext=[
                    f"<b>{esc(habit)}</b>: {ADHERENCE[t.adherence]} "
                    f"(set {format_date(t.assigned_on)})"
                    for t in mine
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                meta=habit,
            )
        )
    pending = [t for t in tasks if t.adherence is None]
    due = [t for t in pending if _due_next(p, t)]
    never = [t for t in pending if not _due_next(p, t)]
    lines = []
    for title, group in (("Never followed up", never), ("Due at the next session", due)):
        if group:
            items = "; ".join(f"{esc(t.habit)} (set {format_date(t.assigned_on)})" for t in group)
            lines.append("<br>".join(textwrap.wrap(f"<b>{title}:</b> {items}", NOTE_WRAP)))
    n_lines = sum(line.count("<br>") + 1 for line in lines)
    annotations = []
    if lines:
        annotations.append(
            _note(
                "<br>".join(lines),
                0,
                0 if traces else 0.3,
                xanchor="left",
                yanchor="top",
                align="left",
                name="not followed up",
                # Below the axis title in pixels (a paper fraction moved with the
                # height and overlapped it): two-line tick dates and the title take ~70.
                yshift=-NOTE_BELOW_AXIS_PX if traces else 0,
            )
        )
    if not traces:
        annotations.append(
            _note("No adherence recorded yet", 0.5, 0.7, font=dict(size=16, color=LABEL_COLOR))
        )
    layout = _layout(
        ADHERENCE_TITLE,
        height=400 + 16 * n_lines,
        hovermode="x unified",
        annotations=annotations,
        xaxis=dict(type="date", title=dict(text="Recorded at the session after it was set")),
        yaxis=dict(
            range=[-0.3, 3.3],
            tickvals=list(ADHERENCE),
            ticktext=list(ADHERENCE.values()),
            title=dict(text="Adherence"),
            fixedrange=True,
        ),
        # Below the plot: the note, then the legend (a legend at the side left a third of
        # a narrow page's width to the chart).
        margin=dict(l=80, r=30, t=70, b=100 + 16 * n_lines + LEGEND_ROWS_PX),
        legend=bottom_legend(),
    )
    return go.Figure(dict(data=traces, layout=layout))


def adherence_chart(data: TimelineData) -> go.Figure:
    """Adherence 0-3 over time, one line per habit; homework never followed up is listed."""
    return _adherence(_prepare(data))


def _adherence_table(p: Prepared) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                t.habit,
                format_date(t.assigned_on),
                format_date(t.recorded_on),
                _adherence_word(p, t),
            ]
            for t in assignments(p.data)
        ],
        columns=["Habit", "Set on", "Recorded on", "Adherence"],
    )
