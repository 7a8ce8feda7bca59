"""Drafts that cannot be lost, and forms and start pages that open as stored, in Chromium.

(a) Text typed into a field, with the browser closed before the field lost focus, is
    all in the draft offered the next time.
(b) Typing into the form while an earlier draft is offered keeps both; either comes back.
(c) An edit form opened fresh, after the timeline and other pages, shows the stored notes
    every time (20 openings).
(d) No start page opened by its address brings up Streamlit's "Page not found".
(e) A signed-out tab keeps no clinical text: the text the tab kept of a session form
    (sessionStorage "bondline-live-draft:<form>", resent after a replica's crash) is
    gone once it is signed out, by Log out or by a log-out elsewhere, so the next person
    at a shared workstation cannot read it (devtools).

One served app for the whole module (a demo clinic of its own).
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import load_demo, serve
from tests.e2e.test_browser_smoke import (
    UI_TIMEOUT_MS,
    _save_screenshot,
    _settle,
    _signed_in,
)

SHOTS = Path("/tmp/shots")
TYPED = (
    "She said the silence at dinner feels like a wall; he heard it as blame. "
    "They agreed to name it kindly — “I’m here, just tired” — and to try it for a week."
)


@pytest.fixture(scope="module")
def clinic_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return load_demo(tmp_path_factory.mktemp("drafts") / "demo.sqlite3")


@pytest.fixture(scope="module")
def app_url(clinic_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "DATABASE_URL": clinic_db,
        "BONDLINE_COOKIE_KEY": secrets.token_urlsafe(48),
        "BONDLINE_LOGIN_SLEEP_SECONDS": "0",
    }
    log = tmp_path_factory.mktemp("drafts-log") / "streamlit.log"
    with serve("streamlit_app.py", log, env) as base:
        yield base


@contextmanager
def signed_in(browser, base: str, username: str = "c.rivera", width: int = 1400):  # type: ignore[no-untyped-def]
    """A new browser context (a closed and reopened browser), signed in at the front door."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": width, "height": 1300})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(base, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page, 1.0)
        _signed_in(page, username)
        yield context, page
    except BaseException:
        _save_screenshot(page, SHOTS, "drafts-failure.png")
        raise
    finally:
        context.close()


def _db(url: str) -> sqlite3.Connection:
    return sqlite3.connect(url.removeprefix("sqlite:///"))


def _couple_with_sessions(url: str, nth: int = 0) -> tuple[int, int]:
    """One of c.rivera's active couples (by id) and its newest session with notes."""
    with _db(url) as conn:
        rows = conn.execute(
            """
            SELECT c.id, MAX(s.id) FROM couples c JOIN users u ON u.id = c.counselor_id
            JOIN sessions s ON s.couple_id = c.id AND s.deleted_at IS NULL
            WHERE u.username = 'c.rivera' AND c.status = 'active'
              AND s.note_data <> '' AND s.note_assessment <> '' AND s.note_plan <> ''
            GROUP BY c.id ORDER BY c.id
            """
        ).fetchall()
    return rows[nth]


def _kept(url: str, couple_id: int) -> list[dict[str, object]]:
    """The values of every draft version kept for a new session of the couple."""
    with _db(url) as conn:
        rows = conn.execute(
            "SELECT payload FROM session_drafts WHERE target = ? ORDER BY id",
            (f"new:{couple_id}",),
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_a_field_typed_in_when_the_browser_closes_is_all_kept(
    browser, app_url: str, clinic_db: str
) -> None:  # type: ignore[no-untyped-def]
    """(a) No blur, no Ctrl+Enter: the context is closed with the focus still in the field."""
    from playwright.sync_api import expect

    couple_id, _ = _couple_with_sessions(clinic_db, 0)
    with signed_in(browser, app_url) as (_, page):
        page.goto(f"{app_url}/log_session?couple={couple_id}", wait_until="domcontentloaded")
        _settle(page, 1.0)
        field = page.get_by_role("textbox", name=re.compile("^Assessment"))
        field.click()
        page.keyboard.type(TYPED, delay=15)
        expect(field).to_be_focused()
        # The last keystroke reaches the server within the component's short debounce;
        # then the browser goes, the focus still in the field.
        page.wait_for_timeout(800)
        _settle(page, 0.5)
        expect(page.get_by_text(re.compile(r"Draft kept at \d\d:\d\d"))).to_be_visible()
        expect(field).to_be_focused()
        _save_screenshot(page, SHOTS, "drafts-a-typing.png")
    assert [v["sf_note_assessment"] for v in _kept(clinic_db, couple_id)] == [TYPED]
    with signed_in(browser, app_url) as (_, page):
        page.goto(f"{app_url}/log_session?couple={couple_id}", wait_until="domcontentloaded")
        _settle(page, 1.0)
        page.get_by_role("button", name=re.compile(r"Resume the draft from \d\d:\d\d")).click()
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name=re.compile("^Assessment"))).to_have_value(TYPED)
        expect(page.get_by_role("spinbutton", name="Length (minutes)")).to_have_value("50")


