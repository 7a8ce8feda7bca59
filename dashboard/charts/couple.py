"""The couple timeline's charts: `TimelineData` in, `go.Figure` out (the page and
the PDF report draw these)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    ALERT_COLOR,
    BAND_LABEL_COLOR,
    BARRIER_MARKERS_NAME,
    BARRIER_MARKERS_PRINT_NAME,
    CHAR_PX,
    COUPLE_COLOR,
    DIVERGING_LABEL,
    DIVERGING_POINTS,
    GAP_COLOR,
    HABIT_STYLES,
    LABEL_COLOR,
    NOTE_BELOW_AXIS_PX,
    PARTNER_A_COLOR,
    PARTNER_B_COLOR,
    PLOT_WIDTH_PX,
    SEVERITY_COLORS,
    STAGE_BANDS_TITLE,
    STAGE_TINTS,
    THRESHOLD_COLOR,
    _dates,
    _floats,
    _habit_rank,
    _hline,
    _in_legend,
    _layout,
    _note,
    _one_decimal,
    _rgba,
    _threshold_label,
    _wrap,
    attendance_words,
    barrier_name,
    barrier_order,
    bottom_legend,
    esc,
    format_date,
    habit_name,
    message_figure,
    partner_labels,
    stage_name,
)
from dashboard.domain.catalog import (
    ADHERENCE,
    HABITS,
    INDICATORS,
    RATING_MAX,
    SEVERITIES,
    Attendance,
)
from dashboard.domain.numbers import as_written, one_decimal
from dashboard.domain.timeline import InstrumentScale, TimelineData

NO_SESSIONS = "No sessions yet"
NO_INSTRUMENTS = "No instrument totals recorded"
NO_RATINGS = "No indicator ratings recorded"
NO_BARRIERS = "No barriers tagged"
NO_HABITS = "No habits assigned"
FIGURE_KEYS = ("timeline", "instruments", "radar", "barriers", "adherence")
LAST_BAND_DAYS = 7  # width given to a final stage run that covers a single date
EII_RANGE = (0.0, 100.0)
BARRIER_MARKER_Y = 96.0  # barrier markers ride near the top of the EII axis
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

TIMELINE_TITLE = "Emotional Intimacy Index (EII) at each session"
INSTRUMENTS_TITLE = "Questionnaire totals, each on its own scale"
RADAR_TITLE = (
    "The eight indicator items at intake and at the latest session"
    "<br><sup>Outward is better on every axis: the 3 warning signs are drawn reversed "
    "(10 − rating)</sup>"
)
BARRIERS_TITLE = "Barriers tagged at each session, by severity"
# Short enough for a phone-width page (plotly does not wrap titles); the x axis says
# when adherence is recorded.
ADHERENCE_TITLE = "Homework: how fully each habit was followed"
# Room under the adherence chart's note for its legend: one row per habit (five at
# most) when the page is narrow and the legend stacks.
LEGEND_ROWS_PX = 20 * len(HABITS) + 10
NOTE_WRAP = 80  # characters a line of that note holds on an 800 px page


# -- the frames every chart draws from -----------------------------------------------
@dataclass(frozen=True)
class StageRun:
    """Consecutive rated sessions at one stage: a shaded band on the timeline."""

    stage: int
    x0: pd.Timestamp  # the run's first session
    x1: pd.Timestamp  # the next run's first session, or the last session on the timeline
    sessions: int


def stage_runs(sessions: pd.DataFrame) -> list[StageRun]:
    """Runs of the counselor's stage rating, over sessions in date order.

    A session without a rating neither ends nor starts a run. A band spans from its first
    session to the next run's first session; the last one to the last session on the
    timeline, or `LAST_BAND_DAYS` when that would give it no width.
    """
    if sessions.empty:
        return []
    rated = [
        (pd.Timestamp(d), int(s))
        for d, s in zip(sessions["session_date"], sessions["stage"], strict=True)
        if not pd.isna(s)
    ]
    starts: list[list] = []  # [stage, first date, sessions]
    for when, stage in rated:
        if starts and starts[-1][0] == stage:
            starts[-1][2] += 1
        else:
            starts.append([stage, when, 1])
    if not starts:
        return []
    end = pd.Timestamp(sessions["session_date"].max())
    runs = []
    for i, (stage, x0, count) in enumerate(starts):
        x1 = starts[i + 1][1] if i + 1 < len(starts) else end
        if i + 1 == len(starts) and x1 <= x0:
            x1 = x0 + pd.Timedelta(days=LAST_BAND_DAYS)
        runs.append(StageRun(stage, x0, x1, count))
    return runs


class Prepared:
    """`TimelineData` read once into what the builders draw (shared by `all_figures`)."""

    def __init__(self, data: TimelineData) -> None:
        self.data = data
        self.name_a, self.name_b = partner_labels(data)

    def partner(self, code: str) -> str:
        return self.name_a if code == "A" else self.name_b

    @cached_property
    def sessions(self) -> pd.DataFrame:
        """Sessions on the timeline, in date order, with their date and stage words.

        Cancelled sessions are left out: nobody missed them, so they must not break a
        line. A no-show stays, and leaves its gap.
        """
        s = self.data.sessions
        if not s.empty:
            s = s[s["attendance"].astype(str) != Attendance.CANCELLED.value]
            s = s.sort_values(["session_date", "session_id"], kind="stable")
        s = s.reset_index(drop=True)
        return s.assign(
            session_date=pd.to_datetime(s["session_date"]),
            date_label=_dates(s["session_date"]),
            stage_name=[stage_name(v) for v in s["stage"]],
        )

    @cached_property
    def session_info(self) -> dict[int, tuple[pd.Timestamp, str, str]]:
        """session_id -> (date, date label, stage name)."""
        s = self.sessions
        return {
            int(i): (d, label, stage)
            for i, d, label, stage in zip(
                s["session_id"], s["session_date"], s["date_label"], s["stage_name"], strict=True
            )
        }

    @cached_property
    def latest_date(self) -> pd.Timestamp | None:
        s = self.sessions
        return None if s.empty else pd.Timestamp(s["session_date"].max())

    @cached_property
    def barriers(self) -> list[dict]:
        """Tagged barriers at sessions on the timeline, in date then catalog order."""
        b = self.data.barriers
        rows = []
        info = self.session_info
        for sid, code, severity, note in zip(
            b["session_id"], b["barrier"], b["severity"], b["note"], strict=True
        ):
            if int(sid) not in info:
                continue
            severity = int(severity)
            rows.append(
                dict(
                    session_id=int(sid),
                    name=barrier_name(code),
                    severity=severity,
                    severity_word=SEVERITIES.get(severity, str(severity)),
                    note="" if note is None or pd.isna(note) else str(note).strip(),
                )
            )
        order = {n: i for i, n in enumerate(barrier_order(r["name"] for r in rows))}
        position = {sid: i for i, sid in enumerate(info)}
        rows.sort(key=lambda r: (position[r["session_id"]], order[r["name"]]))
        return rows

    @cached_property
    def barrier_names(self) -> list[str]:
        return barrier_order(r["name"] for r in self.barriers)


def _prepare(data: TimelineData | Prepared) -> Prepared:
    return data if isinstance(data, Prepared) else Prepared(data)


# -- 1. the timeline -----------------------------------------------------------------
def _session_line(
    s: pd.DataFrame,
    column: str,
    who: str,
    color: str,
    *,
    width: float,
    what: str = "EII",
    unit: str = "",
    axes: tuple[str, str] = ("x", "y"),
) -> dict:
    """A per-session line: NaN stays a gap; hover gives date, who, value and stage."""
    who = esc(who)
    value = f"{what} %{{y:.1f}}{unit}" if what else f"%{{y:.1f}}{unit}"
    return dict(
        type="scatter",
        x=s["session_date"],
        y=_floats(s[column]),
        name=who,
        mode="lines+markers",
        connectgaps=False,
        line=dict(color=color, width=width),
        marker=dict(color=color, size=width + 5),
        customdata=[[d, st, who] for d, st in zip(s["date_label"], s["stage_name"], strict=True)],
        hovertemplate=(
            "%{customdata[0]}<br><b>%{customdata[2]}</b>: "
            f"{value}<br>Stage: %{{customdata[1]}}<extra></extra>"
        ),
        xaxis=axes[0],
        yaxis=axes[1],
        legendgroup=column,
        meta=column,
    )


SELF_REPORT_SYMBOL = "diamond"
SELF_REPORT_NOTE = "Partner's own check-in answers (self-report)"


def _own(s: pd.DataFrame, partner: str) -> list[bool]:
    """Per session: were this partner's ratings their own check-in answers?"""
    column = f"self_{partner.lower()}"
    if column not in s:
        return [False] * len(s)
    return [bool(v) for v in s[column].fillna(False)]


