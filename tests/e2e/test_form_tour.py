"""The tour that once erased a couple's intake text, in a real Chromium.

A counselor opens a couple, goes to its timeline, comes back: Intake details must show
the stored values, and a save must change nothing. The same for editing a session.
Then a session note being written survives closing the browser.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tests.e2e.test_browser_smoke import (
    ROW_HEIGHT_PX,
    _save_screenshot,
    _settle,
    _signed_in,
    browser_page,
)


def _rivera_couple(demo_db_url: str) -> tuple[int, str, str, str, int]:
    """c.rivera's active couple with the most sessions: id, code, concerns, goals, and
    its newest session (the first row of the couple's session table)."""
    with sqlite3.connect(demo_db_url.removeprefix("sqlite:///")) as conn:
        couple_id, code, concerns, goals = conn.execute(
            """
            SELECT c.id, c.case_code, c.presenting_concerns, c.goals
            FROM couples c JOIN users u ON u.id = c.counselor_id
            JOIN sessions s ON s.couple_id = c.id AND s.deleted_at IS NULL
            WHERE u.username = 'c.rivera' AND c.status = 'active'
              AND c.presenting_concerns <> '' AND c.goals <> ''
            GROUP BY c.id ORDER BY COUNT(s.id) DESC, c.id LIMIT 1
            """
        ).fetchone()
        (session_id,) = conn.execute(
            "SELECT id FROM sessions WHERE couple_id = ? AND deleted_at IS NULL "
            "ORDER BY session_date DESC, id DESC LIMIT 1",
            (couple_id,),
        ).fetchone()
    return couple_id, code, concerns, goals, session_id


def _stored(demo_db_url: str, couple_id: int) -> tuple:
    with sqlite3.connect(demo_db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT presenting_concerns, goals, intake_date, version FROM couples WHERE id = ?",
            (couple_id,),
        ).fetchone()


def _session_row(demo_db_url: str, session_id: int) -> tuple:
    with sqlite3.connect(demo_db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT note_data, note_plan, session_date, version FROM sessions WHERE id = ?",
            (session_id,),
        ).fetchone()


def _open(page, url: str, username: str = "c.rivera") -> None:  # type: ignore[no-untyped-def]
    """Log in at the front door, then open a deep link (the cookie signs it in)."""
    from playwright.sync_api import expect

    page.goto(url.split("/log_session")[0].split("/couple")[0], wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    _settle(page)
    _signed_in(page, username)
    page.goto(url, wait_until="domcontentloaded")
    _settle(page)


def _nav(page, label: str) -> None:  # type: ignore[no-untyped-def]
    """A click in the sidebar menu: a page switch inside the same app session."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()
    _settle(page, 1.0)


def test_intake_and_session_edit_survive_a_trip_and_a_save_changes_nothing(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    couple_id, code, concerns, goals, session_id = _rivera_couple(demo_db_url)
    before = _stored(demo_db_url, couple_id)
    with browser_page(tmp_path, height=1400) as page:
        _open(page, f"{server}/couple?couple={couple_id}")
        expect(page.get_by_role("heading", name=re.compile(code)).first).to_be_visible()
        page.get_by_role("link", name="Open the timeline").click()
        _settle(page, 1.0)
        expect(page.get_by_role("heading", name=re.compile(code)).first).to_be_visible()
        _nav(page, "Couple")
        page.get_by_role("tab", name="Intake details").click()
        concerns_box = page.get_by_role("textbox", name="Presenting concerns")
        expect(concerns_box).to_have_value(concerns)
        expect(page.get_by_role("textbox", name="Goals")).to_have_value(goals)
        _save_screenshot(page, Path("/tmp/shots"), "tour-intake-after-trip.png")
        page.get_by_role("button", name="Save intake details").click()
        _settle(page, 1.0)
        expect(page.get_by_text("Nothing to save").first).to_be_visible()
        assert _stored(demo_db_url, couple_id) == before

        # Edit a session, go back to the couple, edit the same session again.
        stored_session = _session_row(demo_db_url, session_id)
        page.goto(f"{server}/log_session?session={session_id}", wait_until="domcontentloaded")
        _settle(page)
        data_box = page.get_by_role("textbox", name="Data")
        expect(data_box).to_have_value(stored_session[0])
        page.get_by_role("link", name=f"Back to {code}").click()
        _settle(page, 1.0)
        # On the couple page (same app session): select the newest session, Edit session.
        grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 15, box["y"] + ROW_HEIGHT_PX * 1.5)
        page.get_by_role("button", name="Edit session").click()
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name="Data")).to_have_value(stored_session[0])
        expect(page.get_by_role("textbox", name="Plan")).to_have_value(stored_session[1])
        _save_screenshot(page, Path("/tmp/shots"), "tour-session-after-trip.png")
        page.get_by_role("button", name="Save changes").first.click()
        _settle(page, 1.0)
        expect(page.get_by_text("No changes to save").first).to_be_visible()
        assert _session_row(demo_db_url, session_id) == stored_session


def test_a_session_note_draft_survives_closing_the_browser(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    couple_id, code, *_ = _rivera_couple(demo_db_url)
    note = "Both arrived early; she named the silence at dinner without blame."
    with browser_page(tmp_path, height=1400) as page:
        _open(page, f"{server}/log_session?couple={couple_id}")
        expect(page.get_by_role("heading", name="Log session")).to_be_visible()
        page.get_by_role("textbox", name="Data").fill(note)
        page.get_by_role("textbox", name="Assessment").click()  # the note is committed on blur
        _settle(page, 1.0)
        expect(page.get_by_text(re.compile(r"Draft kept at \d\d:\d\d")).first).to_be_visible()
    # The browser is gone; a new one, a new login.
    with browser_page(tmp_path, height=1400) as page:
        _open(page, f"{server}/log_session?couple={couple_id}")
        expect(page.get_by_role("textbox", name="Data")).to_have_value("")
        resume = page.get_by_role("button", name=re.compile(r"Resume the draft from \d\d:\d\d"))
        expect(resume).to_be_visible()
        _save_screenshot(page, Path("/tmp/shots"), "tour-resume-offer.png")
        resume.click()
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name="Data")).to_have_value(note)


def test_sections_keep_what_was_typed_and_ratings_go_by_keyboard(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    """Only the open section is drawn: a note typed before another tab is clicked, and
    ratings typed and tabbed through, are there when their sections are opened again."""
    from playwright.sync_api import expect

    couple_id, *_ = _rivera_couple(demo_db_url)
    note = "Talked about the quiet evenings; both want one walk a week."
    with browser_page(tmp_path, height=1400) as page:
        _open(page, f"{server}/log_session?couple={couple_id}")
        page.get_by_role("textbox", name="Data").fill(note)
        page.get_by_role("tab", name="Ratings").click()  # no blur first: the click is one
        _settle(page, 1.0)
        first = page.get_by_role("spinbutton", name="We talk honestly").first
        first.click()
        page.keyboard.type("7")
        page.keyboard.press("Tab")  # down partner A's column, not across to partner B
        expect(page.get_by_role("spinbutton", name="I feel seen").first).to_be_focused()
        page.keyboard.type("4")
        page.keyboard.press("Tab")
        _settle(page, 1.0)
        page.get_by_role("tab", name="Stage & barriers").click()
        _settle(page, 1.0)
        page.get_by_role("tab", name="Attendance & note").click()
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name="Data")).to_have_value(note)
        page.get_by_role("tab", name="Ratings").click()
        _settle(page, 1.0)
        expect(page.get_by_role("spinbutton", name="We talk honestly").first).to_have_value("7")
        expect(page.get_by_role("spinbutton", name="I feel seen").first).to_have_value("4")
        expect(page.get_by_role("spinbutton", name="I feel seen").nth(1)).to_have_value("")
        _save_screenshot(page, Path("/tmp/shots"), "tour-ratings-after-sections.png")


def test_couple_tabs_keep_typed_intake_text_until_it_is_saved(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    """The couple page draws only the tab in view: goals typed in Intake details, then a
    click on Status and History (no blur first), are there on coming back, and saved."""
    from playwright.sync_api import expect

    couple_id, code, concerns, goals, _ = _rivera_couple(demo_db_url)
    typed = goals + " Ten minutes a day, phones away."
    with browser_page(tmp_path, height=1400) as page:
        _open(page, f"{server}/couple?couple={couple_id}")
        expect(page.get_by_role("heading", name=re.compile(code)).first).to_be_visible()
        page.get_by_role("tab", name="Intake details").click()
        _settle(page, 1.0)
        page.get_by_role("textbox", name="Goals").fill(typed)
        page.get_by_role("tab", name="Status").click()  # the click carries the text
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name="Goals")).to_have_count(0)
        page.get_by_role("tab", name="History").click()
        _settle(page, 1.0)
        page.get_by_role("tab", name="Intake details").click()
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name="Goals")).to_have_value(typed)
        expect(page.get_by_role("textbox", name="Presenting concerns")).to_have_value(concerns)
        expect(page.get_by_text(re.compile("You have unsaved changes"))).to_be_visible()
        _save_screenshot(page, Path("/tmp/shots"), "tour-couple-tabs.png")
        page.get_by_role("button", name="Save intake details").click()
        _settle(page, 1.0)
        expect(page.get_by_text("Intake details saved.")).to_be_visible()
    assert _stored(demo_db_url, couple_id)[:2] == (concerns, typed)
