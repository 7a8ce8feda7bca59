"""The couple timeline's charts as one set: every figure and its table, keyed alike
(the page draws the tab in view, the PDF report draws them all).

Each chart lives in its own module (`timeline`, `instruments`, `radar` with the
barrier heatmap, `adherence`), all drawing from `couple_frames.Prepared`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.adherence import _adherence, _adherence_table
from dashboard.charts.common import BARRIER_MARKERS_NAME, BARRIER_MARKERS_PRINT_NAME
from dashboard.charts.couple_frames import Prepared, _prepare
from dashboard.charts.expected import paper_legend
from dashboard.charts.instruments import _instrument_table, _instruments
from dashboard.charts.radar import _barrier_heatmap, _barrier_table, _radar, _radar_table
from dashboard.charts.timeline import _timeline, _timeline_table
from dashboard.domain.timeline import TimelineData

FIGURE_KEYS = ("timeline", "instruments", "radar", "barriers", "adherence")

# -- every figure, and its table -----------------------------------------------------
_BUILDERS: dict[str, Callable[[Prepared], go.Figure]] = {
    "timeline": _timeline,
    "instruments": _instruments,
    "radar": _radar,
    "barriers": _barrier_heatmap,
    "adherence": _adherence,
}


def all_figures(
    data: TimelineData, *, for_print: bool = False, model_in_legend: bool = False
) -> dict[str, go.Figure]:
    """Every timeline chart, keyed as `table_views` is (the page and the PDF draw these).
    `for_print`: no wording that asks for a mouse (the report lists what hover shows),
    and the expected course's legend without the model's label unless `model_in_legend`
    (paper_legend: the full report prints the label under the chart)."""
    p = _prepare(data)
    builders = dict(_BUILDERS)
    if for_print:  # the printed page is one fixed width: the radars fit side by side
        builders["radar"] = lambda q: _radar(q, side_by_side=True)
    figures = {key: build(p) for key, build in builders.items()}
    if for_print:
        for trace in figures["timeline"].data:
            if trace.name == BARRIER_MARKERS_NAME:
                trace.name = BARRIER_MARKERS_PRINT_NAME
        for key in ("timeline", "instruments"):
            paper_legend(figures[key], keep_label=model_in_legend)
    return figures


def timeline_chart(data: TimelineData, key: str) -> tuple[go.Figure, pd.DataFrame]:
    """One timeline chart and its table view: the page draws only the tab in view."""
    p = _prepare(data)
    return _BUILDERS[key](p), _TABLES[key](p)


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
