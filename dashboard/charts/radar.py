"""The eight indicator items on a radar (intake against latest) and the barrier
heatmap; and their tables."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    LABEL_COLOR,
    PARTNER_A_COLOR,
    PARTNER_B_COLOR,
    SEVERITY_COLORS,
    _floats,
    _layout,
    _note,
    _one_decimal,
    _rgba,
    _wrap,
    barrier_order,
    bottom_legend,
    esc,
    format_date,
    message_figure,
)
from dashboard.charts.couple_frames import NO_SESSIONS, Prepared, _prepare
from dashboard.domain.catalog import (
    INDICATORS,
    RATING_MAX,
    SEVERITIES,
)
from dashboard.domain.numbers import one_decimal
from dashboard.domain.timeline import TimelineData

NO_RATINGS = "No indicator ratings recorded"
NO_BARRIERS = "No barriers tagged"
ITEM_KEYS: tuple[str, ...] = tuple(i.key for i in INDICATORS)
# The radar draws a warning sign reversed (10 − rating), so outward is better on every
# axis: a shape that grows is a couple doing better, never one whose warnings grew.
REVERSED_TAG = "(reversed)"
ITEM_LABELS: tuple[str, ...] = tuple(
    f"{i.label} {REVERSED_TAG}" if i.reverse_scored else i.label for i in INDICATORS
)
REVERSED_ITEMS: tuple[bool, ...] = tuple(i.reverse_scored for i in INDICATORS)
# The table keeps the numbers as rated (what the session form shows), and says so.
TABLE_ITEM_LABELS: tuple[str, ...] = tuple(
    f"{i.label} (warning sign, as rated; drawn at 10 − rating)" if i.reverse_scored else i.label
    for i in INDICATORS
)
RADAR_KEY = "Warning signs drawn reversed (10 − rating): outward is better on every axis"
SEVERITY_WORDS: dict[int, str] = {0: "Not tagged", **SEVERITIES}

RADAR_TITLE = (
    "The eight indicator items at intake and at the latest session"
    "<br><sup>Outward is better on every axis: the 3 warning signs are drawn reversed "
    "(10 − rating)</sup>"
)
BARRIERS_TITLE = "Barriers tagged at each session, by severity"


@dataclass(frozen=True)
class RatedSession:
    which: str  # "intake" or "latest"
    when: pd.Timestamp
    values: tuple[float, ...]  # in catalog order, NaN where not rated


def intake_and_latest(data: TimelineData, partner: str) -> list[RatedSession]:
    """A partner's first and last sessions with ratings (only the first when rated once)."""
    r = data.ratings
    by_session: dict[int, tuple[pd.Timestamp, dict[str, float]]] = {}
    for sid, when, who, item, value in zip(
        r["session_id"],
        r["session_date"],
        r["partner"],
        r["item"],
        _floats(r["value"]),
        strict=True,
    ):
        if str(who) != partner or math.isnan(value):
            continue
        entry = by_session.setdefault(int(sid), (pd.Timestamp(when), {}))
        entry[1][str(item)] = value
    if not by_session:
        return []
    order = sorted(by_session, key=lambda sid: (by_session[sid][0], sid))
    picks = [("intake", order[0])] + ([("latest", order[-1])] if len(order) > 1 else [])
    return [
        RatedSession(
            which,
            by_session[sid][0],
            tuple(by_session[sid][1].get(k, math.nan) for k in ITEM_KEYS),
        )
        for which, sid in picks
    ]


def drawn_value(value: float, reversed_item: bool) -> float:
    """Where the radar draws a rating: a warning sign at 10 − rating (NaN stays NaN)."""
    return RATING_MAX - value if reversed_item and not math.isnan(value) else value


def _radar_hover(label: str, value: float, reversed_item: bool) -> str:
    if math.isnan(value):
        return f"{esc(label)}: not rated"
    if not reversed_item:
        return f"{esc(label)}: {one_decimal(value)}"
    drawn = one_decimal(drawn_value(value, True))
    return (
        f"{esc(label.removesuffix(' ' + REVERSED_TAG))}: rated {one_decimal(value)} "
        f"(a warning sign, higher is worse)<br>drawn reversed at {drawn}: outward is better"
    )


def _radar_key() -> dict:
    """A legend entry (no data) that says the warning signs are drawn reversed."""
    return dict(
        type="scatterpolar",
        r=[None],
        theta=[None],
        mode="markers",
        name=RADAR_KEY,
        marker=dict(symbol="arrow-up", size=10, color=LABEL_COLOR),
        hoverinfo="skip",
        legendgroup="reversed",
        meta="reversed",
    )


