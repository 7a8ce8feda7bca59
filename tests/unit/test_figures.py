"""A chart kept with a cached view is sent exactly as the figure it wraps."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools

from dashboard.ui.figures import sent_once


def _sent(figure: go.Figure) -> str:
    """What st.plotly_chart sends for a figure (Streamlit 1.67's two calls)."""
    as_dict = plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True)
    return pio.to_json(as_dict, validate=False)


def test_a_kept_figure_sends_the_same_json_on_every_run() -> None:
    figure = go.Figure(
        data=[go.Scatter(x=["2026-01-05", "2026-01-12"], y=[40.0, 55.5], name="Priya")],
        # A template of its own, as every chart of dashboard/charts.py has.
        layout={
            "title": {"text": "Emotional Intimacy Index"},
            "yaxis": {"range": [0, 100]},
            "template": {"layout": {"font": {"size": 13}}},
        },
    )
    kept = sent_once(figure)
    assert _sent(kept) == _sent(figure)
    assert _sent(kept) == _sent(figure)  # the second run reuses the first run's dict
    assert kept.to_dict() is kept.to_dict()
