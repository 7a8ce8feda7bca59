"""Warm what is slow once per server, before anyone opens a chart or a report.

The first timeline after a start used to pay for importing plotly, computing the
clinic's intake norms and (for "Prepare the PDF") starting Chromium, on a counselor's
click. The entrypoint calls `start()` on every signed-in run; the first one in the
process starts one background thread that does all of it, while the counselor reads
their caseload (which needs none of it). Not during sign-in: the login form's own
reruns (the cookie check) should not compete with it for the CPU. A page that needs a
warmed thing simply uses it (the caches are shared and thread-safe) or, if the warm-up
is still busy, waits for the same lock. A failure is logged, never shown: the page then
does the work itself.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

import streamlit as st

from dashboard.services import timeline
from dashboard.ui.db import session_factory, settings
from dashboard.ui.exports import chart_renderer

log = logging.getLogger(__name__)
# Imported on a counselor's first chart or report otherwise.
MODULES = ("plotly.graph_objects", "plotly.io", "dashboard.charts", "dashboard.reports.pdf")


def start() -> None:
    """Start the server's warm-up once (a no-op on every later run, or when switched off)."""
    if settings().warm_up:
        _warm_up(settings().database_url)


@st.cache_resource(show_spinner=False)
def _warm_up(url: str) -> threading.Thread:
    thread = threading.Thread(target=_work, name="bondline-warm-up", daemon=True)
    thread.start()
    return thread


def _work() -> None:
    started = time.perf_counter()
    try:
        for name in MODULES:
            importlib.import_module(name)
        with session_factory()() as db:
            timeline.clinic_norms(db)
            db.rollback()
        renderer = chart_renderer()
        log.info(
            "warm-up done in %.1f s (chart browser %s)",
            time.perf_counter() - started,
            "ready" if renderer.available else f"unavailable: {renderer.reason}",
        )
    except Exception:
        log.exception("warm-up failed; pages will do the work on first use")