# Where each partner's radar sits: (polar domain x, y), and its name's (x, y). On the
# page they stack, so each keeps the full width at 800 px (side by side, the two left
# 120 px circles whose labels ran into each other); on the fixed-width printed page,
# side by side.
_RADAR_STACKED = {
    "A": (([0, 1], [0.59, 0.93]), (0.5, 0.955)),
    "B": (([0, 1], [0.08, 0.42]), (0.5, 0.445)),
}
_RADAR_SIDE_BY_SIDE = {
    "A": (([0, 0.36], [0, 0.82]), (0.18, 0.93)),
    "B": (([0.64, 1], [0, 0.82]), (0.82, 0.93)),
}


def _radar(p: Prepared, *, side_by_side: bool = False) -> go.Figure:
    picks = {code: intake_and_latest(p.data, code) for code in "AB"}
    places = _RADAR_SIDE_BY_SIDE if side_by_side else _RADAR_STACKED
    if not any(picks.values()):
        return message_figure(RADAR_TITLE, NO_RATINGS)
    theta = [
        _wrap(label.removesuffix(" " + REVERSED_TAG), 16) + ("<br><i>(reversed)</i>" if rev else "")
        for label, rev in zip(ITEM_LABELS, REVERSED_ITEMS, strict=True)
    ]
    traces: list[dict] = []
    annotations: list[dict] = []
    for col, (code, color) in enumerate((("A", PARTNER_A_COLOR), ("B", PARTNER_B_COLOR)), start=1):
        name = esc(p.partner(code))
        centre, top = places[code][1]
        annotations.append(
            _note(
                f"<b>{name}</b>",
                centre,
                top,
                yanchor="bottom",
                font=dict(size=14, color=color),
                name=f"title {code}",
            )
        )
        if not picks[code]:
            middle = sum(places[code][0][1]) / 2
            annotations.append(_note(f"{name}: no ratings yet", centre, middle))
        for rated in picks[code]:
            latest = rated.which == "latest"
            when = format_date(rated.when)
            values = list(rated.values)
            drawn = [drawn_value(v, rev) for v, rev in zip(values, REVERSED_ITEMS, strict=True)]
            hover = [
                f"{name}, {rated.which} ({when})<br>{_radar_hover(label, v, rev)}"
                for label, v, rev in zip(ITEM_LABELS, values, REVERSED_ITEMS, strict=True)
            ]
            traces.append(
                dict(
                    type="scatterpolar",
                    subplot="polar" if col == 1 else "polar2",
                    r=[*drawn, drawn[0]],
                    theta=[*theta, theta[0]],
                    name=f"{name}: {rated.which} ({when})",
                    mode="lines+markers",
                    connectgaps=False,
                    line=dict(
                        color=color, width=2.5 if latest else 1.5, dash="solid" if latest else "dot"
                    ),
                    marker=dict(color=color, size=6, symbol="circle" if latest else "circle-open"),
                    fill="toself" if latest else "none",
                    fillcolor=_rgba(color, 0.15),
                    hovertext=[*hover, hover[0]],
                    hovertemplate="%{hovertext}<extra></extra>",
                    legendgroup=code,
                    meta=rated.which,
                )
            )
    traces.append(_radar_key())
    polar = dict(
        radialaxis=dict(
            range=[0, 10], tickvals=[0, 2, 4, 6, 8, 10], angle=67.5, tickfont=dict(size=9)
        ),
        angularaxis=dict(direction="clockwise", rotation=90, tickfont=dict(size=10)),
    )
    (ax, ay), (bx, by) = places["A"][0], places["B"][0]
    layout = _layout(
        RADAR_TITLE,
        height=580 if side_by_side else 1000,
        polar=dict(domain=dict(x=ax, y=ay), **polar),
        polar2=dict(domain=dict(x=bx, y=by), **polar),
        annotations=annotations,
        margin=dict(l=110, r=110, t=120, b=90),
        legend=bottom_legend(x=0.5, xanchor="center"),
    )
    return go.Figure(dict(data=traces, layout=layout))


def item_radar(data: TimelineData) -> go.Figure:
    """Each partner's eight indicator items (0-10, warning signs drawn reversed so outward
    is better on every axis) at intake against the latest session, side by side."""
    return _radar(_prepare(data))