def _mark_self_reports(line: dict, own: list[bool]) -> None:
    """A partner's own answers get a diamond, and say so on hover: the counselor tells
    at a glance which points the partner gave and which were rated in the room."""
    line["marker"]["symbol"] = [SELF_REPORT_SYMBOL if o else "circle" for o in own]
    line["marker"]["size"] = [
        line["marker"]["size"] + 3 if o else line["marker"]["size"] for o in own
    ]
    line["customdata"] = [
        [*row, "self-report (their check-in)" if o else "rated in session"]
        for row, o in zip(line["customdata"], own, strict=True)
    ]
    line["hovertemplate"] = line["hovertemplate"].replace(
        "<extra></extra>", "<br>%{customdata[3]}<extra></extra>"
    )


def _self_report_key() -> dict:
    """A legend entry that explains the diamond (no data of its own)."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        name=SELF_REPORT_NOTE,
        marker=dict(symbol=SELF_REPORT_SYMBOL, size=10, color="#555555"),
        hoverinfo="skip",
        legendgroup="self_report",
    )


def _barrier_markers(p: Prepared) -> dict | None:
    """One marker per session with barriers, near the top; hover lists each one."""
    by_session: dict[int, list[dict]] = {}
    for row in p.barriers:
        by_session.setdefault(row["session_id"], []).append(row)
    if not by_session:
        return None
    x, hover, size = [], [], []
    for sid, rows in by_session.items():
        when, label, stage = p.session_info[sid]
        lines = "<br>".join(
            f"{esc(r['name'])} ({r['severity_word']})"
            + (f": {_wrap(esc(r['note']), 70)}" if r["note"] else "")
            for r in rows
        )
        x.append(when)
        hover.append(f"{label}<br><b>Barriers tagged</b><br>{lines}<br>Stage: {stage}")
        size.append(8 + 3 * max(r["severity"] for r in rows))
    return dict(
        type="scatter",
        x=x,
        y=[BARRIER_MARKER_Y] * len(x),
        mode="markers",
        name=BARRIER_MARKERS_NAME,
        marker=dict(
            color=ALERT_COLOR,
            symbol="triangle-down",
            size=size,
            line=dict(color="#FFFFFF", width=1),
        ),
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        meta="barriers",
    )


def band_label(stage: int, width_px: float) -> str:
    """The stage's name as wide as its band allows: whole, wrapped, "Stage n", or "n".

    The legend always carries every stage's full name.
    """
    label = stage_name(stage)
    fits = int(width_px / CHAR_PX) - 2  # a little room either side
    if fits >= len(label):
        return esc(label)
    if fits >= 12:
        return "<br>".join(textwrap.wrap(esc(label), fits))
    return f"Stage {stage}" if fits >= 7 else str(stage)


def _stage_bands(runs: list[StageRun], span_days: float) -> list[dict]:
    """A light band per stage run, named once per stage in the legend."""
    shapes: list[dict] = []
    shown: set[int] = set()
    for run in runs:
        label = stage_name(run.stage)
        share = (run.x1 - run.x0) / pd.Timedelta(days=1) / max(span_days, 1.0)
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="y domain",
                x0=run.x0,
                x1=run.x1,
                y0=0,
                y1=1,
                fillcolor=STAGE_TINTS.get(run.stage, STAGE_TINTS[4]),
                line=dict(width=0),
                layer="below",
                name=label,
                legendgroup="stages",
                legendgrouptitle=dict(text=STAGE_BANDS_TITLE),
                showlegend=run.stage not in shown,
                label=dict(
                    text=band_label(run.stage, share * PLOT_WIDTH_PX),
                    textposition="bottom left",
                    font=dict(size=10, color=LABEL_COLOR),
                ),
            )
        )
        shown.add(run.stage)
    return shapes


def couple_baseline(data: TimelineData | Prepared) -> float | None:
    """The couple EII at `baseline_date` (the first session where both have one)."""
    p = _prepare(data)
    if p.data.baseline_date is None or p.sessions.empty:
        return None
    s = p.sessions
    at = s.loc[
        (s["session_date"] == pd.Timestamp(p.data.baseline_date)) & s["eii_couple"].notna(),
        "eii_couple",
    ]
    return None if at.empty else float(at.iloc[0])


def _bridge(line: dict) -> dict | None:
    """A thin dotted line under `line` joining its points across missed sessions (None
    when it misses none between two rated ones). No markers, no hover, not in the
    legend: the missed session stays visibly missed, the course stays readable."""
    values = line["y"]
    rated = [i for i, v in enumerate(values) if not math.isnan(v)]
    if not rated or all(not math.isnan(v) for v in values[rated[0] : rated[-1] + 1]):
        return None
    return dict(
        type="scatter",
        x=line["x"],
        y=values,
        name=f"{line['name']} (across a missed session)",
        mode="lines",
        connectgaps=True,
        line=dict(color=line["line"]["color"], width=1, dash="dot"),
        hoverinfo="skip",
        showlegend=False,
        legendgroup=line["legendgroup"],
        xaxis=line["xaxis"],
        yaxis=line["yaxis"],
        meta=f"{line['meta']}_bridge",
    )


def _timeline(p: Prepared) -> go.Figure:
    s = p.sessions
    if s.empty:
        return message_figure(TIMELINE_TITLE, NO_SESSIONS)
    lines = [
        _session_line(s, "eii_a", p.name_a, PARTNER_A_COLOR, width=2),
        _session_line(s, "eii_b", p.name_b, PARTNER_B_COLOR, width=2),
        _session_line(s, "eii_couple", "Couple (mean of both)", COUPLE_COLOR, width=4.5),
    ]
    own = {"A": _own(s, "A"), "B": _own(s, "B")}
    for line, partner in zip(lines, ("A", "B"), strict=False):
        _mark_self_reports(line, own[partner])
    bridges = [bridge for bridge in map(_bridge, lines) if bridge is not None]
    traces = [*bridges, *lines]
    if any(own["A"]) or any(own["B"]):
        traces.append(_self_report_key())
    markers = _barrier_markers(p)
    if markers is not None:
        traces.append(markers)
    gap = _floats(s["discrepancy"])
    gap_line = _session_line(
        s,
        "discrepancy",
        "Gap between partners",
        GAP_COLOR,
        width=1.5,
        what="",
        unit=" points apart",
        axes=("x2", "y2"),
    )
    # A point above the partners-diverging line is drawn in the alert colour.
    gap_line["marker"]["color"] = [ALERT_COLOR if v > DIVERGING_POINTS else GAP_COLOR for v in gap]
    traces.append(gap_line)

    runs = stage_runs(s)
    first = s["session_date"].min()
    last = max([s["session_date"].max(), *(r.x1 for r in runs)])
    shapes = _stage_bands(runs, (last - first) / pd.Timedelta(days=1))
    annotations = []
    scale = p.data.eii_scale
    baseline = couple_baseline(p)
    if baseline is not None:
        rc = float(scale.reliable_change)
        shapes.append(
            dict(
                type="rect",
                xref="x domain",
                yref="y",
                x0=0,
                x1=1,
                y0=max(EII_RANGE[0], baseline - rc),
                y1=min(EII_RANGE[1], baseline + rc),
                fillcolor=_rgba(COUPLE_COLOR, 0.12),
                line=dict(color=_rgba(COUPLE_COLOR, 0.5), width=1, dash="dot"),
                layer="below",
                label=dict(
                    text=f"Baseline {one_decimal(baseline)} ± {one_decimal(rc)}",
                    textposition="top right",
                    font=dict(size=10, color=BAND_LABEL_COLOR),
                ),
                **_in_legend(
                    f"Reliable-change band: couple baseline {one_decimal(baseline)} ± {one_decimal(rc)} "
                    f"({esc(scale.reliable_change_label)})"
                ),
            )
        )
    else:
        annotations.append(
            _note(
                "No baseline yet: the reliable-change band starts at the first session "
                "where both partners have an EII.",
                0,
                1.0,
                xanchor="left",
                yanchor="bottom",
            )
        )
    if scale.cutoff is not None:
        shapes.append(
            _hline(
                scale.cutoff.value,
                f"Cutoff {as_written(scale.cutoff.value)}",
                xref="x domain",
                yref="y",
                color=THRESHOLD_COLOR,
                dash="dash",
                name="cutoff",
                legend=_threshold_label(scale.cutoff),
            )
        )
    shapes.append(
        _hline(
            DIVERGING_POINTS,
            DIVERGING_LABEL,
            xref="x2 domain",
            yref="y2",
            color=ALERT_COLOR,
            dash="dash",
            name="partners-diverging line",
            legend=DIVERGING_LABEL,
        )
    )
    known_gaps = [v for v in gap if not math.isnan(v)]
    gap_top = max(30.0, max(known_gaps, default=0.0) * 1.15)
    layout = _layout(
        TIMELINE_TITLE,
        height=720,
        hovermode="closest",
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(anchor="y", domain=[0, 1], matches="x2", showticklabels=False, type="date"),
        yaxis=dict(
            anchor="x",
            domain=[0.33, 1],
            range=list(EII_RANGE),
            fixedrange=True,
            title=dict(text="EII (0–100, higher is closer)"),
        ),
        xaxis2=dict(anchor="y2", domain=[0, 1], type="date", title=dict(text="Session date")),
        yaxis2=dict(
            anchor="x2",
            domain=[0, 0.25],
            range=[0, gap_top],
            fixedrange=True,
            title=dict(text="Gap between<br>partners (points)"),
        ),
        legend=bottom_legend(groupclick="toggleitem"),
    )
    return go.Figure(dict(data=traces, layout=layout))


def eii_timeline(data: TimelineData) -> go.Figure:
    """Both partners' EII and the couple line over session dates, with stage bands,
    barrier markers, the cutoff and the reliable-change band around the couple's baseline;
    below, the gap between the partners with the partners-diverging line."""
    return _timeline(_prepare(data))


# -- 2. instruments ------------------------------------------------------------------
def instrument_codes(data: TimelineData) -> list[str]:
    """Instruments with totals, in the order of `instrument_scales`, unknown ones after."""
    present = {str(c) for c in data.instruments["instrument"]}
    known = [c for c in data.instrument_scales if c in present]
    return known + sorted(present - set(known))


def instrument_scale(data: TimelineData, code: str) -> InstrumentScale:
    """The scale of an instrument; one without a definition takes the range of its data."""
    if code in data.instrument_scales:
        return data.instrument_scales[code]
    ins = data.instruments
    totals = _floats(ins.loc[ins["instrument"].astype(str) == code, "total"])
    return InstrumentScale(
        code=code,
        name=code,
        minimum=min(0.0, *totals),
        maximum=max(1.0, *totals),
        higher_is_better=True,
        cutoff=None,
        reliable_change=None,
        reliable_change_label="",
    )


def _instrument_rows(p: Prepared) -> list[dict]:
    """Instrument totals in date order, with the date label and the session's stage."""
    ins = p.data.instruments
    info = p.session_info
    rows = []
    for sid, when, partner, code, total in zip(
        ins["session_id"],
        ins["session_date"],
        ins["partner"],
        ins["instrument"],
        _floats(ins["total"]),
        strict=True,
    ):
        stage = info[int(sid)][2] if int(sid) in info else "Not rated"
        when = pd.Timestamp(when)
        rows.append(
            dict(
                session_id=int(sid),
                when=when,
                date=format_date(when),
                partner=str(partner),
                code=str(code),
                total=total,
                stage=stage,
            )
        )
    rows.sort(key=lambda r: (r["when"], r["session_id"]))
    return rows


