"""What may be stored of what a person typed: characters checked, text normalised.

A name or note is shown on screens, printed in PDFs, written to Excel and sent to
PostgreSQL. Some characters break one of those or deceive a reader, so a save that
holds one is refused with a field error naming it:

- control characters (C0, DEL and C1), except line breaks and tabs in notes: NUL is
  refused by PostgreSQL, others are invisible or garble a terminal or a spreadsheet;
- bidirectional embeddings and overrides (U+202A..U+202E): they reorder what a reader
  sees ("gpj.exe" shown as "exe.jpg"); the isolates and LRM/RLM that right-to-left
  writers use are allowed;
- noncharacters (U+FFFE, U+FFFF and the rest): U+FFFE made the Excel export unreadable;
- lone surrogates (half of an emoji from a broken paste): not text at all, so nothing
  can encode them.

A required text that holds only spaces and invisible characters (zero-width spaces, a
word joiner, a byte-order mark, a soft hyphen, fillers) is blank. Text that is kept is
normalised to NFC, so "é" typed two ways is one name to search for.
"""

from __future__ import annotations

import unicodedata

# Characters that draw nothing: a text of only these (and spaces) says nothing.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d"
    "\u206e\u206f\u2800\u3164\ufeff\uffa0"
)
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e")


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _refused(char: str, *, multiline: bool) -> str | None:
    """Why this character cannot be stored, or None."""
    code = ord(char)
    if char in "\n\t" and multiline:
        return None
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "an invisible control character"
    if 0xD800 <= code <= 0xDFFF:
        return "a broken character (half of an emoji or symbol)"
    if char in BIDI_OVERRIDES:
        return "a character that reverses the order of the text on screen"
    if _is_noncharacter(code):
        return "a character that is not allowed in text"
    return None


def text_problem(value: str, what: str, *, multiline: bool = False) -> str | None:
    """A field error for the first character of `value` that cannot be stored."""
    for position, char in enumerate(value, start=1):
        reason = _refused(char, multiline=multiline)
        if reason is not None:
            return (
                f"{what} contains {reason} (U+{ord(char):04X}, character {position}). "
                "Delete it, or type the text again instead of pasting it."
            )
    return None


def is_blank(value: str) -> bool:
    """Nothing a reader would see: only spaces and invisible characters."""
    return not "".join(c for c in value if c not in INVISIBLE).strip()


def normalised(value: str) -> str:
    """The form the text is stored in (NFC); unchanged when it holds a lone surrogate,
    which validation refuses first."""
    try:
        return unicodedata.normalize("NFC", value)
    except UnicodeError:
        return value
