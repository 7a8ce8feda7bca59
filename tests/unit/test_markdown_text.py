"""Typed text shown on a page reads as typed: markdown cannot form out of it."""

from __future__ import annotations

import re
import string

from dashboard.ui.literal import NBSP, md_text
from tests.naughty_strings import NAUGHTY_STRINGS, as_typed
from tests.naughty_strings import shown as undone


def test_a_comment_cannot_form_markdown_or_streamlit_directives() -> None:
    typed = "Plan\n===\n- call [here](http://x.example) :red[now] :material/home: *soon*"
    shown = md_text(typed)
    # Every punctuation mark is escaped, so no heading, list, link, colour or icon forms.
    assert re.search(r"(?<!\\)[=\-\[\]():*]", shown) is None
    # Removing the escapes gives back exactly what was typed, line breaks included.
    assert undone(shown).replace("  \n", "\n") == typed


def test_names_keep_their_letters() -> None:
    assert md_text("Zoë Ångström") == "Zoë Ångström"
    assert md_text("A_B") == "A\\_B"


def test_an_indented_line_is_not_code_and_spaces_inside_a_line_stay() -> None:
    assert md_text("    kept as text\n\tand this") == (
        f"{NBSP * 4}kept as text  \n{NBSP * 4}and this"
    )
    assert md_text("two  spaces") == "two  spaces"
    assert md_text("") == ""


def test_every_naughty_string_reads_as_typed() -> None:
    """500 strings (tests/naughty_strings.py): no markdown, directive, entity, maths or
    link can form, and undoing the escapes gives back what was typed."""
    for typed in NAUGHTY_STRINGS:
        markdown = md_text(typed)
        assert _every_mark_escaped(markdown), typed
        assert undone(markdown) == as_typed(typed), typed
    assert len(NAUGHTY_STRINGS) == 500


def _every_mark_escaped(markdown: str) -> bool:
    """Each ASCII punctuation mark comes as a backslash escape, nothing else is escaped."""
    i = 0
    while i < len(markdown):
        if markdown[i] == "\\":
            if i + 1 >= len(markdown) or markdown[i + 1] not in string.punctuation:
                return False
            i += 2
        elif markdown[i] in string.punctuation:
            return False
        else:
            i += 1
    return True
