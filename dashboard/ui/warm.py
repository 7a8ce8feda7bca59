"""Warm what is slow once per server, before anyone opens a chart or a report.

The first timeline after a start used to pay for importing plotly, computing the
clinic's intake norms and (for "Prepare the PDF") starting Chromium, on a counselor's
click. The entrypoint calls `start()` on every signed-in run; the first one in the
process starts one background thread that does all of it, while the counselor reads
their caseload (which needs none of it). Not during sign-in: the login form's own
reruns (the cookie check) should not compete with it for the CPU, so this module
imports nothing heavy itself (the login form's first run would pay for it). A page that
needs a warmed thing simply uses it (the caches are shared and thread-safe) or, if the
warm-up is still busy, waits for the same import or norms lock. A failure is logged,
never shown: the page then does the work itself.

Every run, too: Streamlit collects garbage after each script run
(`runner.postScriptGC`, a full `gc.collect(2)`). With plotly, pandas and SQLAlchemy
loaded that walks some 220,000 long-lived objects, 150-400 ms a run on a busy 2-core
machine: more than most pages cost. `freeze_heap()` moves what is alive at start (and
again after the warm-up) into the permanent generation the collector skips, so each
run's collection only walks what runs created. Even that grew with the sessions and the
page cache (a third of the CPU a click with ten counselors at once), so since issue 23
the collection after each run is off (.streamlit/config.toml); the freeze keeps
Python's own full collections short.

And in the browser: a tab loads the code of a plotly chart (PlotlyChart.*.js, 4.6 MB)
and of a data grid only when it first draws one, so a first timeline cost the browser
about a second more than a warm one. `prime_browser()` draws one of each on the sign-in
page, hidden from sight and from screen readers, while the counselor types.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import logging
import os
import pkgutil
import threading
import time
from typing import TYPE_CHECKING

import streamlit as st

from dashboard.ui.db import session_factory, settings

if TYPE_CHECKING:
    import plotly.graph_objects as go

log = logging.getLogger(__name__)
# Imported on a counselor's first chart or report otherwise.
MODULES = (
    "plotly.graph_objects",
    "plotly.io",
    "dashboard.charts",
    "dashboard.reports.pdf",
    "dashboard.services.timeline",
    "dashboard.ui.exports",
    "streamlit.material_icon_names",  # the first icon a page draws checks its name here
    "pandas.core.reshape.reshape",  # the caseload review's first pivot
)
# And every module a page draws with: a page's first view imported its own otherwise
# (the couple page 14 modules, the QR code writer among them; Log session 4).
PAGE_PACKAGES = (
    "dashboard.domain",
    "dashboard.services",
    "dashboard.charts",
    "dashboard.reports",
    "dashboard.ui",
)


def page_modules() -> list[str]:
    """The modules of PAGE_PACKAGES, found on disk, so a new one is warmed too."""
    names = []
    for package in PAGE_PACKAGES:
        path = importlib.import_module(package).__path__
        names += [info.name for info in pkgutil.walk_packages(path, f"{package}.")]
    return names


def freeze_heap() -> None:
    """Keep the collection after each run cheap: once per server, at its first run.
    And cap glibc's heaps (`cap_malloc_arenas`) then, warm-up or not."""
    _arenas_capped()
    if settings().warm_up:
        _frozen_at_start()


# glibc's mallopt parameter for the number of heaps ("arenas"; malloc.h's M_ARENA_MAX).
M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def cap_malloc_arenas() -> bool:
    """Let glibc keep at most MALLOC_ARENAS heaps instead of one per busy thread (up to 8
    a core), so what many sessions at once free goes back to a shared heap that the next
    ones reuse. Each session's script runs in its own thread; after twenty counselors
    at once glibc kept 18-20 MB free in such heaps, and the server's RSS after they had
    gone was 1.112-1.115 times its start (issue 23's target: 1.1; bench/bench_load.py).
    Capped here, at the first run (the heaps made before it stay): 12 MB free and
    1.075-1.092 (three runs), with no more server CPU a click. Python allocates under the GIL, so threads
    rarely wait for a heap. Nothing is done when MALLOC_ARENA_MAX is set (an
    administrator's choice, read by glibc at start) or the C library has no mallopt;
    True when capped."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_ARENA_MAX, MALLOC_ARENAS))


@st.cache_resource(show_spinner=False)
def _arenas_capped() -> bool:
    return cap_malloc_arenas()


@st.cache_resource(show_spinner=False)
def _frozen_at_start() -> int:
    # No collection first: at the first run the heap is the imported modules, and a
    # full collection now would cost the login form what freezing saves it.
    gc.freeze()
    return gc.get_freeze_count()


def start() -> None:
    """Start the server's warm-up once (a no-op on every later run, or when switched off)."""
    if settings().warm_up:
        _warm_up(settings().database_url)


