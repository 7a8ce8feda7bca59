"""The issue-9 tour in a real `streamlit run`, driven by Chromium: what a counselor waits.

bench_pages.py times page scripts through AppTest, which leaves out what a served page
also costs: the full garbage collection Streamlit runs after every script run, the
websocket, and the browser drawing (the first plotly chart in a tab loads plotly.js).
This one starts the server on a copy of the 15k-session clinic, signs in as the long
couple's counselor, opens the first couple of the caseload, its timeline four times,
Log session, a refused save (no stage) and a save, then the timeline in a second tab.
Each step is timed from the click until its content is visible and the script has
stopped running. One run each (a server starts once): figures move by 20-30% from run
to run on a shared machine; the ratios are the point.

Prints `BENCH name=server_<step> median_ms=... runs=...` and the ratios
`server_timeline_first_vs_warm` (target <= 2, issue 9) and
`server_timeline_new_tab_first_vs_warm` (the browser's own share of a first chart).
Without Chromium or Playwright it says so and exits 0.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import CLINIC_15K, db_path, ensure_size, report, report_ratio  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "bondline-demo"
TIMEOUT_S = 120
QUIET_S = 0.3
WARM_TIMELINES = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _done_at(page, started: float) -> float:  # type: ignore[no-untyped-def]
    """Milliseconds from `started` until the script stopped running for good (it stays
    stopped for QUIET_S: a click can rerun the script more than once)."""
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    deadline = time.monotonic() + TIMEOUT_S
    since = None
    while time.monotonic() < deadline:
        if idle.count():
            since = since or time.perf_counter()
            if time.perf_counter() - since >= QUIET_S:
                return (since - started) * 1000
        else:
            since = None
        page.wait_for_timeout(20)
    raise TimeoutError("the app did not settle")


def _start_server(url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BONDLINE_COOKIE_KEY": secrets.token_urlsafe(48),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "streamlit_app.py",
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("streamlit was not healthy in time")


def _sign_in(page, base: str, username: str, times: dict[str, list[float]]) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    started = time.perf_counter()
    page.goto(base, wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    times["login_form"].append(_done_at(page, started))
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    started = time.perf_counter()
    page.get_by_role("button", name="Login", exact=True).click()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    times["login"].append(_done_at(page, started))


def _open_first_couple(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + 35 * 1.5)  # the first row's box
    expect(page.get_by_role("link", name="Open the timeline")).to_be_visible()
    _done_at(page, time.perf_counter())


def _timeline_and_back(page) -> float:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    started = time.perf_counter()
    page.get_by_role("link", name="Open the timeline").click()
    expect(page.locator(".js-plotly-plot").filter(visible=True).first).to_be_visible()
    took = _done_at(page, started)
    page.get_by_role("link", name=re.compile("Couple record|Back to")).first.click()
    expect(page.get_by_role("link", name="Open the timeline")).to_be_visible()
    _done_at(page, time.perf_counter())
    return took


def _log_a_session(page, times: dict[str, list[float]]) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    nav = page.get_by_test_id("stSidebarNav")
    started = time.perf_counter()
    nav.get_by_role("link", name="Log session", exact=True).click()
    expect(page.get_by_role("heading", name="Log session")).to_be_visible()
    times["log_session_open"].append(_done_at(page, started))
    for label, text in (
        ("Data", "Both on time; talked about the week's silences."),
        ("Assessment", "Trust building; stress still high."),
        ("Plan", "Ten minutes a day of empathic listening."),
    ):
        page.get_by_role("textbox", name=label, exact=True).fill(text)
        page.get_by_role("textbox", name=label, exact=True).blur()
        _done_at(page, time.perf_counter())
    started = time.perf_counter()
    page.get_by_role("button", name="Save session").first.click()
    expect(page.get_by_text("Nothing was saved").first).to_be_visible()  # no stage yet
    times["refused_save"].append(_done_at(page, started))
    page.get_by_role("tab", name="Stage & barriers").click()
    _done_at(page, time.perf_counter())
    page.get_by_text("Trust and Vulnerability").first.click()
    _done_at(page, time.perf_counter())
    started = time.perf_counter()
    page.get_by_role("button", name="Save session").first.click()
    expect(page.get_by_text(re.compile(r"Session of .* saved")).first).to_be_visible()
    times["save"].append(_done_at(page, started))


def tour(url: str, username: str, tmp: Path) -> dict[str, list[float]]:
    from playwright.sync_api import expect, sync_playwright

    times: dict[str, list[float]] = {
        k: []
        for k in (
            "login_form",
            "login",
            "timeline_first",
            "timeline_warm",
            "log_session_open",
            "refused_save",
            "save",
            "new_tab_login",
            "timeline_new_tab_first",
        )
    }
    started = time.perf_counter()
    proc, base = _start_server(url, tmp / "streamlit.log")
    times["start"] = [(time.perf_counter() - started) * 1000]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            expect.set_options(timeout=TIMEOUT_S * 1000)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(TIMEOUT_S * 1000)
            _sign_in(page, base, username, times)
            _open_first_couple(page)
            times["timeline_first"].append(_timeline_and_back(page))
            for _ in range(WARM_TIMELINES):
                times["timeline_warm"].append(_timeline_and_back(page))
            _log_a_session(page, times)
            # A second tab on the now warm server: its first chart costs the browser
            # loading plotly.js, which no server warm-up can do for it.
            other = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
            other.set_default_timeout(TIMEOUT_S * 1000)
            login_times: dict[str, list[float]] = {"login_form": [], "login": []}
            _sign_in(other, base, username, login_times)
            times["new_tab_login"] = login_times["login"]
            _open_first_couple(other)
            times["timeline_new_tab_first"].append(_timeline_and_back(other))
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return times


def _counselor(url: str) -> str:
    """The long couple's counselor (bench_pages.py signs in as the same one)."""
    from bench.bench_pages import ids

    return str(ids(url)["counselor"])


def main() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print("bench_server: Playwright is not installed; not available here")
        return
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        print(f"bench_server: {CHROMIUM} is missing; not available here")
        return
    ensure_size(CLINIC_15K)
    with tempfile.TemporaryDirectory(prefix="bondline-bench-server-") as tmp_name:
        tmp = Path(tmp_name)
        copy = tmp / "clinic.sqlite3"
        shutil.copy(db_path(CLINIC_15K.name), copy)  # the tour saves a session
        url = f"sqlite:///{copy}"
        times = tour(url, _counselor(url), tmp)
    for name, values in times.items():
        report(f"server_{name}", values)
    warm = statistics.median(times["timeline_warm"])
    first = times["timeline_first"][0]
    report_ratio("server_timeline_first_vs_warm", first / warm)
    report_ratio("server_timeline_new_tab_first_vs_warm", times["timeline_new_tab_first"][0] / warm)
    print(
        f"  first timeline after start: {first / warm:.2f}x a warm one (target <= 2x): "
        f"{'met' if first / warm <= 2 else 'MISSED'}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
