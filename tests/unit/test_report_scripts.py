"""A clinic's couples write their names and notes in every script: the progress report
prints each (Debian's Noto fonts as fallbacks, HarfBuzz shaping), read back with
pdftotext. Without the fallback fonts the same lines print blank, and the log says why."""

from __future__ import annotations

import dataclasses
import logging
import re
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from dashboard.domain.plain_words import status_sentences
from dashboard.domain.scoring import couple_trajectory
from dashboard.reports import pdf as report_pdf
from dashboard.reports.model import SessionNote
from dashboard.reports.pdf import build_progress_report
from tests.unit.test_plain_words import MIDDLE
from tests.unit.test_report_pdf import _report, _write, pdf_text
from tests.unit.test_trajectory import PARAMS, Row, sessions

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


def test_a_status_line_starting_with_an_arabic_or_hebrew_name_stays_left_to_right(
    tmp_path: Path,
) -> None:
    """The report reads left to right; a name typed in Arabic or Hebrew is a right-to-left
    run inside its sentence. A bullet starting with such a name was laid out right to
    left: the sentence began at the left margin without its subject, the bullet and the
    name sat at the right margin, and the full stop jumped to the front of the last line.
    """
    hebrew, arabic = "אורי", "سارة"
    # Hebrew 70 -> 40 worse, Arabic 30 -> 60 much better (tests/unit/test_plain_words.py).
    rows: list[Row] = [(2, 70.0, 30.0), *MIDDLE, (2, 40.0, 60.0)]
    lines = status_sentences(hebrew, arabic, couple_trajectory(sessions(*rows), PARAMS))
    assert lines[0].startswith(f"{hebrew}: worse") and lines[1].startswith(f"{arabic}: much")
    report = dataclasses.replace(
        _report(), partner_a=hebrew, partner_b=arabic, flags=(), status_lines=lines
    )
    path = _write(tmp_path, build_progress_report(report, {}, "No charts in this test."))
    # Read back: each sentence with its subject first and its full stop at its end.
    # pdftotext marks right-to-left runs with U+202B … U+202C (not counted), and reads
    # the space after a name in mid-sentence into the run ("אוריis"): spaces are
    # compared only where a line starts with a name.
    plain = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    read = "".join(c for c in plain.stdout if unicodedata.category(c) != "Cf")
    assert f"• {hebrew}: worse than at intake" in read
    assert f"• {arabic}: much better than at intake" in read

    def squeezed(text: str) -> str:
        return "".join(c for c in text if not c.isspace())

    for line in lines:
        assert squeezed(f"• {line}") in squeezed(read), line
    assert "\u2068" not in plain.stdout and "\u2069" not in plain.stdout
    # Laid out: every bullet at the left margin (15 mm = 42.5 pt, and the cell's inner
    # margin: 45.4 pt), none at the right (the page is 595 pt wide).
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True)
    bullets = re.findall(r'<word xMin="([\d.]+)"[^>]*>•</word>', boxes.stdout)
    assert len(bullets) >= len(lines)
    assert all(float(x) < 50.0 for x in bullets), bullets
