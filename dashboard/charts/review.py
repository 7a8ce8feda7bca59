"""The supervisor's caseload review charts: the long frames of
`domain.review.CaseloadReview` in, figures and tables out."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.clinic_month import clinic_monthly_chart, clinic_monthly_table
from dashboard.charts.common import (
    ALERT_COLOR,
    COUPLE_COLOR,
    LEGEND_WRAP,
    PARTIAL_MONTH_NOTE,
    PARTNER_A_COLOR,
    _floats,
    _note,
    _one_decimal,
    _rgba,
    _wrap,
    barrier_order,
    esc,
    format_date,
    message_figure,
)
from dashboard.charts.review_layout import (
    BARRIER_PREVALENCE_TITLE,
    NEUTRAL_GREY,
    OUTCOME_MIX_SUBTITLE,
    OUTCOME_MIX_TITLE,
    REVIEW_MARGIN,
    STAGE_DISTRIBUTION_SUBTITLE,
    STAGE_DISTRIBUTION_TITLE,
    STAGE_FLOW_TITLE,
    WEEKLY_SESSIONS_SUBTITLE,
    WEEKLY_SESSIONS_TITLE,
    _count,
    _legend_below,
    _review_layout,
    format_month,
)
from dashboard.charts.review_layout import REVIEW_CHART_CONFIG as REVIEW_CHART_CONFIG
from dashboard.domain.couple_outcome import (
    BOTH_IMPROVED,
    DETERIORATED,
    MIXED,
    NO_CHANGE,
    ONE_IMPROVED,
    OUTCOMES,
    TOO_EARLY,
)
from dashboard.domain.numbers import one_decimal
from dashboard.domain.review import (
    ATTENDANCE_GROUPS,
    CANCELLED_LABEL,
    HELD_LABEL,
    NO_SHOW_LABEL,
    NOT_RATED,
    STAGE_LABELS,
)

# -- supervisor caseload review -------------------------------------------------------
# Frames in (the long frames of `domain.review.CaseloadReview`), figures and tables out.
# Counselor and barrier names are user text, escaped wherever plotly renders them.
# Improved in the couple's green (one partner: a tint of it); mixed in Okabe–Ito's
# reddish purple, beside deteriorated's vermilion: both mean a partner got worse.
OUTCOME_COLORS: dict[str, str] = {
    BOTH_IMPROVED: COUPLE_COLOR,
    ONE_IMPROVED: "#7FCEB9",
    NO_CHANGE: NEUTRAL_GREY,
    MIXED: "#CC79A7",
    DETERIORATED: ALERT_COLOR,
    TOO_EARLY: "#DDDDDD",
}
# Stages 1-4 darken along one blue-green hue (ColorBrewer BuGn, colour-blind safe and
# ordered in greyscale); not rated is a light neutral grey.
STAGE_COLORS: dict[str, str] = dict(
    zip(STAGE_LABELS, ("#B2E2E2", "#66C2A4", "#2CA25F", "#006D2C", "#E0E0E0"), strict=True)
)
RATED_STAGES: tuple[str, ...] = tuple(s for s in STAGE_LABELS if s != NOT_RATED)
FLOW_COLORS: dict[int, str] = {  # sign of (current - intake) stage number -> link colour
    1: _rgba(COUPLE_COLOR, 0.45),
    0: _rgba(NEUTRAL_GREY, 0.45),
    -1: _rgba(ALERT_COLOR, 0.45),
}
# The same colours, opaque, for the key that explains the links.
FLOW_KEY_COLORS: dict[int, str] = {1: COUPLE_COLOR, 0: NEUTRAL_GREY, -1: ALERT_COLOR}
ATTENDANCE_COLORS: dict[str, str] = {
    HELD_LABEL: PARTNER_A_COLOR,
    NO_SHOW_LABEL: ALERT_COLOR,
    CANCELLED_LABEL: "#BBBBBB",
}
BARRIER_COLORS: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
# A marker shape per barrier too, so no line depends on colour alone.
BARRIER_SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "x", "cross")

NO_REVIEW_COUPLES = "No couples in this selection"
NO_REVIEW_FLOW = "No couples in this selection with a stage rated at intake and now"
NO_REVIEW_SESSIONS = "No sessions in this date range"
NO_REVIEW_BARRIERS = "No barriers tagged in this date range"
BARRIER_SHARE_AXIS = "Sessions held with the barrier tagged (%)"
WEEK = pd.Timedelta(days=7)
WEEK_TICKS = 5  # dated ticks on the weekly chart: level, two lines each, fit 800 px


def _wide(
    frame: pd.DataFrame, index: str, columns: str, values: str, order: tuple[str, ...]
) -> pd.DataFrame:
    """Long counts made wide: rows in order of first appearance (dates sorted), columns in
    `order`, 0 where a pair is missing."""
    rows = pd.unique(frame[index])
    if pd.api.types.is_datetime64_any_dtype(frame[index]):
        rows = sorted(rows)
    sums = frame.groupby([index, columns], sort=False)[values].sum()
    wide = sums.unstack(columns) if len(sums) else pd.DataFrame()
    wide = wide.reindex(index=pd.Index(list(rows), name=index), columns=list(order))
    wide = wide.fillna(0).astype("int64")
    wide.columns.name = None
    return wide


def _stack(
    wide: pd.DataFrame,
    colors: dict[str, str],
    hover: Callable[[object, str, int, int], str],
    *,
    position: list,
    horizontal: bool,
) -> list[dict]:
    """One bar trace per column of `wide`, stacked along its rows at `position`; hover
    gets (row, column, count, row total)."""
    totals = [int(t) for t in wide.sum(axis=1)]
    traces = []
    for group in wide.columns:
        counts = [int(v) for v in wide[group]]
        at = (
            dict(x=counts, y=position, orientation="h")
            if horizontal
            else dict(x=position, y=counts)
        )
        traces.append(
            dict(
                type="bar",
                name=esc(group),
                **at,
                marker=dict(color=colors[group], line=dict(color="#FFFFFF", width=1)),
                hovertext=[
                    hover(row, group, n, total)
                    for row, n, total in zip(wide.index, counts, totals, strict=True)
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                meta=group,
            )
        )
    return traces


def _counselor_hover(counselor: object, group: str, n: int, total: int) -> str:
    share = 100 * n / total if total else 0.0
    return (
        f"<b>{esc(counselor)}</b><br>{esc(group)}: {_count(n, 'couple')}"
        f"<br>{one_decimal(share)}% of this counselor's {_count(total, 'couple')}"
    )


def _counselor_stack(
    frame: pd.DataFrame,
    column: str,
    order: tuple[str, ...],
    colors: dict[str, str],
    title: str,
    subtitle: str,
) -> go.Figure:
    """Horizontal stacked bars, a counselor a bar (top to bottom in frame order)."""
    wide = _wide(frame, "counselor", column, "couples", order)
    if int(wide.to_numpy().sum()) == 0:
        return message_figure(title, NO_REVIEW_COUPLES)
    names = [esc(c) for c in wide.index]
    margin = dict(REVIEW_MARGIN)
    height = max(260, 120 + 28 * len(names))
    layout = _review_layout(
        title,
        subtitle,
        height=height,
        barmode="stack",
        # No axis title: the chart's title says the bars count couples, and Streamlit's
        # theme would otherwise draw the legend over it.
        xaxis=dict(rangemode="tozero"),
        yaxis=dict(
            type="category", categoryorder="array", categoryarray=names, autorange="reversed"
        ),
        margin=margin,
    )
    # The title's room comes out of the plot: the figure grows by it, the bars keep theirs.
    layout["height"] = height + layout["margin"]["t"] - margin["t"]
    layout["legend"] = _legend_below(layout["height"], layout["margin"])
    traces = _stack(wide, colors, _counselor_hover, position=names, horizontal=True)
    return go.Figure(dict(data=traces, layout=layout))


def _counselor_table(frame: pd.DataFrame, column: str, order: tuple[str, ...]) -> pd.DataFrame:
    wide = _wide(frame, "counselor", column, "couples", order)
    wide["Couples"] = wide.sum(axis=1).astype("int64")
    return wide.rename_axis("Counselor").reset_index()


def outcome_mix_chart(frame: pd.DataFrame) -> go.Figure:
    """Each counselor's couples by partner-level outcome (couple_outcome.py), one stacked
    bar each."""
    return _counselor_stack(
        frame, "outcome", OUTCOMES, OUTCOME_COLORS, OUTCOME_MIX_TITLE, OUTCOME_MIX_SUBTITLE
    )


def outcome_mix_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Counselor, a column per outcome, and their couples in all."""
    return _counselor_table(frame, "outcome", OUTCOMES)


