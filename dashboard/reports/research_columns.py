"""The research extract's files and columns: its data dictionary, one entry a column.

Kept apart from the builder (research.py) so that what a researcher reads about each
column sits in one place; the builder writes exactly these columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.domain.catalog import (
    ADHERENCE,
    CLOSING_REASONS,
    HABITS,
    INDICATORS,
    SEED_BARRIERS,
    SEVERITIES,
    STAGES,
    STATUS_LABELS,
)
from dashboard.domain.couple_outcome import OUTCOME_HELP
from dashboard.reports.anonymity import WITHHELD

CLINIC_BARRIER = "clinic_specific"


@dataclass(frozen=True)
class Column:
    file: str
    column: str
    meaning: str
    type_units: str
    allowed_values: str = ""


def _choices(labels: Mapping[Any, str]) -> str:
    return "; ".join(f"{str(key)} = {label}" for key, label in labels.items())


_COUPLE_KEY = "random key of the couple, new for every extract"
_TEXT_KEY = "text (hex token)"
_POINT = (
    "point",
    "measurement point: 'intake (weeks 0–2)' or a band of whole weeks since intake "
    "(bands of this extract: see README)",
    "text",
)
_PARTNER = ("partner", "which partner", "text", "A; B")
_WITHHELD_NOTE = f"; {WITHHELD} = not released for this couple (see README)"

DICTIONARY: tuple[Column, ...] = (
    Column("couples.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column(
        "couples.csv",
        "status",
        "case status when the extract was made (or open / closed, or withheld: see README)",
        "text",
        _choices(STATUS_LABELS) + "; open = active or paused; closed" + _WITHHELD_NOTE,
    ),
    Column(
        "couples.csv",
        "closing_reason",
        "why the case was closed; empty unless closed",
        "text (code)",
        _choices(CLOSING_REASONS) + _WITHHELD_NOTE,
    ),
    Column(
        "couples.csv",
        "course_length",
        "whole weeks from intake to the last session held, as a band; 'none held' = no session",
        "text (band of weeks)",
        "see README" + _WITHHELD_NOTE,
    ),
    Column(
        "couples.csv",
        "sessions_held",
        "sessions held (at least one partner present), as a band",
        "text (band of counts)",
        "see README" + _WITHHELD_NOTE,
    ),
    Column(
        "couples.csv",
        "change_a",
        "partner A's EII from their first to their last measurement point, judged for "
        "reliable change by the clinic's norms (README); empty = fewer than two points",
        "text",
        "improved; no reliable change; deteriorated",
    ),
    Column("couples.csv", "change_b", "as change_a, for partner B", "text"),
    Column(
        "couples.csv",
        "outcome",
        "the couple's outcome from change_a and change_b, partner-level (worst case first)",
        "text",
        "; ".join(f"{label} = {meaning}" for label, meaning in OUTCOME_HELP.items()),
    ),
    Column(
        "couples.csv",
        "expected_alert",
        "the worse partner against the course expected at their latest counselor rating "
        "(README); no data yet = no partner with two released EIIs",
        "text",
        "no data yet; on course; below expected; well below expected",
    ),
    Column(
        "couples.csv",
        "expected_partner",
        "which partner expected_alert is about, when below expected; empty otherwise",
        "text",
        "Partner A; Partner B; both partners",
    ),
    Column("measurements.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("measurements.csv", *_POINT),
    Column(
        "measurements.csv", "weeks_from", "first whole week since intake of the band", "integer"
    ),
    Column(
        "measurements.csv",
        "weeks_to",
        "last whole week since intake of the band; empty = open-ended",
        "integer",
    ),
    Column(
        "measurements.csv",
        "stage",
        "counselor's rating of the stage of emotional intimacy (a clinical framework, not a validated scale); empty = not rated",
        "integer",
        "; ".join(f"{s.number} = {s.name}" for s in STAGES),
    ),
    Column(
        "measurements.csv",
        "eii_a",
        "partner A's Emotional Intimacy Index: mean item score (warning signs reversed) x 10; empty below six rated items",
        "number (0-100)",
    ),
    Column(
        "measurements.csv",
        "eii_b",
        "partner B's Emotional Intimacy Index (as eii_a)",
        "number (0-100)",
    ),
    Column(
        "measurements.csv",
        "couple_eii",
        "mean of eii_a and eii_b; empty unless both are present",
        "number (0-100)",
    ),
    Column("ratings.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("ratings.csv", *_POINT),
    Column("ratings.csv", *_PARTNER),
    Column(
        "ratings.csv",
        "item",
        "indicator item (warning signs are reverse-scored in the EII)",
        "text (code)",
        "; ".join(f"{i.key} = {i.label} ({i.kind})" for i in INDICATORS),
    ),
    Column("ratings.csv", "value", "the partner's rating of the item", "integer (0-10)"),
    Column("barriers.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("barriers.csv", *_POINT),
    Column(
        "barriers.csv",
        "barrier",
        "barrier tagged at the point's session: the code of one of the four catalogue "
        f"barriers, or '{CLINIC_BARRIER}' for a barrier the clinic added (its name is typed "
        "by the clinic, so it is not exported); the counselor's note on the tag is not exported",
        "text (code)",
        "; ".join(f"{b.code} = {b.name}" for b in SEED_BARRIERS)
        + f"; {CLINIC_BARRIER} = a barrier the clinic added",
    ),
    Column(
        "barriers.csv",
        "severity",
        "how strongly the barrier showed",
        "integer",
        _choices(SEVERITIES),
    ),
    Column("habits.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column(
        "habits.csv", "point", "measurement point at whose session the habit was assigned", "text"
    ),
    Column(
        "habits.csv",
        "habit",
        "habit assigned as homework",
        "text (code)",
        _choices({h.key: h.label for h in HABITS}),
    ),
    Column(
        "habits.csv",
        "adherence",
        "how far the couple kept the habit, recorded at a later session; empty = not recorded",
        "integer",
        _choices(ADHERENCE),
    ),
    Column("instruments.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("instruments.csv", *_POINT),
    Column("instruments.csv", *_PARTNER),
    Column(
        "instruments.csv",
        "instrument",
        "validated instrument (e.g. ors, srs); none at all when the README says instrument "
        "totals were withheld",
        "text (code)",
    ),
    Column(
        "instruments.csv",
        "total",
        "the partner's total score on the instrument",
        "number (instrument's own scale)",
    ),
)

FILES = (
    "couples.csv",
    "measurements.csv",
    "ratings.csv",
    "barriers.csv",
    "habits.csv",
    "instruments.csv",
)
INT_COLUMNS = ("weeks_from", "weeks_to", "stage", "value", "severity", "adherence")