def _instruments(p: Prepared) -> go.Figure:
    codes = instrument_codes(p.data)
    if not codes:
        return message_figure(INSTRUMENTS_TITLE, NO_INSTRUMENTS)
    rows = _instrument_rows(p)
    n = len(codes)
    spacing = min(0.14, 0.4 / (n - 1)) if n > 1 else 0.0
    height = (1 - spacing * (n - 1)) / n
    colors = {"A": PARTNER_A_COLOR, "B": PARTNER_B_COLOR}
    traces: list[dict] = []
    shapes: list[dict] = []
    annotations: list[dict] = []
    layout_axes: dict = {}
    shown: set[str] = set()
    for i, code in enumerate(codes, start=1):
        scale = instrument_scale(p.data, code)
        axis = "" if i == 1 else str(i)
        top = 1 - (i - 1) * (height + spacing)
        pad = (scale.maximum - scale.minimum) * 0.04
        layout_axes[f"xaxis{axis}"] = dict(
            anchor=f"y{axis}",
            domain=[0, 1],
            type="date",
            **(
                dict(title=dict(text="Session date"))
                if i == n
                else dict(matches=f"x{n}", showticklabels=False)
            ),
        )
        layout_axes[f"yaxis{axis}"] = dict(
            anchor=f"x{axis}",
            domain=[max(0.0, round(top - height, 6)), min(1.0, round(top, 6))],
            range=[scale.minimum - pad, scale.maximum + pad],
            fixedrange=True,
            title=dict(text="Total"),
        )
        direction = "higher" if scale.higher_is_better else "lower"
        annotations.append(
            _note(
                f"<b>{esc(scale.name)}</b> ({scale.minimum:g}–{scale.maximum:g}, "
                f"{direction} is better)",
                0,
                top,
                xanchor="left",
                yanchor="bottom",
                font=dict(size=13, color="#2A2A2A"),
                name=f"title {code}",
            )
        )
        if scale.cutoff is not None:
            # "Cutoff 13.5" on the line, as on the EII chart; what it means (a sentence
            # too long for the line at 800 px) under "Thresholds" in the legend.
            shapes.append(
                _hline(
                    scale.cutoff.value,
                    f"Cutoff {as_written(scale.cutoff.value)}",
                    xref=f"x{axis} domain",
                    yref=f"y{axis}",
                    color=THRESHOLD_COLOR,
                    dash="dash",
                    name=f"cutoff {code}",
                    legend=f"{esc(scale.name)} — {_threshold_label(scale.cutoff)}",
                )
            )
        for partner in ("A", "B"):
            mine = [r for r in rows if r["code"] == code and r["partner"] == partner]
            if not mine:
                continue
            who = esc(p.partner(partner))
            traces.append(
                dict(
                    type="scatter",
                    x=[r["when"] for r in mine],
                    y=[r["total"] for r in mine],
                    name=who,
                    legendgroup=partner,
                    showlegend=partner not in shown,
                    mode="lines+markers",
                    connectgaps=False,
                    line=dict(color=colors[partner], width=2),
                    marker=dict(color=colors[partner], size=7),
                    customdata=[[r["date"], r["stage"], who, esc(scale.name)] for r in mine],
                    hovertemplate=(
                        "%{customdata[0]}<br><b>%{customdata[2]}</b>: %{customdata[3]} "
                        "total %{y:.1f}<br>Stage: %{customdata[1]}<extra></extra>"
                    ),
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    meta=code,
                )
            )
            shown.add(partner)
    layout = _layout(
        INSTRUMENTS_TITLE,
        height=150 + 230 * n,
        shapes=shapes,
        annotations=annotations,
        margin=dict(l=70, r=30, t=100, b=60),
        legend=bottom_legend(),
        **layout_axes,
    )
    return go.Figure(dict(data=traces, layout=layout))


