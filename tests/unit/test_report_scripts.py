"""A clinic's couples write their names and notes in every script: the progress report
prints each (Debian's Noto fonts as fallbacks, HarfBuzz shaping), read back with
pdftotext. Without the fallback fonts the same lines print blank, and the log says why."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from dashboard.reports import pdf as report_pdf
from dashboard.reports.model import SessionNote
from dashboard.reports.pdf import build_progress_report
from tests.unit.test_report_pdf import _report, _write, pdf_text

LINES = {
    "Latin": "Zoë Müller-Łukasiewicz, café",
    "Greek": "Ελένη Παπαδοπούλου",
    "Cyrillic": "Анна Иванова",
    "Korean": "김민준 이서연",
    "Chinese": "王小明 李华",
    "Japanese": "さくら たなか 田中",
    "Arabic": "محمد علي",
    "Persian": "سارا محمدی",
    "Hebrew": "דוד כהן",
    "Devanagari": "प्रिया शर्मा",
    "Thai": "สมชาย ใจดี",
    "Armenian": "Անի Պետրոսյան",
    "Georgian": "ნინო ბერიძე",
    "Emoji": "😀 ❤️ 👍",
    "Math letters": "𝐀𝔅𝕮",
    "Stacked marks": "Z̴̡̢a̸l̷g̶o̵",
}


def _comparable(text: str) -> str:
    """What pdftotext can be held to: compatibility forms folded (NFKC: Arabic
    presentation forms, mathematical letters), and neither the direction marks it adds
    around right-to-left runs, nor variation selectors, nor spaces it puts between
    clusters counted."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        c
        for c in folded
        if not c.isspace() and unicodedata.category(c) != "Cf" and not 0xFE00 <= ord(c) <= 0xFE0F
    )


def _every_script_report() -> bytes:
    notes = tuple(
        SessionNote(date(2026, 3, i), "Both partners", f"{script}: {line}", "", "")
        for i, (script, line) in enumerate(LINES.items(), start=1)
    )
    report = dataclasses.replace(
        _report(notes=True),
        partner_a=LINES["Korean"],
        partner_b=LINES["Arabic"],
        notes=notes,
    )
    return build_progress_report(report, {}, "No charts in this test.")


def test_every_script_prints(tmp_path: Path) -> None:
    text = _comparable(pdf_text(_write(tmp_path, _every_script_report())))
    missing = [script for script, line in LINES.items() if _comparable(line) not in text]
    assert not missing, missing
    # The partners' names too (the right-to-left one may be reordered around its "(B)").
    assert _comparable(f"{LINES['Korean']} (A)") in text


def test_without_the_fallback_fonts_the_report_still_builds_and_the_log_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report_pdf._warned_missing.clear()
    absent = (("NotoSans", tmp_path / "no-such-font.ttf", 0),)
    report = dataclasses.replace(_report(), partner_a=LINES["Korean"])
    with caplog.at_level(logging.WARNING, logger="dashboard.reports.pdf"):
        data = build_progress_report(report, {}, "No charts.", fallback_fonts=absent)
    assert "install fonts-noto-core" in caplog.text
    assert str(tmp_path / "no-such-font.ttf") in caplog.text
    text = _comparable(pdf_text(_write(tmp_path, data)))
    assert "Coupleprogressreport" in text
    assert _comparable(LINES["Korean"]) not in text  # what the fallback fonts are for


def test_a_report_in_latin_letters_embeds_no_fallback_font(tmp_path: Path) -> None:
    """Only what a report needs is added: a Latin report stays as small as before."""
    path = _write(tmp_path, build_progress_report(_report(notes=True), {}, "No charts."))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "Noto" not in fonts.stdout and "DejaVuSans" in fonts.stdout
