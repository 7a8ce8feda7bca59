"""'Prepare the PDF' in Chromium: the page stays usable while the report builds, then
the download is a real PDF with the couple's status in the counselor's words."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

from tests.e2e.test_browser_smoke import (
    _save_screenshot,
    _settle,
    _signed_in,
    browser_page,
)


def _rivera_couple(url: str) -> tuple[int, str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            """
            SELECT c.id, c.case_code FROM couples c JOIN users u ON u.id = c.counselor_id
            JOIN sessions s ON s.couple_id = c.id
            WHERE u.username = 'c.rivera' AND c.status = 'active'
            GROUP BY c.id ORDER BY COUNT(s.id) DESC, c.id LIMIT 1
            """
        ).fetchone()


def test_prepare_the_pdf_keeps_the_page_usable_and_downloads_a_pdf(
    server: str, demo_db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    couple_id, code = _rivera_couple(demo_db_url)
    with browser_page(tmp_path, height=1400) as page:
        page.goto(server, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)
        _signed_in(page, "c.rivera")
        page.goto(f"{server}/timeline?couple={couple_id}", wait_until="domcontentloaded")
        _settle(page)
        expect(page.get_by_role("heading", name=re.compile(code)).first).to_be_visible()
        # plotly draws the chart above the report box after the script has run; wait for
        # it, so the button does not move under the click.
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        _settle(page, 1.0)
        page.get_by_text("Progress report (PDF)").click()
        prepare = page.get_by_role("button", name="Prepare the PDF")
        prepare.scroll_into_view_if_needed()
        _settle(page, 1.0)
        prepare.click()
        expect(page.get_by_text("Building the report").first).to_be_visible()
        # While it builds, the rest of the page answers: another chart tab opens. The
        # items radar, drawn by plotly in the browser, says its warning signs are
        # reversed on their axes and that outward is better on every one.
        page.get_by_role("tab", name="Items: intake and latest").click()
        expect(page.get_by_role("tab", name="Items: intake and latest")).to_have_attribute(
            "aria-selected", "true"
        )
        radar = page.locator(".js-plotly-plot").filter(visible=True).first
        expect(
            radar.locator("text", has_text="Outward is better on every axis").first
        ).to_be_visible()
        expect(radar.locator("text", has_text="(reversed)")).to_have_count(6)  # 3 axes x 2
        assert "Partner A" not in radar.inner_text() and "Partner B" not in radar.inner_text()
        download_button = page.get_by_role("button", name=re.compile(r"Download .*\.pdf"))
        expect(download_button).to_be_visible(timeout=90_000)
        _save_screenshot(page, Path("/tmp/shots"), "timeline-report-ready.png")
        with page.expect_download() as info:
            download_button.click()
        pdf = tmp_path / "report.pdf"
        info.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    words = " ".join(text.split())
    assert code in words
    assert "than at intake" in words or "not rated yet" in words or "rated at one" in words
    assert "How this is calculated" in words
