"""A couple's record history in words: what one amendment changed.

Pure: two snapshots of the couple's record (column name -> value, dates as ISO text,
as kept in `couple_amendments.snapshot`) in, short sentences out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from dashboard.domain.catalog import CLOSING_REASONS, STATUS_LABELS, CoupleStatus

Snapshot = Mapping[str, object]
NO_CHANGES = "Saved without changes"

# Short fields shown with their old and new value; long text only says it changed.
_NAMED = (("partner_a_name", "Partner A"), ("partner_b_name", "Partner B"))
_TEXTS = (("presenting_concerns", "Presenting concerns"), ("goals", "Goals"))


def status_words(snapshot: Snapshot) -> str:
    """'active', 'paused', or 'closed (Goals met)'."""
    raw = str(snapshot.get("status") or "")
    try:
        words = STATUS_LABELS[CoupleStatus(raw)].lower()
    except ValueError:
        words = raw
    reason = snapshot.get("closing_reason")
    if raw == CoupleStatus.CLOSED and reason:
        words += f" ({CLOSING_REASONS.get(str(reason), str(reason))})"
    return words


def _date_words(value: object) -> str:
    if not value:
        return "none"
    return f"{date.fromisoformat(str(value)):%d %b %Y}"


def _text(value: object) -> str:
    return str(value or "").strip()


def describe_couple_change(before: Snapshot, after: Snapshot) -> tuple[str, ...]:
    """What changed between two states of a couple's record, one sentence per field."""
    changes: list[str] = []
    for key, label in _NAMED:
        if _text(before.get(key)) != _text(after.get(key)):
            changes.append(f"{label}: {_text(before.get(key))} → {_text(after.get(key))}")
    if before.get("intake_date") != after.get("intake_date"):
        changes.append(
            f"Intake date: {_date_words(before.get('intake_date'))} → "
            f"{_date_words(after.get('intake_date'))}"
        )
    for key, label in _TEXTS:
        if _text(before.get(key)) != _text(after.get(key)):
            changes.append(f"{label} changed")
    if status_words(before) != status_words(after):
        changes.append(f"Status: {status_words(before)} → {status_words(after)}")
    old_note, new_note = _text(before.get("status_note")), _text(after.get("status_note"))
    if old_note != new_note:
        done = "added" if not old_note else "removed" if not new_note else "changed"
        changes.append(f"Status note {done}")
    if before.get("counselor_id") != after.get("counselor_id"):
        changes.append("Counselor changed")
    return tuple(changes) or (NO_CHANGES,)
