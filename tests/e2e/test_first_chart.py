"""The sign-in page loads the chart and grid code the first pages need, unseen.

A tab fetches and runs plotly.js (PlotlyChart.*.js, 4.6 MB) and the data grid's code
only when it first draws a chart or a table; the first timeline of a tab took about a
second longer than the next for it. The sign-in page draws one of each, hidden, while
the counselor types (dashboard/ui/warm.py): it must show nothing, announce nothing and
take no Tab stop, and the first timeline after signing in must fetch no chart code.
How long it takes is measured in bench/bench_server.py, not here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.test_browser_smoke import DEMO_PASSWORD, _log_in, _settle, browser_page

PRIMER = ".st-key-browser_primer"


def _rivera_case_code(url: str) -> str:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            """
            SELECT c.case_code FROM couples c JOIN users u ON u.id = c.counselor_id
            JOIN sessions s ON s.couple_id = c.id
            WHERE u.username = 'c.rivera' AND c.status = 'active'
            GROUP BY c.id ORDER BY COUNT(s.id) DESC, c.id LIMIT 1
            """
        ).fetchone()[0]


def test_the_sign_in_page_loads_the_chart_code_unseen_and_the_first_timeline_needs_none(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        scripts: list[str] = []
        page.on("request", lambda r: scripts.append(r.url.rsplit("/", 1)[-1]))
        page.goto(server, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        # Drawn for the browser: plotly's SVG and the grid's canvas exist...
        page.locator(f"{PRIMER} .js-plotly-plot .main-svg").first.wait_for(state="attached")
        page.locator(f"{PRIMER} [data-testid='stDataFrame'] canvas").first.wait_for(
            state="attached"
        )
        _settle(page)
        assert any(name.startswith("PlotlyChart.") for name in scripts)
        assert any(name.startswith("DataFrame.") for name in scripts)
        # ...but seen by nobody: no visible chart or table, no room taken, nothing in the
        # accessibility tree, no Tab stop, and axe finds nothing serious.
        expect(page.locator(".js-plotly-plot").filter(visible=True)).to_have_count(0)
        expect(page.get_by_test_id("stDataFrame").filter(visible=True)).to_have_count(0)
        assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
        main = page.get_by_role("main").aria_snapshot()
        assert "Username" in main and "grid" not in main and "img" not in main
        stops = []
        for _ in range(12):
            page.keyboard.press("Tab")
            stops.append(page.evaluate(f"!!document.activeElement.closest('{PRIMER}')"))
        assert not any(stops)
        violations = Axe().run(page).response["violations"]
        serious = [v["id"] for v in violations if v["impact"] in {"critical", "serious"}]
        assert serious == []

        # Signed in, the first timeline draws its chart with the code already loaded.
        page.keyboard.press("Escape")
        _log_in(page, "c.rivera", DEMO_PASSWORD)
        # A rerun after sign-in briefly shows the stale page beside the new one.
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(1)
        assert page.locator(PRIMER).count() == 0  # gone with the sign-in page
        scripts.clear()
        # Within the same tab, as a counselor moves: the menu's Timeline, then a couple.
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Timeline").click()
        picker = page.get_by_role("combobox", name="Which couple?")
        picker.click()
        picker.fill(_rivera_case_code(demo_db_url))
        page.keyboard.press("Enter")
        expect(page.locator(".js-plotly-plot .main-svg").filter(visible=True).first).to_be_visible()
        _settle(page)
        assert not [name for name in scripts if name.startswith("PlotlyChart.")]
