"""Typed text shown literally: the one helper pages use to put what a person typed (a
name, a note, a comment, a label from secrets.toml) inside markdown.

A module of its own, below everything else in dashboard/ui, so the login form, the
single sign-on buttons and the shared widgets can all use it without importing each
other in a circle.
"""

from __future__ import annotations

import re
import string

_PUNCTUATION = frozenset(string.punctuation)

NBSP = "\u00a0"
WORD_JOINER = "\u2060"
# Where the browser's markdown would make a link of a bare address, or an arrow or a
# dash of "->", "<-" or "--", whatever the escapes: an invisible word joiner goes there.
_NO_AUTOLINK = re.compile(r"(?=://)|(?=@)|(?<=www)(?=\.)|(?<=-)(?=[->])|(?<=<)(?=-)", re.I)


def md_text(text: str) -> str:
    """Text that may hold what a person typed (a name, a note, a comment), for
    st.markdown, st.title and the like, so it reads exactly as typed: the one way pages
    show typed text inside markdown.

    Every ASCII punctuation mark is backslash-escaped (CommonMark shows each as itself),
    so no heading, list, quote, link, autolink, emphasis, entity, table, maths, emoji
    shortcode, :icon: or :colour[...] directive can form; line breaks stay line breaks,
    and a line's leading spaces and tabs become no-break spaces, so an indented line is
    not read as code. Escapes do not stop the browser's markdown from turning a bare
    address into a link, or "--" and "->" into a dash and an arrow (it looks at the text
    after escapes are undone), so an invisible word joiner goes before each "://", "@",
    the "." of "www." and between those pairs: what a reader sees is what was typed, and
    no colleague can plant a link.
    """
    text = _NO_AUTOLINK.sub(WORD_JOINER, text)
    lines = []
    for line in text.splitlines() or [""]:
        escaped = "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in line)
        body = escaped.lstrip(" \t")
        indent = escaped[: len(escaped) - len(body)]
        lines.append(indent.replace("\t", NBSP * 4).replace(" ", NBSP) + body)
    return "  \n".join(lines)