def instrument_panel(data: TimelineData) -> go.Figure:
    """One panel per instrument with totals: each partner's line and the labelled cutoff,
    on the instrument's own scale."""
    return _instruments(_prepare(data))


# -- 3. radar ------------------------------------------------------------------------
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


# -- 5. adherence --------------------------------------------------------------------
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


# -- every figure, and its table -----------------------------------------------------
_BUILDERS: dict[str, Callable[[Prepared], go.Figure]] = {
    "timeline": _timeline,
    "instruments": _instruments,
    "radar": _radar,
    "barriers": _barrier_heatmap,
    "adherence": _adherence,
}


def all_figures(data: TimelineData, *, for_print: bool = False) -> dict[str, go.Figure]:
    """Every timeline chart, keyed as `table_views` is (the page and the PDF draw these).
    `for_print`: no wording that asks for a mouse (the report lists what hover shows)."""
    p = _prepare(data)
    builders = dict(_BUILDERS)
    if for_print:  # the printed page is one fixed width: the radars fit side by side
        builders["radar"] = lambda q: _radar(q, side_by_side=True)
    figures = {key: build(p) for key, build in builders.items()}
    if for_print:
        for trace in figures["timeline"].data:
            if trace.name == BARRIER_MARKERS_NAME:
                trace.name = BARRIER_MARKERS_PRINT_NAME
    return figures


