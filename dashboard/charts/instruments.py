"""Questionnaire totals: one panel per instrument, each on its own scale; and its table."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    PARTNER_A_COLOR,
    PARTNER_B_COLOR,
    THRESHOLD_COLOR,
    _floats,
    _hline,
    _layout,
    _note,
    _one_decimal,
    _threshold_label,
    bottom_legend,
    esc,
    format_date,
    message_figure,
)
from dashboard.charts.couple_frames import Prepared, _prepare
from dashboard.charts.expected import (
    LEGEND_ROW_PX,
    expected_cells,
    expected_title,
    expected_traces,
    faded,
    judged_notes,
    legend_rows,
)
from dashboard.domain.numbers import as_written
from dashboard.domain.timeline import InstrumentScale, TimelineData

NO_INSTRUMENTS = "No instrument totals recorded"
INSTRUMENTS_TITLE = "Questionnaire totals, each on its own scale"


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
    expected_shown: set[str] = set()
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
            bands = p.data.expected_for(code, partner)
            if bands is not None:  # behind the partner's line
                traces += expected_traces(
                    bands,
                    p.partner(partner),
                    colors[partner],
                    axes=(f"x{axis}", f"y{axis}"),
                    title=None if expected_shown else _expected_title(p, codes),
                    show_legend=partner not in expected_shown,
                )
                expected_shown.add(partner)
            who = esc(p.partner(partner))
            ids = [r["session_id"] for r in mine]
            notes = [f"<br>{n}" if n else "" for n in judged_notes(bands, p.partner(partner), ids)]
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
                    # The other source's points than the course's are faded (not judged).
                    marker=dict(color=colors[partner], size=7, opacity=faded(bands, ids)),
                    customdata=[
                        [r["date"], r["stage"], who, esc(scale.name), note]
                        for r, note in zip(mine, notes, strict=True)
                    ],
                    hovertemplate=(
                        "%{customdata[0]}<br><b>%{customdata[2]}</b>: %{customdata[3]} "
                        "total %{y:.1f}<br>Stage: %{customdata[1]}%{customdata[4]}"
                        "<extra></extra>"
                    ),
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    meta=code,
                )
            )
            shown.add(partner)
    layout = _layout(
        INSTRUMENTS_TITLE,
        height=150
        + 230 * n
        + legend_rows([t for t in traces if t.get("legendgroup") == "expected"]) * LEGEND_ROW_PX,
        shapes=shapes,
        annotations=annotations,
        margin=dict(l=70, r=30, t=100, b=60),
        legend=bottom_legend(),
        **layout_axes,
    )
    return go.Figure(dict(data=traces, layout=layout))


def _expected_title(p: Prepared, codes: list[str]) -> str:
    """Which model each questionnaire's expected course comes from, for each partner's
    source (the same words once when they agree)."""
    drawn = [(code, b) for code in codes for b in p.data.expected.get(code, ())]
    return expected_title(
        [
            (f"{instrument_scale(p.data, code).name} ({p.partner(b.partner)})", b.label)
            for code, b in drawn
        ],
        fades=any(b.other_session_ids for _, b in drawn),
    )


def instrument_panel(data: TimelineData) -> go.Figure:
    """One panel per instrument with totals: each partner's line and the labelled cutoff,
    on the instrument's own scale; behind a line, the partner's expected course where
    that questionnaire has a model (none drawn where it has not)."""
    return _instruments(_prepare(data))


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
    table = pd.DataFrame(rows, columns=columns)
    # The expected course's numbers beside its bands, for a partner with one drawn.
    drawn = sorted({b.partner for code in codes for b in p.data.expected.get(code, ())})
    for partner in drawn:
        table[f"{p.partner(partner)} expected"] = [
            expected_cells(
                p.data.expected_for(wide[key]["code"], partner), [key[2]], p.partner(partner)
            )[0]
            for key in sorted(wide)
        ]
    return table
