"""Plotly figures to PNG through one long-lived headless Chromium (kaleido 1.x).

Starting a browser costs a second or two; each image after that about a tenth of one.
So a batch of reports keeps one `ChartRenderer` open and renders every chart through it.

The renderer owns its Chromium and its event loop (a daemon thread), rather than
kaleido's global sync server: that one is a process-wide singleton whose start-up
failure surfaces as a call that never returns. Here a failed start is reported as
`available = False` with a `reason` a report can print, and every call has a timeout.
Calls are serialised by a lock, so Streamlit sessions on several threads may share one
renderer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

NO_BROWSER = (
    "Charts are not included: no Chromium browser is installed on this server for chart export."
)
START_TIMEOUT_SECONDS = 60.0
RENDER_TIMEOUT_SECONDS = 60.0
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
_DEFAULT_BROWSER = "/usr/bin/chromium"


def find_browser() -> str | None:
    """The Chromium kaleido will drive: BROWSER_PATH, else a known name on PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return _DEFAULT_BROWSER if Path(_DEFAULT_BROWSER).is_file() else None


def _summary(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


BROWSER_TABS = 2  # charts drawn side by side: a report's three, or two reports' at once


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _kaleido_class(kaleido: Any) -> Any:
    """kaleido.Kaleido, except that a tab is not reloaded after every figure.

    Kaleido reloads the page (and so re-parses plotly.js) after each image to start the
    next from a clean page; measured here that reload is most of the browser's work: a
    batch of reports spent about 0.2 s of CPU per chart. Each figure is drawn into a
    fresh element by kaleido's page script, so the reload buys nothing for these
    charts; tests/integration/test_chart_images.py checks that an image is byte-identical
    whatever was drawn in the tab before it.
    """

    class ReusedTabs(kaleido.Kaleido):  # type: ignore[misc,name-defined]
        async def _return_kaleido_tab(self, tab: Any) -> None:
            await self.tabs_ready.put(tab)

    return ReusedTabs


class ChartRenderer:
    """One Chromium for a batch of chart images; a context manager.

    `ChartRenderer.start()` never raises for a missing or broken browser: it returns a
    renderer with `available = False` and a `reason` saying why, and `png()` then
    raises RuntimeError (callers check `available` first).
    """

    def __init__(self, browser_path: str | Path | None = None) -> None:
        """`browser_path`: the browser to use; default `find_browser()`. A path that is
        not a file leaves the renderer unavailable (how tests take the no-browser path)."""
        self._path = str(browser_path) if browser_path is not None else find_browser()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._generation = 0  # browser starts so far: a failed draw restarts it once
        self.available = False
        self.reason = NO_BROWSER

    @classmethod
    def start(cls, browser_path: str | Path | None = None) -> ChartRenderer:
        renderer = cls(browser_path)
        renderer.open()
        return renderer

    @property
    def browser_path(self) -> str | None:
        return self._path

    def open(self) -> None:
        """Start the browser (a no-op when it is running or there is none)."""
        with self._lock:
            if self.available:
                return
            if self._path is None or not Path(self._path).is_file():
                self.reason = NO_BROWSER
                return
            try:
                self._start()
            except Exception as exc:  # any start-up failure: report it, don't raise
                self._stop()
                self.reason = (
                    f"Charts are not included: the chart export failed to start ({_summary(exc)})."
                )
                return
            self.available = True
            self.reason = ""

    def _start(self) -> None:
        import kaleido  # imported here: only a renderer that starts pays for it

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="chart-renderer", daemon=True
        )
        self._thread.start()
        # MathJax would be fetched from a CDN; these charts use no LaTeX.
        k = _kaleido_class(kaleido)(
            n=BROWSER_TABS, timeout=RENDER_TIMEOUT_SECONDS, mathjax=False, path=self._path
        )
        self._kaleido = self._run(k.__aenter__(), START_TIMEOUT_SECONDS)

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def png(self, fig: Any, width: int, height: int) -> bytes:
        """The figure as PNG bytes, `width` x `height` CSS pixels at scale 2 (print)."""
        return self.pngs([(fig, width, height)])[0]

    def pngs(self, figures: Sequence[tuple[Any, int, int]]) -> list[bytes]:
        """Several figures at once, (figure, width, height) each: they are drawn side by
        side in the browser's tabs, and several threads may call this together.

        A failure (the browser died, a tab hung) restarts the browser once, with fresh
        tabs, and tries again, so one crash does not leave a long-lived server without
        charts; a second failure reaches the caller.
        """
        generation = self._generation
        try:
            return self._draw(figures)
        except Exception:
            self._restart(generation)
            return self._draw(figures)

    def _draw(self, figures: Sequence[tuple[Any, int, int]]) -> list[bytes]:
        with self._lock:
            if not self.available or self._kaleido is None:
                raise RuntimeError(self.reason or NO_BROWSER)
            kaleido = self._kaleido

        async def draw_all() -> list[bytes]:
            return await asyncio.gather(
                *(
                    kaleido.calc_fig(
                        fig, opts={"format": "png", "width": w, "height": h, "scale": 2}
                    )
                    for fig, w, h in figures
                )
            )

        return self._run(draw_all(), RENDER_TIMEOUT_SECONDS * max(1, len(figures)))

    def _restart(self, seen: int) -> None:
        """Stop and start the browser, unless another thread already did since `seen`."""
        with self._lock:
            if self._generation != seen:
                return
            self._generation += 1
            self._stop()
            self.available = False
        self.open()

    def close(self) -> None:
        """Stop the browser; safe to call twice."""
        with self._lock:
            self._stop()
            if self.available:
                self.available = False
                self.reason = "Charts are not included: the chart renderer was closed."

    def _stop(self) -> None:
        if self._kaleido is not None and self._loop is not None:
            # Closing a broken browser is best effort.
            with contextlib.suppress(Exception):
                self._run(self._kaleido.__aexit__(None, None, None), START_TIMEOUT_SECONDS)
        self._kaleido = None
        if self._loop is not None:
            # Whatever a dead browser left running (its watchdog) ends with the loop.
            with contextlib.suppress(Exception):
                self._run(_cancel_pending(), START_TIMEOUT_SECONDS)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            if not self._loop.is_running():
                self._loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> ChartRenderer:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_renderer(browser_path: str | Path | None = None) -> ChartRenderer:
    """`ChartRenderer.start`, as a function."""
    return ChartRenderer.start(browser_path)