def test_typing_while_a_draft_is_offered_keeps_both(browser, app_url: str, clinic_db: str) -> None:  # type: ignore[no-untyped-def]
    """(b) The offer stays a choice while the counselor types; both texts come back."""
    from playwright.sync_api import expect

    couple_id, _ = _couple_with_sessions(clinic_db, 1)
    earlier = "Morning sitting. " + "They spoke about the move and the money, calmly. " * 18
    later = "Afternoon: typed while the offer showed."
    with signed_in(browser, app_url) as (_, page):
        page.goto(f"{app_url}/log_session?couple={couple_id}", wait_until="domcontentloaded")
        _settle(page, 1.0)
        page.get_by_role("textbox", name=re.compile("^Data")).fill(earlier)
        page.get_by_role("textbox", name=re.compile("^Plan")).click()
        _settle(page, 1.0)
    with signed_in(browser, app_url) as (_, page):
        page.goto(f"{app_url}/log_session?couple={couple_id}", wait_until="domcontentloaded")
        _settle(page, 1.0)
        resume = page.get_by_role("button", name=re.compile(r"Resume the draft from \d\d:\d\d"))
        expect(resume).to_be_visible()
        data = page.get_by_role("textbox", name=re.compile("^Data"))
        data.click()
        page.keyboard.type(later, delay=10)
        page.get_by_role("textbox", name=re.compile("^Plan")).click()
        _settle(page, 1.0)
        # Still offered, and Length still holds the new session's 50 minutes.
        expect(resume).to_be_visible()
        expect(page.get_by_role("spinbutton", name="Length (minutes)")).to_have_value("50")
        _save_screenshot(page, SHOTS, "drafts-b-offer-while-typing.png")
        resume.click()
        _settle(page, 1.0)
        expect(data).to_have_value(earlier)
        page.get_by_text(re.compile(r"Your drafts of this session \(2\)")).click()
        page.get_by_role("button", name="Restore").first.click()
        _settle(page, 1.0)
        expect(data).to_have_value(later)
        _save_screenshot(page, SHOTS, "drafts-b-restored.png")


def test_an_edit_form_opened_fresh_shows_the_stored_notes_every_time(
    browser, app_url: str, clinic_db: str
) -> None:  # type: ignore[no-untyped-def]
    """(c) 20 fresh tabs on /log_session?session=N, each after the timeline, the couple or
    the caseload was open in another tab."""
    from playwright.sync_api import expect

    couple_id, session_id = _couple_with_sessions(clinic_db, 2)
    with _db(clinic_db) as conn:
        data, assessment, plan, minutes = conn.execute(
            "SELECT note_data, note_assessment, note_plan, duration_minutes FROM sessions "
            "WHERE id = ?",
            (session_id,),
        ).fetchone()
    before = [
        f"{app_url}/timeline?couple={couple_id}",
        f"{app_url}/couple?couple={couple_id}",
        f"{app_url}/caseload",
    ]
    with signed_in(browser, app_url) as (context, page):
        for n in range(20):
            page.goto(before[n % len(before)], wait_until="domcontentloaded")
            page.wait_for_timeout(150 * (n % 5))  # the other tab still busy, or not
            tab = context.new_page()
            tab.goto(f"{app_url}/log_session?session={session_id}", wait_until="domcontentloaded")
            _settle(tab, 1.0)
            expect(tab.get_by_role("textbox", name=re.compile("^Data"))).to_have_value(data)
            expect(tab.get_by_role("textbox", name=re.compile("^Assessment"))).to_have_value(
                assessment
            )
            expect(tab.get_by_role("textbox", name=re.compile("^Plan"))).to_have_value(plan)
            expect(tab.get_by_role("spinbutton", name="Length (minutes)")).to_have_value(
                str(minutes)
            )
            # Nothing taken for typed: Discard changes stays disabled.
            expect(tab.get_by_role("button", name="Discard changes", disabled=False)).to_have_count(
                0
            )
            tab.close()


START_PAGES = {
    "c.rivera": [("/caseload", "My caseload"), ("/", "My caseload")],
    "sup.okafor": [
        ("/review", "Caseload review"),
        ("/caseload", "Couples"),
        ("/", "Caseload review"),
    ],
    "admin": [("/review", "Clinic overview"), ("/admin", "Admin"), ("/", "Clinic overview")],
}


@pytest.mark.parametrize("username", sorted(START_PAGES))
def test_start_pages_opened_by_address_bring_up_no_dialog(
    browser, app_url: str, username: str
) -> None:  # type: ignore[no-untyped-def]
    """(d) The page comes up alone: no "Page not found" over it."""
    from playwright.sync_api import expect

    with signed_in(browser, app_url, username) as (_, page):
        for path, title in START_PAGES[username]:
            page.goto(f"{app_url}{path}", wait_until="domcontentloaded")
            _settle(page, 1.5)
            expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
            expect(page.get_by_text("Page not found")).to_have_count(0)
            expect(page.get_by_role("dialog")).to_have_count(0)


