"""The served app in a real browser: log in as a counselor and see the caseload.

Debian's Chromium drives a `streamlit run` of the entrypoint on a free loopback port,
against a demo clinic built in tmp_path (the repo's data/ is never touched).
Playwright cannot download browsers here, so the system Chromium is required: when it
is missing this test fails (CI installs it), it does not skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
DEMO_PASSWORD = "bondline-demo"
CASE_CODE = re.compile(r"C-\d{4}-\d{4}")
START_TIMEOUT_S = 60
UI_TIMEOUT_MS = 30_000
ROW_HEIGHT_PX = 35  # st.dataframe header and row height

pytestmark = pytest.mark.e2e


def _save_screenshot(page, tmp_path: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("BONDLINE_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)
    return path


def _settle(page, quiet_s: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script has stayed idle for `quiet_s`.

    The login form renders before the cookie component's iframe reports back, and that
    report reruns the script (clearing a form or an error shown meanwhile).
    """
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        if idle.count():
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_s:
                return
        else:
            quiet_since = None
        page.wait_for_timeout(100)
    pytest.fail(f"the app did not settle within {UI_TIMEOUT_MS / 1000:.0f} s")


def _log_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Login", exact=True).click()


def _signed_in(page, username: str, *, cookie_name: str = "bondline_auth") -> None:  # type: ignore[no-untyped-def]
    """Log in, and wait until the browser holds the sign-in cookie.

    On a busy machine a late rerun can clear the form as it is sent, and the cookie is set
    by a component after the signed-in page has drawn: a deep link opened before it
    lands shows the login form again (as a person opening a new tab that instant would).
    """
    from playwright.sync_api import expect

    form = page.get_by_role("textbox", name="Username", exact=True)
    for _ in range(3):
        _log_in(page, username, DEMO_PASSWORD)
        _settle(page, 1.0)
        if not form.count():
            break
    expect(form).to_have_count(0)
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while not any(c["name"] == cookie_name for c in page.context.cookies()):
        if time.monotonic() > deadline:
            pytest.fail(f"signed in as {username}, but no {cookie_name} cookie was set")
        page.wait_for_timeout(100)


@contextlib.contextmanager
def browser_page(
    tmp_path: Path, height: int = 1000, *, test_certificate: bool = False
) -> Iterator[object]:
    """A Chromium page with the suite's timeouts; a failure leaves a screenshot.

    `test_certificate`: accept a test's self-signed TLS certificate.
    """
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install chromium; .ci/run does this)"
        )
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(
                viewport={"width": 1400, "height": height}, ignore_https_errors=test_certificate
            )
            page.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)
            try:
                yield page
            except BaseException:
                try:
                    shot = _save_screenshot(page, tmp_path, "failure.png")
                    print(f"screenshot of the failure: {shot}")
                except Exception as exc:  # the page may be gone; keep the first error
                    print(f"no failure screenshot: {exc}")
                raise
        finally:
            browser.close()


def _open_and_log_in(page, server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server, wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    _settle(page)
    _log_in(page, username, DEMO_PASSWORD)


def test_counselor_logs_in_and_sees_caseload(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        page.goto(server, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)

        _log_in(page, "c.rivera", "not-the-password")
        expect(page.get_by_text(re.compile("incorrect", re.I)).first).to_be_visible()

        _log_in(page, "c.rivera", DEMO_PASSWORD)
        heading = page.get_by_role("heading", name="My caseload")
        expect(heading.first).to_be_visible()
        _settle(page)  # a rerun after login briefly shows the stale page beside the new
        expect(heading).to_have_count(1)
        # st.dataframe paints its cells on a canvas; the grid's accessible cells
        # carry the same text for the rows in view.
        grid = page.get_by_test_id("stDataFrame").first
        expect(grid).to_be_visible()
        first_code = grid.locator("[role=gridcell]").filter(has_text=CASE_CODE).first
        expect(first_code).to_be_attached()
        code = first_code.inner_text()
        assert CASE_CODE.fullmatch(code), code
        # Selecting the first row (its checkbox on the canvas) names the couple in
        # ordinary page text.
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 15, box["y"] + ROW_HEIGHT_PX * 1.5)
        expect(page.get_by_text(code).filter(visible=True).first).to_be_visible()
        _save_screenshot(page, tmp_path, "caseload.png")


def test_cookie_keeps_a_login_across_reloads_until_logout(server: str, tmp_path: Path) -> None:
    """A reload logs back in from the cookie; after logout the same cookie is refused."""
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        _open_and_log_in(page, server, "c.rivera")
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)

        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_have_count(0)

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You have logged out.")).to_be_visible()
        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
        _save_screenshot(page, tmp_path, "after-logout.png")


def test_supervisor_reviews_the_caseload_with_charts(server: str, tmp_path: Path) -> None:
    """The review page in a real browser: attention list, then plotly really draws."""
    from playwright.sync_api import expect

    with browser_page(tmp_path, height=1400) as page:
        _open_and_log_in(page, server, "sup.okafor")
        expect(page.get_by_role("heading", name="Caseload review").first).to_be_visible()
        _settle(page)
        grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
        listed = grid.locator("[role=gridcell]").filter(has_text="Partners diverging")
        expect(listed.first).to_be_attached()
        page.get_by_role("tab", name="Stages and barriers").click()
        # plotly draws into SVG in the browser: the Sankey's node labels are text.
        expect(page.get_by_text("Intake: 1. Curiosity and Comfort").first).to_be_visible()
        expect(page.locator(".js-plotly-plot").filter(visible=True)).to_have_count(2)
        _save_screenshot(page, tmp_path, "review.png")


def test_a_page_outside_the_role_opened_by_url_is_refused_and_on_record(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    """A counselor typing /admin or /review sees a refusal (not the start page with no
    trace), and each visit is on record once, however often the page reruns."""
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        _open_and_log_in(page, server, "c.rivera")
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        for path, title in (("admin", "Admin"), ("review", "Caseload review")):
            page.goto(f"{server}/{path}", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name=title).first).to_be_visible()
            expect(page.get_by_text("This page is not part of the counselor role.")).to_be_visible()
            _settle(page)
            expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
        _save_screenshot(page, tmp_path, "refused-page.png")

    with sqlite3.connect(demo_db_url.removeprefix("sqlite:///")) as db:
        refused = db.execute(
            "SELECT username, detail FROM audit_events WHERE action = 'open_page'"
            " AND success = 0 ORDER BY id"
        ).fetchall()
    assert refused == [
        ("c.rivera", "admin: not a counselor page"),
        ("c.rivera", "review: not a counselor page"),
    ]