def stage_distribution_chart(frame: pd.DataFrame) -> go.Figure:
    """Each counselor's couples by their latest stage rating, as one stacked bar."""
    return _counselor_stack(
        frame,
        "stage",
        STAGE_LABELS,
        STAGE_COLORS,
        STAGE_DISTRIBUTION_TITLE,
        STAGE_DISTRIBUTION_SUBTITLE,
    )


def stage_distribution_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Counselor, a column per stage (and not rated), and their couples in all."""
    return _counselor_table(frame, "stage", STAGE_LABELS)


def _flows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rated stage pairs with couples, in stage order (intake, then current)."""
    rank = {label: i + 1 for i, label in enumerate(RATED_STAGES)}
    flows = frame[
        frame["intake_stage"].isin(rank)
        & frame["current_stage"].isin(rank)
        & (pd.to_numeric(frame["couples"]) > 0)
    ]
    flows = flows.groupby(["intake_stage", "current_stage"], sort=False)["couples"].sum()
    flows = flows.reset_index().astype({"couples": "int64"})
    flows["intake_rank"] = flows["intake_stage"].map(rank)
    flows["current_rank"] = flows["current_stage"].map(rank)
    return flows.sort_values(["intake_rank", "current_rank"], kind="stable", ignore_index=True)


def _node_y(flows: pd.DataFrame, column: str, stages: list[str]) -> list[float]:
    """Each node's centre down its column (0 top, 1 bottom), in stage order."""
    sizes = [int(flows.loc[flows[column] == s, "couples"].sum()) for s in stages]
    total = sum(sizes)
    ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
    return [0.02 + 0.96 * (end - size / 2) / total for end, size in zip(ends, sizes, strict=True)]