def timeline_chart(data: TimelineData, key: str) -> tuple[go.Figure, pd.DataFrame]:
    """One timeline chart and its table view: the page draws only the tab in view."""
    p = _prepare(data)
    return _BUILDERS[key](p), _TABLES[key](p)


def _timeline_table(p: Prepared) -> pd.DataFrame:
    s = p.sessions
    per_session: dict[int, list[str]] = {}
    for row in p.barriers:
        per_session.setdefault(row["session_id"], []).append(
            f"{row['name']} ({row['severity_word']})"
        )
    return pd.DataFrame(
        {
            "Date": list(s["date_label"]),
            "Attendance": [attendance_words(v, p.name_a, p.name_b) for v in s["attendance"]],
            "Stage": list(s["stage_name"]),
            f"{p.name_a} EII": _one_decimal(s["eii_a"]),
            f"{p.name_b} EII": _one_decimal(s["eii_b"]),
            "Couple EII": _one_decimal(s["eii_couple"]),
            "Gap between partners": _one_decimal(s["discrepancy"]),
            "Barriers": ["; ".join(per_session.get(int(i), [])) for i in s["session_id"]],
            "Ratings given by": _given_by(p, s),
        }
    )


def _given_by(p: Prepared, s: pd.DataFrame) -> list[str]:
    """Who gave each session's ratings, in words (the table beside the diamonds): the
    counselor, or a partner's own check-in answers; a dash when nobody was rated."""
    words = []
    for a, b, own_a, own_b in zip(
        _floats(s["eii_a"]), _floats(s["eii_b"]), _own(s, "A"), _own(s, "B"), strict=True
    ):
        rated = [
            (name, own)
            for name, value, own in ((p.name_a, a, own_a), (p.name_b, b, own_b))
            if not math.isnan(value)
        ]
        if not rated:
            words.append("—")
        elif not any(own for _, own in rated):
            words.append("counselor")
        else:
            words.append(
                "; ".join(f"{name}: {'self-report' if own else 'counselor'}" for name, own in rated)
            )
    return words


