"""Typed text in Chromium: each of 500 naughty strings (tests/naughty_strings.py), put
on a page through md_text as every page puts a name, note or comment, reads exactly as
typed, and no link, image, icon, emoji, heading, list, quote, table, code, emphasis or
formula is drawn out of any of them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import serve
from tests.e2e.test_browser_smoke import _save_screenshot, _settle, browser_page
from tests.naughty_strings import NAUGHTY_STRINGS

PAGE = """
import streamlit as st

from dashboard.ui.widgets import md_text
from tests.naughty_strings import NAUGHTY_STRINGS

for i, typed in enumerate(NAUGHTY_STRINGS):
    with st.container(key=f"typed_{i}"):
        st.markdown(md_text(typed))
"""

# Everything markdown or Streamlit could draw out of text, and nothing a plain
# paragraph holds (p, br).
DRAWN = (
    "a, img, svg, code, pre, h1, h2, h3, h4, h5, h6, li, blockquote, table, strong, em, "
    "del, s, hr, input, .katex, [data-testid='stIconMaterial'], [class*='emoji']"
)
READ = """(drawn) => Array.from(document.querySelectorAll("[class*='st-key-typed_']"))
  .map((box) => ({
    key: Array.from(box.classList).find((c) => c.startsWith("st-key-typed_")),
    text: box.querySelector("[data-testid='stMarkdownContainer']").innerText,
    drawn: Array.from(box.querySelectorAll(drawn)).map((e) => e.outerHTML.slice(0, 80)),
  }))"""


def _words(text: str) -> str:
    """What a reader sees, spacing aside (HTML collapses runs of white space) and the
    invisible word joiners md_text puts into addresses."""
    return re.sub(r"[\s\u00a0]+", " ", text.replace("\u2060", "")).strip()


def test_five_hundred_naughty_strings_read_as_typed(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "data" / "e2e_typed_text_page.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(PAGE)
    try:
        with serve(str(script), tmp_path / "typed.log") as base, browser_page(tmp_path) as page:
            page.goto(base, wait_until="domcontentloaded")
            page.locator(f".st-key-typed_{len(NAUGHTY_STRINGS) - 1}").wait_for()
            _settle(page)
            rendered = page.evaluate(READ, DRAWN)
            _save_screenshot(page, Path("/tmp/shots"), "typed-text.png")
    finally:
        script.unlink(missing_ok=True)
    assert len(rendered) == len(NAUGHTY_STRINGS) == 500
    by_key = {box["key"]: box for box in rendered}
    wrong = []
    for i, typed in enumerate(NAUGHTY_STRINGS):
        box = by_key[f"st-key-typed_{i}"]
        if box["drawn"] or _words(box["text"]) != _words(typed):
            wrong.append((typed, box["text"], box["drawn"]))
    assert wrong == [], "\n".join(repr(w) for w in wrong)
