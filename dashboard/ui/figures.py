"""Charts kept with a cached page view are sent without being rebuilt.

st.plotly_chart turns a figure into a dict (a deep copy of every trace) on each run; a
figure that is kept for the life of a data version (dashboard/services/memo.py) does
that once. About 1.7 ms of a 40-session timeline's run on this machine.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go


class SentOnce(go.Figure):
    """A figure whose dict form is made once and then handed out as is (read-only:
    Streamlit only reads it to send it)."""

    def to_dict(self) -> dict[str, Any]:
        sent = self.__dict__.get("_sent_dict")
        if sent is None:
            sent = super().to_dict()
            self.__dict__["_sent_dict"] = sent
        return sent


def sent_once(figure: go.Figure) -> go.Figure:
    """The same figure, made to send cheaply on every later run."""
    return SentOnce(figure)
