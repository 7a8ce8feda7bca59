"""Browser-test fixtures: a demo clinic in tmp_path, a served app on a free port, and one
Chromium per module (`browser`)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.cluster import free_port as _free_port
from tests.e2e.cluster import tail as _tail
from tests.e2e.test_browser_smoke import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium for a module's tests (each opens its own contexts): starting it is
    the slow part, and a context is as clean as a new browser."""
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def demo_db_url(tmp_path: Path) -> str:
    return load_demo(tmp_path / "demo.sqlite3")


def load_demo(path: Path) -> str:
    """The demo clinic in a new SQLite file at `path`; returns its URL."""
    url = f"sqlite:///{path}"
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "--url", url, "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"loading the demo clinic failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return url


@pytest.fixture
def server(tmp_path: Path, demo_db_url: str) -> Iterator[str]:
    """`streamlit run streamlit_app.py` on a free port; yields its base URL."""
    env = {
        "DATABASE_URL": demo_db_url,
        "BONDLINE_COOKIE_KEY": secrets.token_urlsafe(48),
        "BONDLINE_LOGIN_SLEEP_SECONDS": "0",
    }
    with serve("streamlit_app.py", tmp_path / "streamlit.log", env) as base:
        yield base


@contextmanager
def serve(
    script: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    *,
    port: int | None = None,
    options: list[str] | None = None,
) -> Iterator[str]:
    """`streamlit run SCRIPT` (a path from the project root) on a free port (or `port`),
    with any further Streamlit `options`, healthy; yields its base URL and stops it
    afterwards."""
    port = port or _free_port()
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        **(env or {}),
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        *(options or []),
    ]
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit was not healthy within {START_TIMEOUT_S} s:\n{_tail(log_path)}"
                )
            time.sleep(0.5)
        yield base
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
