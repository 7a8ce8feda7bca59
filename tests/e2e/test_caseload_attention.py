"""My caseload in Chromium: the attention column lists exactly the couples the
supervisor's attention list shows for this counselor, and one click on a case code opens
its couple in the same tab."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from tests.e2e.test_browser_smoke import (
    CASE_CODE,
    DEMO_PASSWORD,
    ROW_HEIGHT_PX,
    UI_TIMEOUT_MS,
    _log_in,
    _save_screenshot,
    _settle,
    browser_page,
)

FLAG = r"(Not on track|Partners diverging|Split alliance)"
FLAGS = re.compile(rf"(Safety|{FLAG})( · {FLAG})*")


def _flagged_rows(grid) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """{case code: flag words} of every grid row that shows flag words."""
    found = {}
    for row in grid.locator("[role=row]").all()[1:]:
        cells = [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
        code = next((c for c in cells if CASE_CODE.fullmatch(c)), None)
        flags = next((c for c in cells if FLAGS.fullmatch(c)), None)
        if code and flags:
            found[code] = flags
    return found


def _supervisors_list_for_rivera(page, server: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What sup.okafor's Caseload review lists for Dana Rivera, read off the screen."""
    from playwright.sync_api import expect

    page.goto(server, wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    _settle(page)
    _log_in(page, "sup.okafor", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Caseload review").first).to_be_visible()
    _settle(page)
    page.get_by_test_id("stMultiSelect").filter(has_text="Counselors").click()
    page.get_by_role("option", name="Dana Rivera").click()
    page.keyboard.press("Escape")
    _settle(page, 1.0)
    # My caseload flags a couple whether or not a supervisor has reviewed it.
    page.get_by_text("Show couples already reviewed").click()
    _settle(page, 1.0)
    grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
    expect(grid.locator("[role=gridcell]").filter(has_text=FLAGS).first).to_be_attached()
    counselors = {
        c.strip() for c in grid.locator("[role=gridcell]").all_inner_texts() if "Rivera" in c
    }
    assert counselors == {"Dana Rivera"}
    _save_screenshot(page, Path("/tmp/shots"), "caseload-supervisor-list.png")
    return _flagged_rows(grid)


def test_attention_column_matches_the_supervisors_list_and_a_click_opens_the_couple(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, height=1400) as page:
        supervisor = page.context.browser.new_page(viewport={"width": 1400, "height": 1400})
        supervisor.set_default_timeout(UI_TIMEOUT_MS)
        expected = _supervisors_list_for_rivera(supervisor, server)
        supervisor.context.close()
        assert len(expected) >= 3, expected  # the demo gives c.rivera couples in trouble

        page.goto(server, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)
        _log_in(page, "c.rivera", DEMO_PASSWORD)
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        page.get_by_text("Needs attention only").click()
        _settle(page, 1.0)
        grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
        expect(grid.locator("[role=gridcell]").filter(has_text=CASE_CODE).first).to_be_attached()
        # The same couples with the same words, and no other couple left in the list.
        assert _flagged_rows(grid) == expected
        shown = {
            c.strip()
            for c in grid.locator("[role=gridcell]").all_inner_texts()
            if CASE_CODE.fullmatch(c.strip())
        }
        assert shown == set(expected)
        _save_screenshot(page, Path("/tmp/shots"), "caseload-attention.png")
        # Sorted by partners, one click on the second row's case code opens that row's
        # couple in the same tab, still signed in.
        page.get_by_text("Needs attention only").click()  # every couple again
        _settle(page, 1.0)
        rows = _sort_by_partners(page)
        assert not {"None", "nan", "NaT", "<NA>"} & {c for r in rows for c in r}
        code = next(c for c in rows[1] if CASE_CODE.fullmatch(c))
        grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + CASE_X_PX, box["y"] + ROW_HEIGHT_PX * 2.5)
        expect(page.get_by_role("heading", name=re.compile(re.escape(code))).first).to_be_visible()
        expect(page.get_by_role("tab", name="Intake details")).to_be_visible()
        assert len(page.context.pages) == 1 and "couple=" in page.url
        expect(page.get_by_test_id("stSidebar").get_by_text("Dana Rivera")).to_be_visible()
        _save_screenshot(page, Path("/tmp/shots"), "caseload-opened-by-code.png")

        # Back on the caseload, the box at the start of a row opens its couple too.
        page.get_by_role("link", name="My caseload").click()
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page, 1.0)
        rows = _sort_by_partners(page)
        code = next(c for c in rows[2] if CASE_CODE.fullmatch(c))
        box = page.get_by_test_id("stDataFrame").filter(visible=True).first.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 15, box["y"] + ROW_HEIGHT_PX * 3.5)  # the row's box
        expect(page.get_by_role("heading", name=re.compile(re.escape(code))).first).to_be_visible()


# Where a click lands in the caseload grid at this window width: after the row boxes,
# the narrow Safety column (33-113 px), Partners (113-237 px), then the case codes.
CASE_X_PX = 280
PARTNERS_X_PX = 150


def _sort_by_partners(page) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Click the Partners header; the grid's rows (cell texts), checked to be sorted."""
    grid = page.get_by_test_id("stDataFrame").filter(visible=True).first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + PARTNERS_X_PX, box["y"] + ROW_HEIGHT_PX / 2)
    _settle(page, 1.0)
    rows = [
        [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
        for row in grid.locator("[role=row]").all()[1:]
    ]
    partners = [next(c for c in r if "&" in c) for r in rows]
    # The click sorted by partners, as the browser collates: "Ørjan" beside "Olivia",
    # not after "Valentina" as code points would put it.
    assert partners == sorted(partners, key=_collation_key), partners
    return rows


# Letters the browser's collation sorts as their base letter but NFKD does not split.
_BASE_LETTERS = str.maketrans({"Ø": "O", "ø": "o", "Ł": "L", "ł": "l"})


def _collation_key(text: str) -> str:
    """Accents and strokes ignored, case folded: close to a browser's localeCompare for
    the demo's names."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_BASE_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
