"""Chart images from the real Chromium: a reused tab draws each figure as a fresh one.

The renderer skips kaleido's page reload between figures (most of the browser's work in
a batch), so an image must not depend on what the tab drew before it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import plotly.graph_objects as go
import pytest

from dashboard.reports.chart_images import ChartRenderer

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def renderer() -> Iterator[ChartRenderer]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does this)")
    with ChartRenderer.start() as started:
        assert started.available, started.reason
        yield started


def busy() -> go.Figure:
    """A figure that leaves a lot behind: shapes, annotations, a second axis, a legend."""
    fig = go.Figure(
        [
            go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name="A", yaxis="y2"),
            go.Bar(x=[1, 2, 3], y=[2, 2, 5], name="B"),
        ]
    )
    fig.add_shape(type="rect", x0=1, x1=2, y0=0, y1=1, fillcolor="#D55E00", opacity=0.3)
    fig.add_annotation(x=2, y=4, text="a note")
    fig.update_layout(title="Busy", yaxis2=dict(overlaying="y", side="right"), width=500)
    return fig


def plain() -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines"), layout=dict(title="Plain"))


def test_an_image_does_not_depend_on_what_was_drawn_before(renderer: ChartRenderer) -> None:
    first = renderer.png(plain(), 400, 300)
    # Both tabs draw the busy figure, then the plain one again, several times over.
    for _ in range(3):
        renderer.pngs([(busy(), 500, 300), (busy(), 500, 300)])
        assert renderer.pngs([(plain(), 400, 300), (plain(), 400, 300)]) == [first, first]


def test_several_figures_come_back_in_the_order_asked(renderer: ChartRenderer) -> None:
    alone = [renderer.png(busy(), 500, 300), renderer.png(plain(), 400, 300)]
    assert renderer.pngs([(busy(), 500, 300), (plain(), 400, 300)]) == alone
    assert alone[0] != alone[1]


def _browsers_of_this_process() -> list[int]:
    """Chromium processes started by this test process (children of children...)."""
    parent: dict[int, int] = {}
    command: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line for line in status.splitlines() if line.startswith("PPid:"))
        parent[int(entry.name)] = int(ppid.split()[1])

    def descends(pid: int) -> bool:
        while pid in parent and pid > 1:
            pid = parent[pid]
            if pid == os.getpid():
                return True
        return False

    return [pid for pid, cmd in command.items() if b"chromium" in cmd and descends(pid)]


def test_a_browser_that_died_is_restarted_for_the_next_chart() -> None:
    with ChartRenderer.start() as renderer:
        before = renderer.png(plain(), 400, 300)
        browsers = _browsers_of_this_process()
        assert browsers, "the renderer's Chromium was not found"
        for pid in browsers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # The next chart restarts the browser instead of failing from now on.
        assert renderer.png(plain(), 400, 300) == before
        assert renderer.available and not renderer.reason
