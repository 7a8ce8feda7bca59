"""Typed text shown on a page reads as typed: markdown cannot form out of it."""

from __future__ import annotations

import re

from dashboard.ui.widgets import md_escape, md_text


def test_a_comment_cannot_form_markdown_or_streamlit_directives() -> None:
    typed = "Plan\n===\n- call [here](http://x.example) :red[now] :material/home: *soon*"
    shown = md_text(typed)
    # Every punctuation mark is escaped, so no heading, list, link, colour or icon forms.
    assert re.search(r"(?<!\\)[=\-\[\]():*]", shown) is None
    # Removing the escapes gives back exactly what was typed, line breaks included.
    assert shown.replace("\\", "").replace("  \n", "\n") == typed


def test_names_keep_their_letters() -> None:
    assert md_text("Zoë Ångström") == "Zoë Ångström"
    assert md_escape("A_B") == "A\\_B"