def stage_flow_chart(frame: pd.DataFrame) -> go.Figure:
    """Couples from their stage at intake (left) to their current stage (right); a link is
    green where they moved up, grey where they stayed, vermilion where they moved down."""
    flows = _flows(frame)
    if flows.empty:
        return message_figure(STAGE_FLOW_TITLE, NO_REVIEW_FLOW)
    left = [s for s in RATED_STAGES if s in set(flows["intake_stage"])]
    right = [s for s in RATED_STAGES if s in set(flows["current_stage"])]
    node = {("Intake", s): i for i, s in enumerate(left)}
    node |= {("Now", s): len(left) + i for i, s in enumerate(right)}
    moves = [
        (a, b, int(n), (cur > start) - (cur < start))
        for a, b, n, start, cur in zip(
            flows["intake_stage"],
            flows["current_stage"],
            flows["couples"],
            flows["intake_rank"],
            flows["current_rank"],
            strict=True,
        )
    ]
    sankey = dict(
        type="sankey",
        arrangement="snap",
        valueformat="d",
        # Dark labels without plotly's white halo, which blurs them over the links.
        textfont=dict(color="#1A1A1A", size=12, shadow="none"),
        node=dict(
            label=[f"{side}: {esc(stage)}" for side, stage in node],
            x=[0.001] * len(left) + [0.999] * len(right),  # stages top to bottom, in order
            y=_node_y(flows, "intake_stage", left) + _node_y(flows, "current_stage", right),
            color=[STAGE_COLORS[stage] for _, stage in node],
            line=dict(color="#BDBDBD", width=0.5),
            pad=18,
            thickness=18,
            hovertemplate="%{label}<br>%{value} couples<extra></extra>",
        ),
        link=dict(
            source=[node["Intake", a] for a, _, _, _ in moves],
            target=[node["Now", b] for _, b, _, _ in moves],
            value=[n for _, _, n, _ in moves],
            color=[FLOW_COLORS[d] for *_, d in moves],
            customdata=[f"{_count(n, 'couple')}: {esc(a)} → {esc(b)}" for a, b, n, _ in moves],
            hovertemplate="%{customdata}<extra></extra>",
        ),
    )
    key = "   ".join(
        f'<span style="color:{FLOW_KEY_COLORS[d]}">■</span> {words}'
        for d, words in ((1, "moved to a later stage"), (0, "same stage"), (-1, "moved back"))
    )
    layout = _review_layout(
        STAGE_FLOW_TITLE,
        above_plot_px=24,  # the links' key
        height=max(360, 90 * max(len(left), len(right)) + 120),
        annotations=[
            _note(
                f"Links: {key}",
                0,
                1,
                xanchor="left",
                yanchor="bottom",
                yshift=6,
                name="link colours",
            )
        ],
    )
    return go.Figure(dict(data=[sankey], layout=layout))


def stage_flow_table(frame: pd.DataFrame) -> pd.DataFrame:
    """At intake, now, and how many couples made that move."""
    flows = _flows(frame)[["intake_stage", "current_stage", "couples"]]
    return flows.set_axis(["At intake", "Now", "Couples"], axis=1)


