"""My caseload by keyboard alone, in Chromium: sign in, reach "Open a couple" with Tab,
type part of a case code, Enter: the couple opens with the focus on its heading, and the
next Tab goes on into the couple page, not back to the sidebar. Only key presses act on
the page; the test reads the focused element to know where it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.ui.caseload_table import SAFETY_MARK
from tests.e2e.test_browser_smoke import (
    CASE_CODE,
    DEMO_PASSWORD,
    _save_screenshot,
    _settle,
    browser_page,
)

# Tabs from the page's top to "Open a couple" at 1400 px: the heading's anchor, Search,
# the status box (3 stops), the attention toggle, two help icons, the order control,
# then the box. More than this means the box slid behind the grid again (a grid takes
# one Tab per column).
MAX_TABS_TO_OPEN = 12
SHOTS = Path("/tmp/shots")


def _focused(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What has the keyboard focus: tag, accessible label, text, and where it sits."""
    return page.evaluate(
        """() => {
          const e = document.activeElement;
          return {
            tag: e.tagName,
            label: e.getAttribute('aria-label') || '',
            text: (e.innerText || e.value || '').trim().slice(0, 80),
            inSidebar: String(!!e.closest('[data-testid="stSidebar"]')),
            inMain: String(!!e.closest('[data-testid="stMain"]')),
          };
        }"""
    )


def _tab_until(page, label: str, limit: int) -> int:  # type: ignore[no-untyped-def]
    """Press Tab until the element labelled `label` has the focus; how many presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _focused(page)["label"] == label:
            return presses
    raise AssertionError(f"{label!r} not reached in {limit} Tabs; at {_focused(page)}")


def test_a_counselor_opens_a_couple_from_my_caseload_with_keys_only(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        page.goto(server, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)
        _tab_until(page, "Username", 10)
        page.keyboard.type("c.rivera")
        page.keyboard.press("Tab")
        page.keyboard.type(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)

        # The box lists the couples in the table's order: by need, a safety flag first.
        grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
        rows = [
            [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
            for row in grid.locator("[role=row]").all()[1:]
        ]
        codes = [next(c for c in r if CASE_CODE.fullmatch(c)) for r in rows]
        safety = [SAFETY_MARK in r for r in rows]
        assert safety == sorted(safety, reverse=True), rows  # flagged rows on top
        presses = _tab_until(page, "Open a couple", 40)
        assert presses <= MAX_TABS_TO_OPEN, presses
        page.keyboard.press("ArrowDown")  # opens the list
        options = page.get_by_role("option")
        expect(options.first).to_be_visible()
        listed = [CASE_CODE.match(t.strip()).group(0) for t in options.all_inner_texts()]
        assert listed == codes
        page.keyboard.press("Escape")

        # Type part of a case code, Enter: that couple opens. The couple is the first one
        # with a safety flag (the demo's deteriorating couple, C-2026-0021 on 6 Dec 2026).
        code = codes[safety.index(True)]
        page.keyboard.type(code.removeprefix("C-"))
        expect(page.get_by_role("option").first).to_contain_text(code)
        page.keyboard.press("Enter")
        heading = page.get_by_role("heading", name=re.compile(rf"^{code} · ")).first
        expect(heading).to_be_visible()
        assert "couple=" in page.url
        _settle(page, 1.0)
        _save_screenshot(page, SHOTS, "caseload-keyboard-opened.png")

        # The focus is on the couple's heading, not lost to the page's body...
        focused = _focused(page)
        assert focused["tag"] == "H1" and focused["text"].startswith(code), focused
        # ...so the next Tabs go on into the couple page (its timeline link), not back to
        # the sidebar's first link.
        page.keyboard.press("Tab")
        after = _focused(page)
        assert after["inMain"] == "true" and after["inSidebar"] == "false", after
        for _ in range(6):
            if _focused(page)["text"].endswith("Open the timeline"):
                break
            page.keyboard.press("Tab")
        assert _focused(page)["text"].endswith("Open the timeline"), _focused(page)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=re.compile(rf"^{code} · ")).first).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Safety flag at \d+ sessions?")).first).to_be_visible()
        assert "timeline" in page.url
