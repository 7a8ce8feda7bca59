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

A course follows one source (the counselor's ratings, or the partner's own answers) while
the partner's line joins both: the hover says whose rating each band is at ("the
counselor's 3rd rating", "Sam's 2nd own answer") and from which first rating, and the
other source's points are faded, their hover saying they are not judged against it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import LEGEND_WRAP, _rgba, _wrap, esc
from dashboard.domain.expected_bands import PartnerBands
from dashboard.domain.expected_response import Band
from dashboard.domain.numbers import one_decimal
from dashboard.domain.same_source import first_rating, nth_rating, whose_ratings

EXPECTED_TITLE = "Expected course"
# One legend entry a partner (the 25th-75th band, which it toggles): a narrow page's
# legend had no room for three, so the title says what the other two marks are.
EXPECTED_KEY = "(shaded 25th–75th, lighter down to the 10th, dashed median)"
# A partner's points from the other source than their course's: faded, and their hover
# says they are not judged against the band behind them.
FADED_KEY = "faded points: not judged against it"  # the hover says whose they are
FADED_OPACITY = 0.35
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


def expected_title(labels: list[tuple[str, str]], *, fades: bool = False) -> str:
    """The legend group's title: what the shading means (and the faded points, when a
    partner has some: `fades`), then the model's label (or each measure's, when they
    differ: [(measure name, label)])."""
    key = EXPECTED_KEY if not fades else f"{EXPECTED_KEY[:-1]}; {FADED_KEY})"
    distinct = list(dict.fromkeys(label for _, label in labels))
    if len(distinct) == 1:
        text = f"{EXPECTED_TITLE} {key}: {distinct[0]}"
    else:
        text = f"{EXPECTED_TITLE} {key}: " + "; ".join(f"{name}: {label}" for name, label in labels)
    return _wrap(esc(text), LEGEND_WRAP)


def expected_hover(bands: PartnerBands, who: str) -> list[str]:
    """The hover at each rating drawn: "Expected for Sam at the counselor's 3rd rating
    (first rating 35.0): 25th–75th 31.6–38.4, median 35.0; 10th 28.6"; "at Alex's 2nd
    own answer (first own answer 62.0)" for a course of their own answers. The rating is
    counted within the source, and its start is that source's first rating, not the
    intake."""
    start = f"{first_rating(bands.source)} {one_decimal(bands.intake)}"
    return [
        f"Expected for {esc(who)} at {esc(nth_rating(bands.source, who, b.session))} "
        f"({start}): 25th–75th {one_decimal(b.p25)}–{one_decimal(b.p75)}, "
        f"median {one_decimal(b.p50)}; 10th {one_decimal(b.p10)}"
        for b in bands.bands
    ]


def _roles(bands: PartnerBands, session_ids: Sequence[int]) -> list[tuple[str, Band | None]]:
    """What each session's rating is to the course: ("judged", its band), ("first",
    None) for the source's first rating, ("other", None) for the other source's, or
    ("", None) where the partner was not rated or no band is drawn."""
    judged = dict(zip(bands.session_ids, bands.bands, strict=True))
    other = set(bands.other_session_ids)
    roles: list[tuple[str, Band | None]] = []
    for sid in map(int, session_ids):
        if sid in judged:
            roles.append(("judged", judged[sid]))
        else:
            first = sid == bands.first_session_id
            roles.append(("first" if first else "other" if sid in other else "", None))
    return roles


def judged_notes(bands: PartnerBands | None, who: str, session_ids: Sequence[int]) -> list[str]:
    """For the hover of each of a partner's points (by session): what it is to their
    expected course. A line joins both sources, a band follows one: 'Judged against the
    expected course at the counselor's 3rd rating', 'The expected course starts from this
    first rating', or 'Not judged against the expected course: it follows Sam's own
    ratings'; '' without a course or where none is drawn."""
    if bands is None:
        return [""] * len(session_ids)
    words = {
        "first": f"The expected course starts from this {first_rating(bands.source)}",
        "other": (
            f"Not judged against the expected course: it follows {whose_ratings(bands.source, who)}"
        ),
        "": "",
    }
    return [
        esc(
            f"Judged against the expected course at {nth_rating(bands.source, who, band.session)}"
            if band is not None
            else words[role]
        )
        for role, band in _roles(bands, session_ids)
    ]


def faded(bands: PartnerBands | None, session_ids: Sequence[int]) -> list[float]:
    """Marker opacity of each of a partner's points: the other source's points (not
    judged against the band behind them) are faded, the judged source's drawn in full."""
    other = set(bands.other_session_ids) if bands is not None else set()
    return [FADED_OPACITY if int(sid) in other else 1.0 for sid in session_ids]


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


def expected_cells(
    bands: PartnerBands | None, session_ids: Sequence[int], who: str = ""
) -> list[str]:
    """The table's words for one partner's course at each of `session_ids` (by session,
    never by date: two sessions can share a day): '10th 28.6 · 25th 31.6 · median 35.0 ·
    75th 38.4 (the counselor's 3rd rating)' where a band is drawn, 'not judged: the
    course follows Alex's own ratings' at the other source's ratings, '' elsewhere."""
    if bands is None:
        return [""] * len(session_ids)
    other = f"not judged: the course follows {whose_ratings(bands.source, who)}"
    return [
        (
            f"10th {one_decimal(b.p10)} · 25th {one_decimal(b.p25)} · median "
            f"{one_decimal(b.p50)} · 75th {one_decimal(b.p75)} "
            f"({nth_rating(bands.source, who, b.session)})"
        )
        if b is not None
        else other
        if role == "other"
        else ""
        for role, b in _roles(bands, session_ids)
    ]


def paper_legend(figure: go.Figure, *, keep_label: bool = False) -> None:
    """On paper the legend title keeps what the marks mean and drops the model's label,
    which the report prints under the chart (reports/pdf.py), and the figure keeps the
    height it has without a course, so page 1 still holds the status and the timeline
    where it did. With the label the title wrapped to up to five rows, all taken from
    the printed plot, and its two y-axis titles ran into each other (C-2026-0045); the
    key alone takes two. `keep_label`: a one-page summary, which has no room to print
    the label under its chart."""
    mine = [t for t in figure.data if t.legendgroup == "expected"]
    rows = legend_rows([t.to_plotly_json() for t in mine])
    for trace in mine:
        if trace.legendgrouptitle.text and not keep_label:
            faded_key = FADED_KEY in trace.legendgrouptitle.text
            key = EXPECTED_KEY if not faded_key else f"{EXPECTED_KEY[:-1]}; {FADED_KEY})"
            trace.legendgrouptitle.text = _wrap(esc(f"{EXPECTED_TITLE} {key}"), LEGEND_WRAP)
    if figure.layout.height and rows:
        figure.layout.height -= rows * LEGEND_ROW_PX
