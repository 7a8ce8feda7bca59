"""The EII timeline: both partners, the couple, stage bands, barriers and thresholds,
with the gap between the partners below; and its table."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    ALERT_COLOR,
    BAND_LABEL_COLOR,
    BARRIER_MARKERS_NAME,
    CHAR_PX,
    COUPLE_COLOR,
    DIVERGING_LABEL,
    DIVERGING_POINTS,
    GAP_COLOR,
    LABEL_COLOR,
    PARTNER_A_COLOR,
    PARTNER_B_COLOR,
    PLOT_WIDTH_PX,
    STAGE_BANDS_TITLE,
    STAGE_TINTS,
    THRESHOLD_COLOR,
    _floats,
    _hline,
    _in_legend,
    _layout,
    _note,
    _one_decimal,
    _rgba,
    _threshold_label,
    _wrap,
    attendance_words,
    bottom_legend,
    esc,
    message_figure,
    stage_name,
)
from dashboard.charts.couple_frames import NO_SESSIONS, Prepared, _prepare
from dashboard.charts.expected import (
    LEGEND_ROW_PX,
    expected_cells,
    expected_title,
    expected_traces,
    faded,
    judged_notes,
    legend_rows,
)
from dashboard.domain.expected_bands import EII_MEASURE, PartnerBands
from dashboard.domain.numbers import as_written, one_decimal
from dashboard.domain.timeline import TimelineData

LAST_BAND_DAYS = 7  # width given to a final stage run that covers a single date
EII_RANGE = (0.0, 100.0)
BARRIER_MARKER_Y = 96.0  # barrier markers ride near the top of the EII axis

TIMELINE_TITLE = "Emotional Intimacy Index (EII) at each session"


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


def _mark_judged(line: dict, bands: PartnerBands | None, who: str, session_ids: list) -> None:
    """Which of a partner's points the expected course behind their line judges: the
    other source's points are faded, and every point's hover says what it is to the
    course (charts/expected.py judged_notes). Without a course, the line is left as is."""
    if bands is None:
        return
    notes = [f"<br>{n}" if n else "" for n in judged_notes(bands, who, session_ids)]
    line["customdata"] = [[*row, n] for row, n in zip(line["customdata"], notes, strict=True)]
    line["hovertemplate"] = line["hovertemplate"].replace(
        "<extra></extra>", "%{customdata[4]}<extra></extra>"
    )
    line["marker"]["opacity"] = faded(bands, session_ids)


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
        bands = p.data.expected_for(EII_MEASURE, partner)
        _mark_judged(line, bands, p.partner(partner), list(s["session_id"]))
    bridges = [bridge for bridge in map(_bridge, lines) if bridge is not None]
    expected = _expected(p)
    traces = [*expected, *bridges, *lines]
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
        # The expected course's legend group stacks its entries: the figure grows by
        # them, so the plot keeps its height.
        height=720 + legend_rows(expected) * LEGEND_ROW_PX,
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


def _expected(p: Prepared) -> list[dict]:
    """Each partner's expected EII course, behind every line (charts/expected.py)."""
    found = [
        (bands, p.partner(partner), color)
        for partner, color in (("A", PARTNER_A_COLOR), ("B", PARTNER_B_COLOR))
        if (bands := p.data.expected_for(EII_MEASURE, partner)) is not None
    ]
    traces: list[dict] = []
    fades = any(bands.other_session_ids for bands, _, _ in found)
    for i, (bands, who, color) in enumerate(found):
        title = expected_title([(w, b.label) for b, w, _ in found], fades=fades) if i == 0 else None
        traces += expected_traces(bands, who, color, title=title)
    return traces


def eii_timeline(data: TimelineData) -> go.Figure:
    """Both partners' EII and the couple line over session dates, with stage bands,
    barrier markers, the cutoff, the reliable-change band around the couple's baseline
    and each partner's expected course behind their line; below, the gap between the
    partners with the partners-diverging line."""
    return _timeline(_prepare(data))


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
    ).assign(**_expected_columns(p, s))


def _expected_columns(p: Prepared, s: pd.DataFrame) -> dict[str, list[str]]:
    """The expected course's numbers beside the chart's bands (only when one is drawn),
    found by session: two sessions on one day each have their own."""
    ids = list(s["session_id"])
    return {
        f"{p.partner(partner)} expected EII": expected_cells(bands, ids, p.partner(partner))
        for partner in ("A", "B")
        if (bands := p.data.expected_for(EII_MEASURE, partner)) is not None
    }


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
