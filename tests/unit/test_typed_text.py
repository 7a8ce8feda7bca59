"""Characters that cannot be stored are refused with a field error; invisible-only text
is blank; what is kept is NFC. Every character of each refused class is checked."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from dashboard.domain.typed_text import is_blank, normalised, text_problem
from dashboard.domain.validation import (
    CoupleInput,
    SessionInput,
    validate_couple,
    validate_session,
    validate_status_change,
)

C0 = [chr(c) for c in range(0x20)]  # NUL .. US
C1 = [chr(c) for c in range(0x7F, 0xA0)]  # DEL and the C1 controls
BIDI_OVERRIDES = [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)] + [
    chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF)
]
SURROGATES = [chr(c) for c in range(0xD800, 0xE000)]
# What right-to-left writers and ordinary text use: allowed.
ALLOWED = ["\u200e", "\u200f", "\u2066", "\u2067", "\u2068", "\u2069", "é", "ß", "가", "😀"]


def test_the_character_classes_have_their_sizes() -> None:
    # 32 + 33 + 5 + (32 + 34) + 2048 = 2184 characters refused in names.
    assert (len(C0), len(C1), len(BIDI_OVERRIDES), len(NONCHARACTERS), len(SURROGATES)) == (
        32,
        33,
        5,
        66,
        2048,
    )


@pytest.mark.parametrize(
    "refused",
    [C0, C1, BIDI_OVERRIDES, NONCHARACTERS, SURROGATES],
    ids=lambda c: f"U+{ord(c[0]):04X}..",
)
def test_every_character_of_a_refused_class_is_refused_in_a_name(refused: list[str]) -> None:
    for char in refused:
        problem = text_problem(f"Ana{char}Lee", "Partner A's name")
        assert problem is not None, f"U+{ord(char):04X}"
        assert f"U+{ord(char):04X}, character 4" in problem


def test_notes_keep_line_breaks_and_tabs_but_nothing_else_of_c0() -> None:
    assert text_problem("First line\n\tsecond line", "The Data note", multiline=True) is None
    assert text_problem("First line\nsecond", "Partner A's name") is not None
    refused_in_notes = [c for c in C0 if text_problem(c, "Note", multiline=True)]
    assert len(refused_in_notes) == 30  # every C0 control but LF and TAB


def test_what_right_to_left_writers_use_is_allowed() -> None:
    for char in ALLOWED:
        assert text_problem(f"a{char}b", "The name") is None, f"U+{ord(char):04X}"


def test_text_of_only_invisible_characters_is_blank() -> None:
    assert is_blank("\u200b\u200b") and is_blank(" \ufeff\u2060 \u00ad") and is_blank("\u3164")
    assert not is_blank("\u200bA") and not is_blank("가")


def test_kept_text_is_nfc() -> None:
    decomposed = "Jose\u0301"
    assert normalised(decomposed) == "José" == unicodedata.normalize("NFC", decomposed)
    assert CoupleInput(decomposed, "B", date(2026, 1, 5), goals="cafe\u0301").goals == "café"
    assert SessionInput(None, None, None, None, note_data="e\u0301").note_data == "é"


def test_validators_put_each_problem_beside_its_field() -> None:
    errors = validate_couple(
        CoupleInput("\u200b\u200b", "Bo\u202ebby", date(2026, 1, 5), "Money\x00", "ok"),
        today=date(2026, 11, 1),
    )
    assert errors["partner_a_name"] == "Enter Partner A's display name or initials."
    assert "U+202E" in errors["partner_b_name"]
    assert "U+0000" in errors["presenting_concerns"]
    assert "goals" not in errors

    session = SessionInput(
        date(2026, 3, 2),
        50,
        "in_person",
        "both",
        note_data="Talked\u0007",
        note_assessment="\u200b",
        note_plan="Plan\nwith lines",
        stage=2,
        safety_flag=True,
        safety_note="Raised voices\ufffe",
    )
    errors = validate_session(
        session, intake_date=date(2026, 1, 5), today=date(2026, 11, 1), active_barrier_ids=()
    )
    assert "U+0007" in errors["note_data"]
    assert errors["note_assessment"] == "Write the Assessment part of the DAP note."
    assert "note_plan" not in errors
    assert "U+FFFE" in errors["safety_note"]

    assert "U+001B" in validate_status_change("paused", None, "away\x1b[31m")["status_note"]