# The primer's box: laid out and drawn (so the browser runs the chart's code) but not
# seen, not announced (visibility: hidden leaves the accessibility tree and the tab
# order), fixed so it takes no room, and never under the pointer.
PRIMER_KEY = "browser_primer"
_PRIMER_STYLE = (
    f"<style>.st-key-{PRIMER_KEY} {{position: fixed; top: 0; left: 0; width: 320px; "
    "height: 200px; overflow: hidden; visibility: hidden; pointer-events: none; "
    "z-index: -1}</style>"
)


def prime_browser() -> None:
    """On the sign-in page: a chart and a table nobody sees, so this tab has loaded
    and run plotly.js and the data grid's code before the first timeline or caseload
    (a tab fetches them only when it first draws one: about a second of a first chart).
    Off with the warm-up (tests that count a page's charts)."""
    if not settings().warm_up:
        return
    st.html(_PRIMER_STYLE)  # style only: sent without taking room on the page
    with st.container(key=PRIMER_KEY):
        st.plotly_chart(_sample_figure(), key=f"{PRIMER_KEY}_chart", height=200)
        st.dataframe({"Case": ["C-0000"], "Sessions": [0]}, key=f"{PRIMER_KEY}_table")


@st.cache_resource(show_spinner=False)
def _warm_up(url: str) -> threading.Thread:
    thread = threading.Thread(target=_work, name="bondline-warm-up", daemon=True)
    thread.start()
    return thread


def _draw_once() -> None:
    """The sample figure sent to JSON as st.plotly_chart sends it: plotly builds its
    trace classes, validators and pandas adapter on first use (some 40 ms of a first
    timeline load otherwise)."""
    import plotly.io as pio

    pio.to_json(_sample_figure(), validate=False)


def _sample_figure() -> go.Figure:
    """A throwaway figure with every trace and layout part the charts use."""
    import pandas as pd
    import plotly.graph_objects as go

    dates = pd.Series(pd.to_datetime(["2026-01-05", "2026-01-12"]))
    values = pd.Series([40.0, 55.5])
    point = dict(
        x=dates,
        y=values,
        customdata=values.to_numpy(),
        hovertemplate="%{y}<extra></extra>",
        marker=dict(color=["#0072B2", "#D55E00"], size=8),
        line=dict(width=2, color="#0072B2"),
    )
    return go.Figure(
        data=[
            dict(type="scatter", mode="lines+markers", **point),
            dict(type="scatter", mode="markers", xaxis="x2", yaxis="y2", **point),
            dict(type="bar", x=values, y=["a", "b"], orientation="h"),
            dict(type="heatmap", z=[[1, 2]], x=dates, y=["a"], colorscale="Oranges"),
            dict(type="scatterpolar", r=values, theta=["a", "b"], fill="toself"),
            dict(type="sankey", node=dict(label=["a", "b"]), link=dict(source=[0], target=[1])),
        ],
        layout=dict(
            title=dict(text="warm-up", font=dict(size=16)),
            font=dict(size=12),
            hoverlabel=dict(font=dict(size=12)),
            margin=dict(l=70, r=30, t=70, b=60),
            shapes=[
                dict(type="rect", xref="x domain", yref="y", x0=0, x1=1, y0=0, y1=1),
                dict(
                    type="line",
                    xref="x domain",
                    yref="y",
                    x0=0,
                    x1=1,
                    y0=1,
                    y1=1,
                    line=dict(color="#D55E00", width=1.5, dash="dot"),
                    label=dict(text="a", font=dict(size=10)),
                    name="a",
                    showlegend=True,
                    legendgroup="a",
                    legendgrouptitle=dict(text="a"),
                ),
            ],
            annotations=[dict(text="a", x=0, y=0, showarrow=False)],
            xaxis=dict(type="date", title=dict(text="a")),
            yaxis=dict(range=[0, 100], title=dict(text="a")),
            xaxis2=dict(type="date", matches="x"),
            yaxis2=dict(domain=[0, 0.2]),
            legend=dict(orientation="h"),
            polar=dict(radialaxis=dict(range=[0, 10]), angularaxis=dict(direction="clockwise")),
        ),
    )


def _work() -> None:
    started = time.perf_counter()
    try:
        for name in (*MODULES, *page_modules()):
            try:
                importlib.import_module(name)
            except Exception:  # that page fails on its own, with an incident number
                log.exception("warm-up could not import %s", name)
        _draw_once()
        from dashboard.services import timeline
        from dashboard.ui.exports import chart_renderer

        with session_factory()() as db:
            timeline.clinic_norms(db)
            db.rollback()
        renderer = chart_renderer()
        # What the warm-up loaded stays for the server's life: out of the collector's way
        # (after one collection here, so its own garbage is not kept forever).
        gc.collect()
        gc.freeze()
        log.info(
            "warm-up done in %.1f s (chart browser %s; %d objects frozen)",
            time.perf_counter() - started,
            "ready" if renderer.available else f"unavailable: {renderer.reason}",
            gc.get_freeze_count(),
        )
    except Exception:
        log.exception("warm-up failed; pages will do the work on first use")
