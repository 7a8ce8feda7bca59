"""A couple's history in words: each amendment says what it changed."""

from __future__ import annotations

from dashboard.domain.history import NO_CHANGES, describe_couple_change, status_words

RECORD = {
    "case_code": "C-2026-0001",
    "partner_a_name": "Alex",
    "partner_b_name": "Blair",
    "counselor_id": 3,
    "intake_date": "2026-01-05",
    "status": "active",
    "closing_reason": None,
    "status_note": None,
    "status_changed_at": None,
    "presenting_concerns": "Drifting apart",
    "goals": "Talk weekly",
    "updated_at": "2026-01-05T09:00:00+00:00",
    "version": 1,
}


def changed(**values: object) -> dict[str, object]:
    return {**RECORD, **values}


def test_reopening_a_closed_case_names_the_closing_reason() -> None:
    closed = changed(status="closed", closing_reason="goals_met")
    assert describe_couple_change(closed, RECORD) == ("Status: closed (Goals met) → active",)
    assert describe_couple_change(RECORD, closed) == ("Status: active → closed (Goals met)",)


def test_a_new_closing_reason_is_a_status_change() -> None:
    before = changed(status="closed", closing_reason="referred")
    after = changed(status="closed", closing_reason="other", status_note="Moved abroad")
    assert describe_couple_change(before, after) == (
        "Status: closed (Referred elsewhere) → closed (Other)",
        "Status note added",
    )


def test_status_words() -> None:
    assert status_words(RECORD) == "active"
    assert status_words(changed(status="paused")) == "paused"
    assert status_words(changed(status="closed", closing_reason="separated")) == (
        "closed (Couple separated)"
    )


def test_intake_edit_lists_each_field_short_ones_with_their_values() -> None:
    after = changed(
        partner_a_name="Alexis",
        intake_date="2026-01-06",
        presenting_concerns="Distance",
        goals="Weekly talks",
    )
    assert describe_couple_change(RECORD, after) == (
        "Partner A: Alex → Alexis",
        "Intake date: 05 Jan 2026 → 06 Jan 2026",
        "Presenting concerns changed",
        "Goals changed",
    )


def test_status_note_added_changed_removed() -> None:
    noted = changed(status="paused", status_note="Travelling")
    paused = changed(status="paused")
    assert describe_couple_change(paused, noted) == ("Status note added",)
    assert describe_couple_change(noted, changed(status="paused", status_note="Ill")) == (
        "Status note changed",
    )
    assert describe_couple_change(noted, paused) == ("Status note removed",)


def test_bookkeeping_columns_are_not_changes() -> None:
    after = changed(version=2, updated_at="2026-02-01T10:00:00+00:00")
    assert describe_couple_change(RECORD, after) == (NO_CHANGES,)
