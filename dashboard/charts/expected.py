"""A partner's expected course behind their line (domain/expected_bands.py): drawn on the
EII timeline and on the questionnaire panels alike.

What a counselor reads: in the partner's own colour, a shaded band from the 25th to the
75th percentile of where partners who started where this one did stood at that rating,
a lighter band down to the 10th percentile (under it: "well below expected"), and the
median as a thin dashed line. The bands are filled polygons, light enough that the
partners' lines, the reliable-change band and the stage bands show through, and each is
its own legend entry under a title naming the model in use (which version, or which
fallback and why). Colour-blind safe as the palette is: the partners' blue and orange
stay apart for every common colour vision, and the hover names the partner.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import LEGEND_WRAP, _rgba, _wrap, esc
from dashboard.domain.expected_bands import PartnerBands
from dashboard.domain.numbers import one_decimal

EXPECTED_TITLE = "Expected course"
# One legend entry a partner (the 25th-75th band, which it toggles): a narrow page's
# legend had no room for three, so the title says what the other two marks are.
EXPECTED_KEY = "(shaded 25th–75th, lighter down to the 10th, dashed median)"
INNER_ALPHA = 0.24  # 25th-75th percentile
OUTER_ALPHA = 0.12  # 10th-25th percentile
# A course drawn at a single rating would have no width: it is drawn this many days
# either side of that rating's date.
SINGLE_RATING_DAYS = 3
LEGEND_ROW_PX = 19  # a legend entry's height: a stacked group adds one per entry


def legend_rows(traces: list[dict]) -> int:
    """Rows the expected course's legend group takes: its entries and its title's lines."""
    shown = [t for t in traces if t.get("showlegend", True)]
    title = next((t["legendgrouptitle"]["text"] for t in shown if "legendgrouptitle" in t), "")
    return len(shown) + (title.count("<br>") + 1 if title else 0)


def expected_title(labels: list[tuple[str, str]]) -> str:
    """The legend group's title: what the shading means, then the model's label (or
    each measure's, when they differ: [(measure name, label)])."""
    distinct = list(dict.fromkeys(label for _, label in labels))
    if len(distinct) == 1:
        text = f"{EXPECTED_TITLE} {EXPECTED_KEY}: {distinct[0]}"
    else:
        text = f"{EXPECTED_TITLE} {EXPECTED_KEY}: " + "; ".join(
            f"{name}: {label}" for name, label in labels
        )
    return _wrap(esc(text), LEGEND_WRAP)


def expected_hover(bands: PartnerBands, who: str) -> list[str]:
    """'Expected for Alex at rating 3 (intake 42.0): 25th–75th 44.0–58.0, median 51.0;
    10th 38.0' at each rating drawn."""
    own = " of their own check-in answers" if bands.own_answers else ""
    return [
        f"Expected for {esc(who)} at rating {b.session}{own} "
        f"(intake {one_decimal(bands.intake)}): 25th–75th {one_decimal(b.p25)}–"
        f"{one_decimal(b.p75)}, median {one_decimal(b.p50)}; 10th {one_decimal(b.p10)}"
        for b in bands.bands
    ]


def _xs(bands: PartnerBands) -> list[pd.Timestamp]:
    if len(bands.dates) > 1:
        return list(bands.dates)
    wide = pd.Timedelta(days=SINGLE_RATING_DAYS)
    return [bands.dates[0] - wide, bands.dates[0] + wide]


def _ys(bands: PartnerBands, which: str) -> list[float]:
    values = [getattr(b, which) for b in bands.bands]
    return values if len(values) > 1 else values * 2


def expected_traces(
    bands: PartnerBands,
    who: str,
    color: str,
    *,
    axes: tuple[str, str] = ("x", "y"),
    title: str | None = None,
    show_legend: bool = True,
    group: str = "expected",
) -> list[dict]:
    """The lighter 10th-25th band, the 25th-75th band and the dashed median, in that
    order (put them before the partner's line so the line is drawn over them); only the
    25th-75th band is in the legend. `title`: the legend group's title (give it on one
    partner's traces only)."""
    who_html = esc(who)
    x = _xs(bands)

    def polygon(low: str, high: str, alpha: float, name: str, meta: str) -> dict:
        return dict(
            type="scatter",
            x=[*x, *x[::-1]],
            y=[*_ys(bands, low), *_ys(bands, high)[::-1]],
            mode="lines",
            fill="toself",
            fillcolor=_rgba(color, alpha),
            line=dict(width=0, color=_rgba(color, alpha)),
            name=name,
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
            xaxis=axes[0],
            yaxis=axes[1],
            meta=meta,
        )

    outer = polygon(
        "p10", "p25", OUTER_ALPHA, f"{who_html}: 10th–25th", f"expected_{bands.partner}_p10_p25"
    )
    inner = polygon(
        "p25",
        "p75",
        INNER_ALPHA,
        f"{who_html}: expected 25th–75th",
        f"expected_{bands.partner}_p25_p75",
    )
    inner["showlegend"] = show_legend
    if title is not None:
        inner["legendgrouptitle"] = dict(text=title)
    hover = expected_hover(bands, who)
    median = dict(
        type="scatter",
        x=x,
        y=_ys(bands, "p50"),
        mode="lines",
        line=dict(color=color, width=1.2, dash="dash"),
        name=f"{who_html}: median",
        hovertext=hover if len(hover) > 1 else hover * 2,
        hovertemplate="%{hovertext}<extra></extra>",
        showlegend=False,
        legendgroup=group,
        xaxis=axes[0],
        yaxis=axes[1],
        meta=f"expected_{bands.partner}_p50",
    )
    return [outer, inner, median]


def expected_cells(bands: PartnerBands | None, dates: list[pd.Timestamp]) -> list[str]:
    """The table's words for one partner's course at each of `dates`: '10th 38.0 · 25th
    44.0 · median 51.0 · 75th 58.0' where a band is drawn, '' elsewhere."""
    if bands is None:
        return [""] * len(dates)
    at = dict(zip(bands.dates, bands.bands, strict=True))
    return [
        (
            f"10th {one_decimal(b.p10)} · 25th {one_decimal(b.p25)} · median "
            f"{one_decimal(b.p50)} · 75th {one_decimal(b.p75)}"
        )
        if (b := at.get(pd.Timestamp(d))) is not None
        else ""
        for d in dates
    ]


def print_height(figure: go.Figure) -> None:
    """On paper the figure keeps the height it has without a course (the legend takes
    its rows from the plot), so the report's first page still holds the status and the
    timeline together."""
    mine = [t.to_plotly_json() for t in figure.data if t.legendgroup == "expected"]
    rows = legend_rows([t | {"showlegend": t.get("showlegend", True)} for t in mine])
    if figure.layout.height and rows:
        figure.layout.height -= rows * LEGEND_ROW_PX