def _instrument_table(p: Prepared) -> pd.DataFrame:
    columns = ["Date", "Questionnaire", p.name_a, p.name_b, "Cutoff"]
    codes = instrument_codes(p.data)
    rank = {c: i for i, c in enumerate(codes)}
    wide: dict[tuple, dict] = {}
    for r in _instrument_rows(p):
        key = (rank[r["code"]], r["when"], r["session_id"])
        entry = wide.setdefault(key, {"Date": r["date"], "code": r["code"]})
        entry[r["partner"]] = r["total"]
    scales = {c: instrument_scale(p.data, c) for c in codes}
    rows = []
    for key in sorted(wide):
        entry = wide[key]
        scale = scales[entry["code"]]
        rows.append(
            [
                entry["Date"],
                scale.name,
                *_one_decimal([entry.get("A", math.nan), entry.get("B", math.nan)]),
                scale.cutoff.value if scale.cutoff else math.nan,
            ]
        )
    return pd.DataFrame(rows, columns=columns)


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


_TABLES: dict[str, Callable[[Prepared], pd.DataFrame]] = {
    "timeline": _timeline_table,
    "instruments": _instrument_table,
    "radar": _radar_table,
    "barriers": _barrier_table,
    "adherence": _adherence_table,
}


def table_views(data: TimelineData) -> dict[str, pd.DataFrame]:
    """The numbers each chart shows as a readable table, keyed as `all_figures` is:
    dates written out, partner names as column headers, stage names, severity words."""
    p = _prepare(data)
    return {key: build(p) for key, build in _TABLES.items()}
