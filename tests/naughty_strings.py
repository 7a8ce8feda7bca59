"""Strings a person could type into a name, a note or a comment that a renderer might
read as something other than text: markdown, Streamlit directives and shortcodes, HTML
and entities, autolinks, maths, typography, scripts and symbols. Used to check that
typed text is shown exactly as typed (tests/unit, tests/e2e)."""

from __future__ import annotations

import re

# fmt: off
PAYLOADS = [
    # Markdown blocks and inlines.
    "# heading", "## smaller", "###### six", "Title\n===", "Title\n---", "> quoted",
    ">> nested", "1. first", "2) second", "- item", "* item", "+ item", "- [ ] task",
    "- [x] done", "---", "***", "___", "`code`", "``double``", "```\nfenced\n```",
    "~~~\nfenced\n~~~", "    indented four", "\tindented tab", "**bold**", "__bold__",
    "*em*", "_em_", "~~strike~~", "~single~", "[link](https://evil.example)",
    "[ref][1]\n\n[1]: https://evil.example", "![image](https://evil.example/x.png)",
    "<https://evil.example>", "[^note]", "| a | b |\n|---|---|\n| 1 | 2 |", "a\\*b",
    "\\\\", "\\", "trailing backslash\\", "line one  \nline two", "a  b   c",
    # Streamlit's own syntax.
    ":red[red text]", ":blue-background[on blue]", ":orange-badge[Badge]",
    ":material/home:", ":material/warning: watch", ":smile:", ":+1:", ":rainbow[colours]",
    ":small[tiny]", ":violet[**mixed**]", ":green-badge[:material/check: ok]",
    # HTML and entities.
    "<b>bold</b>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "<a href='https://evil.example'>click</a>", "&lt;b&gt;", "&amp;", "&#x27;", "&#39;",
    "&nbsp;", "&copy; 2026", "<!-- hidden -->", "<details><summary>x</summary>y</details>",
    # Bare links and addresses.
    "https://evil.example/path?q=1&r=2", "http://evil.example", "www.evil.example",
    "ftp://evil.example", "mail@evil.example", "mailto:mail@evil.example",
    "xmpp:someone@evil.example", "see evil.example/path",
    # Maths and money.
    "$x^2$", "$$\\int_0^1 x\\,dx$$", "costs $5 and $10", "\\(a+b\\)", "\\[a+b\\]",
    # Typography a renderer may "improve".
    "--", "---x", "a -- b", "...", '"double quotes"', "'single quotes'", "(c) (r) (tm)",
    "->", "<-", "=>", "1/2", "+-",
    # Scripts, symbols and combining marks.
    "Łukasz Żółć", "Ñandú", "Zoë Ångström", "가나다 김민준", "中文名字", "日本語のテキスト",
    "עברית שלום", "العربية مرحبا", "فارسی سلام", "हिन्दी नमस्ते", "ไทย สวัสดี",
    "😀 emoji", "👨‍👩‍👧 family", "🏳️‍🌈 flag", "Z̴̡̛a̵̢l̸g̷o̶ text", "𝐁𝐨𝐥𝐝 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
    "ﬁ ligature", "Ｆｕｌｌｗｉｄｔｈ", "e\u0301 combining", "\u200bzero\u200bwidth",
    # Values a program might mistake for something else.
    "0", "-1", "1e309", "NaN", "null", "None", "undefined", "true", "' OR 1=1 --",
    "${7*7}", "{{7*7}}", "%s%s%n", "../../etc/passwd", "C:\\Windows\\System32",
    "__proto__", "<%= 7*7 %>",
]
# fmt: on
WRAPS = ["{}", "Dana {} Rivera", "{} and then more", "before\n{}\nafter"]

NAUGHTY_STRINGS = [wrap.format(payload) for payload in PAYLOADS for wrap in WRAPS]


def shown(markdown: str) -> str:
    """What a reader sees of markdown made by dashboard.ui.widgets.md_text: CommonMark's
    backslash escapes, the no-break spaces of an indent and the invisible word joiners
    that keep an address from becoming a link undone."""
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
    return unescaped.replace("\u00a0", " ").replace("\u2060", "")


def as_typed(text: str) -> str:
    """`text` as md_text lays it out: lines joined by a hard break, a leading tab as four
    spaces."""
    lines = text.splitlines() or [""]
    return "  \n".join(
        line.lstrip(" \t").rjust(len(line.lstrip(" \t")) + _indent(line)) for line in lines
    )


def _indent(line: str) -> int:
    head = line[: len(line) - len(line.lstrip(" \t"))]
    return head.count(" ") + 4 * head.count("\t")
