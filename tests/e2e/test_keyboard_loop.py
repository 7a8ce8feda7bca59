"""A counselor's everyday loop by keyboard alone, in a real Chromium.

Sign in, open a couple from My caseload, log a session (the required fields, a stage),
save, and read the timeline's status: every action is a key press (page.keyboard.press
or type); nothing is clicked, filled or focused by the test. The test only looks: at
which element has the focus, and at what the page says.

Moving about is "press Tab (or Shift+Tab) until the focus is on X", with a limit, so a
control that cannot be reached by keyboard fails the test with the stops it passed.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_browser_smoke import _save_screenshot, _settle, browser_page

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "bondline-demo"
MAX_STOPS = 80  # Tab presses allowed to reach any one control
NOTES = {
    "Data": "Both arrived on time; talked through the week's two arguments.",
    "Assessment": "Less blame than last time; repair attempts were noticed.",
    "Plan": "Keep the ten-minute check-in each evening; next session in two weeks.",
}

# What has the focus, as a screen reader would name it: the element's role, its name
# (aria-label, its labels, or its own text) and, for a radio, its group's name.
_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {role: "body", name: ""};
  const role = e.getAttribute("role") || (e.type === "radio" ? "radio" : e.tagName.toLowerCase());
  const labelled = e.getAttribute("aria-labelledby");
  const byId = labelled ? labelled.split(" ").map(i => document.getElementById(i))
      .filter(Boolean).map(n => n.innerText).join(" ") : "";
  const name = e.getAttribute("aria-label") || byId
      || (e.labels && e.labels.length ? e.labels[0].innerText : "")
      || (e.innerText || "").trim();
  const group = e.closest('[role="radiogroup"]');
  return {role, name: name.replace(/\\s+/g, " ").trim(),
          group: group ? (group.getAttribute("aria-label") || "") : ""};
}"""


@dataclass(frozen=True)
class Couple:
    id: int
    code: str
    name_a: str


def _couple(demo_db_url: str) -> tuple[Couple, int]:
    """c.rivera's active couple with the most sessions, and how many it has."""
    with sqlite3.connect(demo_db_url.removeprefix("sqlite:///")) as conn:
        couple_id, code, name_a, count = conn.execute(
            """
            SELECT c.id, c.case_code, c.partner_a_name, COUNT(s.id)
            FROM couples c JOIN users u ON u.id = c.counselor_id
            JOIN sessions s ON s.couple_id = c.id AND s.deleted_at IS NULL
            WHERE u.username = 'c.rivera' AND c.status = 'active' AND c.deleted_at IS NULL
            GROUP BY c.id ORDER BY COUNT(s.id) DESC, c.id LIMIT 1
            """
        ).fetchone()
    return Couple(couple_id, code, name_a), count


def _sessions(demo_db_url: str, couple_id: int) -> list[tuple]:
    with sqlite3.connect(demo_db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT note_data, note_assessment, note_plan, stage FROM sessions "
            "WHERE couple_id = ? AND deleted_at IS NULL ORDER BY id",
            (couple_id,),
        ).fetchall()


