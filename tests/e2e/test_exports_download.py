"""The workbook of all three tables in Chromium: it builds in the background while the
admin opens another page, and on coming back the download is offered; the file opens as
a workbook with the three sheets a user expects."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from tests.e2e.test_browser_smoke import (
    _open_and_log_in,
    _save_screenshot,
    _settle,
    browser_page,
)

SHOTS = Path("/tmp/shots")


def test_the_workbook_builds_while_the_admin_works_elsewhere(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, height=1100) as page:
        _open_and_log_in(page, server, "admin")
        _settle(page)
        page.get_by_role("link", name="Exports").click()
        expect(page.get_by_role("heading", name="Exports")).to_be_visible()
        _settle(page, 1.0)
        page.get_by_role("button", name="All three in one Excel workbook").click()
        # At once: how far it got (or, on a quick machine, already the file).
        download = page.get_by_role("button", name=re.compile(r"Download bondline-tables-.*\.xlsx"))
        expect(page.get_by_text("Preparing…").or_(download).first).to_be_visible()
        _save_screenshot(page, SHOTS, "exports-workbook-started.png")

        page.get_by_role("link", name="Couples").click()  # works elsewhere meanwhile
        expect(page.get_by_role("heading", name="Couples").first).to_be_visible()
        _settle(page, 1.0)
        page.get_by_role("link", name="Exports").click()  # and comes back

        expect(download).to_be_visible(timeout=90_000)
        expect(
            page.get_by_text(re.compile(r"bondline-tables-.*\.xlsx: [\d,]+ rows\."))
        ).to_be_visible()
        _save_screenshot(page, SHOTS, "exports-workbook-ready.png")
        with page.expect_download() as info:
            download.click()
        saved = tmp_path / "tables.xlsx"
        info.value.save_as(saved)

    book = load_workbook(saved, read_only=True)
    assert book.sheetnames == ["caseload", "sessions", "ratings"]
    sessions = book["sessions"]
    header = [c.value for c in next(sessions.iter_rows(max_row=1))]
    assert header[:4] == ["case_code", "counselor", "session_id", "session_date"]
    first = [c for c in next(sessions.iter_rows(min_row=2, max_row=2))]
    assert re.fullmatch(r"C-\d{4}-\d{4}", first[0].value)
    assert first[3].is_date and first[3].number_format == "yyyy-mm-dd"
    assert sum(1 for _ in book["ratings"].iter_rows(min_row=2)) > 1_000