# -- 4. barrier heatmap --------------------------------------------------------------
@dataclass(frozen=True)
class BarrierGrid:
    barriers: list[str]  # rows, catalog order
    sessions: list[str]  # column labels: the date, numbered when a date holds several
    session_ids: list[int]
    z: list[list[int]]  # severity 0 (not tagged) .. 3
    text: list[list[str]]  # hover per cell


def barrier_grid(data: TimelineData | Prepared) -> BarrierGrid:
    """Barrier × held session severities, 0 where a barrier was not tagged."""
    p = _prepare(data)
    s = p.sessions
    held = s[s["held"].astype(bool)] if not s.empty else s
    ids = [int(i) for i in held["session_id"]]
    dates = list(held["date_label"])
    counts: dict[str, int] = {}
    for d in dates:
        counts[d] = counts.get(d, 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for d in dates:
        seen[d] = seen.get(d, 0) + 1
        labels.append(f"{d} ({seen[d]})" if counts[d] > 1 else d)
    tagged: dict[tuple[str, int], dict] = {}
    for row in p.barriers:
        key = (row["name"], row["session_id"])
        if key not in tagged or row["severity"] > tagged[key]["severity"]:
            tagged[key] = row
    names = barrier_order(name for name, sid in tagged if sid in set(ids))
    z, text = [], []
    for name in names:
        z_row, text_row = [], []
        for sid, label in zip(ids, labels, strict=True):
            row = tagged.get((name, sid))
            z_row.append(row["severity"] if row else 0)
            detail = (
                f"Severity: {row['severity_word']}"
                + (f"<br>Note: {_wrap(esc(row['note']), 70)}" if row["note"] else "")
                if row
                else "Not tagged"
            )
            text_row.append(f"{label}<br><b>{esc(name)}</b><br>{detail}")
        z.append(z_row)
        text.append(text_row)
    return BarrierGrid(names, labels, ids, z, text)


def _barrier_heatmap(p: Prepared) -> go.Figure:
    if p.sessions.empty:
        return message_figure(BARRIERS_TITLE, NO_SESSIONS)
    grid = barrier_grid(p)
    if not grid.barriers:
        return message_figure(BARRIERS_TITLE, NO_BARRIERS)
    n = len(SEVERITY_COLORS)
    colorscale = []
    for i, color in enumerate(SEVERITY_COLORS):
        colorscale += [[i / n, color], [(i + 1) / n, color]]
    heatmap = dict(
        type="heatmap",
        z=grid.z,
        x=grid.sessions,
        y=[esc(name) for name in grid.barriers],
        zmin=-0.5,
        zmax=n - 0.5,
        colorscale=colorscale,
        xgap=2,
        ygap=2,
        text=grid.text,
        hovertemplate="%{text}<extra></extra>",
        colorbar=dict(
            title=dict(text="Severity"),
            tickvals=list(range(n)),
            ticktext=[SEVERITY_WORDS[i] for i in range(n)],
            thickness=14,
            len=1,
        ),
    )
    layout = _layout(
        BARRIERS_TITLE,
        height=220 + 42 * len(grid.barriers),
        xaxis=dict(type="category", title=dict(text="Session"), tickangle=-45, showgrid=False),
        yaxis=dict(type="category", autorange="reversed", showgrid=False),
        margin=dict(l=70, r=30, t=70, b=90),
    )
    return go.Figure(dict(data=[heatmap], layout=layout))


def barrier_heatmap(data: TimelineData) -> go.Figure:
    """Barrier (rows, catalog order) by session (columns) of severity, 0 where untagged;
    hover gives the note."""
    return _barrier_heatmap(_prepare(data))


def _radar_table(p: Prepared) -> pd.DataFrame:
    table: dict[str, list] = {"Item": list(TABLE_ITEM_LABELS)}
    for code in "AB":
        for rated in intake_and_latest(p.data, code):
            column = f"{p.partner(code)}, {rated.which} ({format_date(rated.when)})"
            table[column] = _one_decimal(list(rated.values))
    if len(table) == 1:  # nobody rated yet: no numbers to show
        return pd.DataFrame(columns=["Item"])
    return pd.DataFrame(table)


def _barrier_table(p: Prepared) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [p.session_info[r["session_id"]][1], r["name"], r["severity_word"], r["note"]]
            for r in p.barriers
        ],
        columns=["Date", "Barrier", "Severity", "Note"],
    )