def _barriers_tagged(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the barriers tagged at least once, by month then barrier order."""
    tagged = frame.groupby("barrier", sort=False)["tagged"].transform("sum") > 0
    rows = frame[tagged]
    rank = {name: i for i, name in enumerate(barrier_order(rows["barrier"]))}
    return rows.assign(_rank=rows["barrier"].map(rank)).sort_values(
        ["_rank", "month"], kind="stable", ignore_index=True
    )


def _barrier_hover(barrier: str, month: object, tagged: int, held: int, share: float) -> str:
    pct = "" if math.isnan(share) else f"{one_decimal(share * 100)}% of sessions held<br>"
    return (
        f"<b>{esc(barrier)}</b><br>{format_month(month)}<br>{pct}"
        f"tagged at {tagged} of {_count(held, 'session')} held"
    )


def _partial_months(rows: pd.DataFrame) -> pd.Series:
    """True where a month is only partly inside the date range (review's days_in_range;
    a frame without the column counts every month whole)."""
    if "days_in_range" not in rows or "days_in_month" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["days_in_range"].astype("int64") < rows["days_in_month"].astype("int64")


def barrier_prevalence_chart(frame: pd.DataFrame) -> go.Figure:
    """The share of sessions held each month with each barrier tagged, a line a barrier;
    a month without a held session is a gap. A month only partly in the range (the
    current month, two days old) is an open marker off the line: its share rests on a
    few days' sessions, and a line dropping to it would read as a fall."""
    rows = _barriers_tagged(frame)
    if rows.empty:
        return message_figure(BARRIER_PREVALENCE_TITLE, NO_REVIEW_BARRIERS)
    partial_rows = _partial_months(rows)
    traces = []
    for i, (_, mine) in enumerate(rows.groupby("_rank", sort=True)):
        barrier = str(mine["barrier"].iloc[0])
        color = BARRIER_COLORS[i % len(BARRIER_COLORS)]
        symbol = BARRIER_SYMBOLS[i % len(BARRIER_SYMBOLS)]
        share = _floats(mine["share"])
        severity = _floats(mine["mean_severity"])
        partial = partial_rows.loc[mine.index].tolist()
        days = mine["days_in_range"].tolist() if "days_in_range" in mine else [0] * len(mine)
        hover = [
            _barrier_hover(barrier, month, int(t), int(h), s)
            + ("" if math.isnan(m) else f"<br>Mean severity {one_decimal(m)}")
            + (f"<br>Month so far: {d} days in the range" if part else "")
            for month, t, h, s, m, part, d in zip(
                mine["month"],
                mine["tagged"],
                mine["sessions_held"],
                share,
                severity,
                partial,
                days,
                strict=True,
            )
        ]
        whole = [math.nan if part else v * 100 for v, part in zip(share, partial, strict=True)]
        traces.append(
            dict(
                type="scatter",
                x=list(mine["month"]),
                y=whole,
                name=esc(barrier),
                mode="lines+markers",
                connectgaps=False,
                line=dict(color=color, width=2),
                marker=dict(color=color, size=8, symbol=symbol),
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                meta=barrier,
                legendgroup=barrier,
            )
        )
        if any(partial):
            traces.append(
                dict(
                    type="scatter",
                    x=list(mine["month"]),
                    y=[
                        v * 100 if part else math.nan
                        for v, part in zip(share, partial, strict=True)
                    ],
                    name=f"{esc(barrier)} (month so far)",
                    mode="markers",
                    marker=dict(color=color, size=9, symbol=f"{symbol}-open"),
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                    showlegend=False,
                    legendgroup=barrier,
                    meta=f"{barrier} (month so far)",
                )
            )
    months = rows["month"].nunique()
    annotations = []
    if partial_rows.any():
        annotations.append(
            _note(
                _wrap(PARTIAL_MONTH_NOTE, LEGEND_WRAP),  # one line ran off an 800 px page
                0,
                1,
                xanchor="left",
                yanchor="bottom",
                align="left",
                yshift=6,  # between the title and the plot; the legend is below
                name="partial month",
            )
        )
    layout = _review_layout(
        BARRIER_PREVALENCE_TITLE,
        above_plot_px=40 if annotations else 0,  # room for the note's two lines
        height=460,
        hovermode="closest",
        annotations=annotations,
        margin=dict(l=70, r=30, t=70, b=60),
        xaxis=dict(type="date", tickformat="%b %Y", dtick=f"M{max(1, math.ceil(months / 12))}"),
        yaxis=dict(range=[0, 100], title=dict(text=BARRIER_SHARE_AXIS), ticksuffix="%"),
    )
    return go.Figure(dict(data=traces, layout=layout))


def barrier_prevalence_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Month, barrier, sessions tagged / held, the share in % and the mean severity."""
    rows = _barriers_tagged(frame).sort_values(["month", "_rank"], kind="stable")
    return pd.DataFrame(
        {
            "Month": pd.to_datetime(rows["month"]).to_numpy(),
            "Barrier": rows["barrier"].astype(str).to_numpy(),
            "Tagged": rows["tagged"].astype("int64").to_numpy(),
            "Sessions held": rows["sessions_held"].astype("int64").to_numpy(),
            "Share (%)": _one_decimal(rows["share"] * 100),
            "Mean severity": _one_decimal(rows["mean_severity"]),
        }
    )


def _week_hover(week: object, group: str, n: int, total: int) -> str:
    return f"Week of {format_date(week)}: {n} {group.lower()} (of {_count(total, 'session')})"


def weekly_sessions_chart(frame: pd.DataFrame) -> go.Figure:
    """Sessions each week, stacked held / no-show / cancelled; a bar spans its week."""
    wide = _wide(frame, "week", "attendance", "sessions", ATTENDANCE_GROUPS)
    if int(wide.to_numpy().sum()) == 0:
        return message_figure(WEEKLY_SESSIONS_TITLE, NO_REVIEW_SESSIONS)
    weeks = list(wide.index)
    traces = _stack(wide, ATTENDANCE_COLORS, _week_hover, position=weeks, horizontal=False)
    week_ms = WEEK.total_seconds() * 1000  # a date axis counts in milliseconds
    for trace in traces:  # a bar spans its week from Monday, a little short of Sunday's end
        trace.update(width=week_ms * 0.85, offset=week_ms * 0.075)
    height = 440
    layout = _review_layout(
        WEEKLY_SESSIONS_TITLE,
        WEEKLY_SESSIONS_SUBTITLE,
        height=height,
        barmode="stack",
        # No axis title (the subtitle says what a bar is) and level two-line ticks: at
        # 800 px the slanted dates pushed "Week starting" onto the legend.
        xaxis=dict(
            type="date",
            range=[weeks[0] - pd.Timedelta(days=1), weeks[-1] + WEEK + pd.Timedelta(days=1)],
            tick0=weeks[0],
            dtick=week_ms * math.ceil(len(weeks) / WEEK_TICKS),
            tickformat="%-d %b<br>%Y",
            tickangle=0,
        ),
        yaxis=dict(title=dict(text="Sessions"), rangemode="tozero"),
        margin=REVIEW_MARGIN,
    )
    layout["legend"] = _legend_below(height, layout["margin"])
    return go.Figure(dict(data=traces, layout=layout))


def weekly_sessions_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Week (its Monday), sessions held / no-show / cancelled, and all of them."""
    wide = _wide(frame, "week", "attendance", "sessions", ATTENDANCE_GROUPS)
    wide["Total"] = wide.sum(axis=1).astype("int64")
    return wide.rename_axis("Week").reset_index()


# Keyed by the `CaseloadReview` frame each draws: (chart, table).
_REVIEW: dict[
    str, tuple[Callable[[pd.DataFrame], go.Figure], Callable[[pd.DataFrame], pd.DataFrame]]
] = {
    "outcome_mix": (outcome_mix_chart, outcome_mix_table),
    "stage_distribution": (stage_distribution_chart, stage_distribution_table),
    "stage_flow": (stage_flow_chart, stage_flow_table),
    "barrier_months": (barrier_prevalence_chart, barrier_prevalence_table),
    "weekly_sessions": (weekly_sessions_chart, weekly_sessions_table),
    "monthly": (clinic_monthly_chart, clinic_monthly_table),
}
REVIEW_KEYS: tuple[str, ...] = tuple(_REVIEW)


def review_figures(review: object) -> dict[str, go.Figure]:
    """Every caseload-review chart of a `CaseloadReview`, keyed by the frame it draws."""
    return {key: chart(getattr(review, key)) for key, (chart, _) in _REVIEW.items()}


def review_chart(review: object, key: str) -> tuple[go.Figure, pd.DataFrame]:
    """One caseload-review chart and its table view (the page draws only the tab in view)."""
    chart, table = _REVIEW[key]
    frame = getattr(review, key)
    return chart(frame), table(frame)


def review_tables(review: object) -> dict[str, pd.DataFrame]:
    """The same numbers as readable tables, keyed as `review_figures` is."""
    return {key: table(getattr(review, key)) for key, (_, table) in _REVIEW.items()}