def _focused(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.evaluate(_FOCUSED)


def _tab_to(page, wanted, what: str, *, back: bool = False) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Press Tab (Shift+Tab when `back`) until `wanted(focused)`; fail naming the stops."""
    seen = []
    for presses in range(1, MAX_STOPS + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        page.wait_for_timeout(50)
        focused = _focused(page)
        if wanted(focused):
            print(f"{what}: {presses} {'Shift+Tab' if back else 'Tab'}")
            return focused
        seen.append(f"{focused['role']} {focused['name']!r}")
    pytest.fail(f"{what}: not reached in {MAX_STOPS} presses; passed {seen}")


def _named(role: str, name: str | re.Pattern[str]):  # type: ignore[no-untyped-def]
    def match(focused: dict[str, str]) -> bool:
        if focused["role"] != role:
            return False
        if isinstance(name, re.Pattern):
            return bool(name.search(focused["name"]))
        return focused["name"] == name

    return match


def test_a_counselor_does_the_everyday_loop_by_keyboard_only(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    couple, before = _couple(demo_db_url)
    with browser_page(tmp_path) as page:
        # Sign in: Tab to the username, type, Tab, type the password, Enter.
        page.goto(server, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)
        _tab_to(page, _named("input", "Username"), "the username box")
        page.keyboard.type("c.rivera")
        page.keyboard.press("Tab")
        assert _focused(page)["name"] == "Password"
        page.keyboard.type(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        # A rerun after sign-in briefly shows the stale page beside the new one.
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(1)

        # Open the couple from My caseload: its "Open a couple" box, the case code, Enter.
        _tab_to(page, _named("combobox", "Open a couple"), "My caseload's 'Open a couple'")
        page.keyboard.type(couple.code)
        # Enter only once the list shows just that couple (under load it filters late).
        options = page.get_by_role("option")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text(couple.code)
        page.keyboard.press("Enter")
        heading = page.get_by_role("heading", level=1, name=re.compile(re.escape(couple.code)))
        expect(heading).to_be_visible()
        _settle(page)
        # The focus is on the couple's heading, not back at the top of the page.
        expect(heading).to_be_focused()

        # Log a session: the couple's "Log a session" link, Enter.
        _tab_to(page, _named("a", re.compile("Log a session")), "the couple's 'Log a session'")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1, name="Log session")).to_be_visible()
        _settle(page)

        # The DAP note: each part's box, typed; Tab leaves it, which sends what was typed.
        for part, text in NOTES.items():
            _tab_to(page, _named("textarea", f"{part} (required)"), f"the {part} box")
            page.keyboard.type(text)
        page.keyboard.press("Tab")
        _settle(page, 1.0)
        _save_screenshot(page, tmp_path, "keyboard-loop-notes.png")

        # The stage: back to the section tabs, arrow to "Stage & barriers", Enter, then
        # into the stage's radio group and Space on the first stage.
        _tab_to(page, _named("tab", "Attendance & note"), "the section tabs", back=True)
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        _settle(page, 1.0)
        expect(page.get_by_role("tab", name="Stage & barriers")).to_have_attribute(
            "aria-selected", "true"
        )
        _tab_to(
            page,
            lambda f: f["role"] == "radio" and f["group"].startswith("Stage of emotional"),
            "the stage's radio group",
        )
        page.keyboard.press("Space")
        _settle(page, 1.0)
        expect(page.get_by_role("radio", name="1. Curiosity and Comfort")).to_be_checked()

        # Save: to the "Save session" button, Enter; the couple's page says it is saved.
        _tab_to(page, _named("button", re.compile("Save session")), "Save session")
        page.keyboard.press("Enter")
        expect(page.get_by_text(re.compile(r"Session of .* saved\."))).to_be_visible()
        _settle(page)
        after = _sessions(demo_db_url, couple.id)
        assert len(after) == before + 1
        assert after[-1] == (NOTES["Data"], NOTES["Assessment"], NOTES["Plan"], 1)

        # Read the timeline's status: to "Open the timeline", Enter; its status in words,
        # one line a partner by name, then the couple's.
        _tab_to(page, _named("a", re.compile("Open the timeline")), "'Open the timeline'")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1, name=re.compile(couple.code))).to_be_visible()
        _settle(page)
        # (The first on the page: "How this was worked out" repeats it, by name.)
        status = (
            page.get_by_test_id("stMain")
            .get_by_test_id("stMarkdown")
            .filter(has_text=re.compile(rf"^{re.escape(couple.name_a)}: "))
            .first
        )
        expect(status).to_be_visible()
        expect(status).to_contain_text("As a couple: ")
        _save_screenshot(page, tmp_path, "keyboard-loop-timeline.png")
