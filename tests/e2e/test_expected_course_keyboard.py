"""The Admin page's Expected course tab by keyboard alone, in Chromium: reach the tab, turn
the preview on with Space, Enter on Publish, and answer the confirmation with Tab and
Enter. The demo clinic has fewer than 100 couples with a course, so the publish is
refused and the refusal is said on the page: every step a mouse would take, by keys.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_browser_smoke import _open_and_log_in, _settle, browser_page
from tests.e2e.test_caseload_keyboard import _focused


def _tab_to(page, text: str, limit: int = 40) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element's label or text starts with `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if focused["label"].startswith(text) or focused["text"].startswith(text):
            return
    raise AssertionError(f"{text!r} not reached in {limit} Tabs; at {_focused(page)}")


def test_an_admin_previews_and_publishes_the_expected_course_with_keys_only(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, height=1100) as page:
        _open_and_log_in(page, server, "admin")
        _settle(page)
        page.goto(f"{server}/admin", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Admin").first).to_be_visible()
        _settle(page)
        _tab_to(page, "Users")  # the tab list: arrows move along it
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        expect(page.get_by_role("tab", name="Expected course")).to_have_attribute(
            "aria-selected", "true"
        )
        expect(page.get_by_text(re.compile(r"^In use: rational fallback: ")).first).to_be_visible()

        _tab_to(page, "Fit the expected course from every couple now")
        page.keyboard.press("Space")
        expect(page.get_by_text("If published now")).to_be_visible()
        _settle(page)
        _tab_to(page, "Publish as expected course v1")
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Publish this expected course?")
        _tab_to(page, "Publish v1", limit=5)
        page.keyboard.press("Enter")
        expect(dialog).to_have_count(0)
        expect(
            page.get_by_text(re.compile(r"^The clinic's own expected course needs 100 couples"))
        ).to_be_visible()