def test_the_next_section_is_a_few_keys_from_the_last_note_field(
    browser, app_url: str, clinic_db: str
) -> None:  # type: ignore[no-untyped-def]
    """From Plan, Tab reaches 'Next: Stage & barriers' at once; Enter opens that section
    with the focus on its tab, so the next Tab goes into its fields."""
    from playwright.sync_api import expect

    couple_id, _ = _couple_with_sessions(clinic_db, 3)
    with signed_in(browser, app_url, width=800) as (_, page):
        page.goto(f"{app_url}/log_session?couple={couple_id}", wait_until="domcontentloaded")
        _settle(page, 1.0)
        page.get_by_role("textbox", name=re.compile("^Plan")).click()
        next_section = page.get_by_role("button", name="Next: Stage & barriers")
        presses = 0
        while presses < 3:
            page.keyboard.press("Tab")
            presses += 1
            if next_section.evaluate("b => b === document.activeElement"):
                break
        expect(next_section).to_be_focused()
        page.keyboard.press("Enter")
        _settle(page, 1.0)
        expect(page.get_by_role("tab", name="Stage & barriers")).to_be_focused()
        expect(page.get_by_role("tab", name="Stage & barriers")).to_have_attribute(
            "aria-selected", "true"
        )
        _save_screenshot(page, SHOTS, "drafts-next-section-800.png")


# (e) A signed-out tab keeps no clinical text.
STORE = "bondline-live-draft:"  # live_draft/index.html's key prefix
TYPED_BILLS = "He said the bills are hers to worry about; she heard that she is alone with them."
KEPT_KEYS = f"Object.keys(sessionStorage).filter((k) => k.startsWith({STORE!r}))"


def _type_until_kept(page, base: str, couple_id: int) -> None:  # type: ignore[no-untyped-def]
    """Type into a new session's Assessment until the server and the tab both keep it."""
    from playwright.sync_api import expect

    page.goto(f"{base}/log_session?couple={couple_id}", wait_until="domcontentloaded")
    _settle(page, 1.0)
    page.get_by_role("textbox", name=re.compile("^Assessment")).click()
    page.keyboard.type(TYPED_BILLS, delay=10)
    page.wait_for_timeout(800)
    _settle(page, 0.5)
    expect(page.get_by_text(re.compile(r"Draft kept at \d\d:\d\d"))).to_be_visible()
    kept = page.evaluate(KEPT_KEYS)
    assert kept == [f"{STORE}new:{couple_id}"]
    assert TYPED_BILLS in page.evaluate(f"sessionStorage.getItem({kept[0]!r})")


def _kept_keys_once_settled(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The tab's kept keys, given the sign-in page's component up to 10 s to load."""
    deadline = time.monotonic() + 10
    keys = page.evaluate(KEPT_KEYS)
    while keys and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        keys = page.evaluate(KEPT_KEYS)
    return keys


def test_log_out_leaves_no_typed_text_in_the_tab(browser, app_url: str, clinic_db: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    couple_id, _ = _couple_with_sessions(clinic_db, 4)
    with signed_in(browser, app_url) as (_, page):
        _type_until_kept(page, app_url, couple_id)
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You have logged out.")).to_be_visible()
        _settle(page, 1.0)
        assert _kept_keys_once_settled(page) == []
        # The forgetting frame takes no room (a frame of height 0 laid out would take a
        # line of 25.6 px and the block's 16 px gap below the form).
        frame = page.locator(".st-key-live_draft_forget")
        expect(frame).to_have_count(1)
        assert frame.evaluate("e => e.getBoundingClientRect().height") == 0
        _save_screenshot(page, SHOTS, "signed-out-log-out.png")


def test_logged_out_elsewhere_leaves_no_typed_text_in_the_tab(
    browser, app_url: str, clinic_db: str
) -> None:  # type: ignore[no-untyped-def]
    """The counselor logs out on another computer; this tab's next page signs it out."""
    from playwright.sync_api import expect

    couple_id, _ = _couple_with_sessions(clinic_db, 5)
    with signed_in(browser, app_url) as (_, page):
        _type_until_kept(page, app_url, couple_id)
        with signed_in(browser, app_url) as (_, elsewhere):
            elsewhere.get_by_role("button", name="Log out").click()
            expect(elsewhere.get_by_text("You have logged out.")).to_be_visible()
        page.get_by_role("link", name="My caseload").click()
        expect(page.get_by_text(re.compile("You were signed out"))).to_be_visible()
        _settle(page, 1.0)
        assert _kept_keys_once_settled(page) == []
