"""A couple's summary row: the review's per-couple figures (review.couple_figures), judged
over all the couple's sessions, as typed column values for storage and back as a frame.

Pure. The figures are computed by the review's own code, never by a second copy of its
rules, so a stored row and the review can only disagree when the row is stale, and
`basis` says when that is. Nothing stored depends on today: days without a session and
overdue are computed at read (review.with_today).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from enum import Enum

import numpy as np
import pandas as pd

from dashboard.domain.expected_response import Alert
from dashboard.domain.scoring import Change

# The day a summary row is judged "as at": after any session a clinic can hold, so the
# row is the couple's figures over all its sessions.
FOREVER = date(2200, 1, 1)

# Every column of review.couple_figures and how it is read back. Enums come back as
# their members, so a row read from the table equals the row computed on the fly.
FIGURE_DTYPES: dict[str, str] = {
    "sessions_held": "int64",
    "status_a": "change",
    "status_b": "change",
    "status_couple": "change",
    "rci_a": "float64",
    "rci_b": "float64",
    "rci_couple": "float64",
    "change_a": "float64",
    "change_b": "float64",
    "change_couple": "float64",
    "judged_on_a": "object",
    "judged_on_b": "object",
    "outcome": "object",
    "deteriorated_a": "bool",
    "deteriorated_b": "bool",
    "no_improvement": "bool",
    "stage_regressed": "bool",
    "below_expected": "bool",
    "diverging_opposite": "bool",
    "diverging_discrepancy": "bool",
    "not_on_track": "bool",
    "diverging": "bool",
    "not_on_track_reasons": "object",
    "diverging_reasons": "object",
    "reasons": "str",
    "stage_first": "Int64",
    "stage_latest": "Int64",
    "first_reliable_improvement_session": "float64",
    "first_reliable_improvement_date": "datetime64[us]",
    "expected_alert": "alert",
    "expected_partner": "object",
    "expected_alert_a": "alert",
    "expected_source_a": "object",
    "expected_session_a": "float64",
    "expected_score_a": "float64",
    "expected_p10_a": "float64",
    "expected_p25_a": "float64",
    "expected_p50_a": "float64",
    "expected_alert_b": "alert",
    "expected_source_b": "object",
    "expected_session_b": "float64",
    "expected_score_b": "float64",
    "expected_p10_b": "float64",
    "expected_p25_b": "float64",
    "expected_p50_b": "float64",
    "expected": "str",
    "expected_rank": "int64",
    "split_alliance": "bool",
    "alliance_date": "datetime64[ns]",
    "alliance_a": "float64",
    "alliance_b": "float64",
    "alliance_reason": "str",
    "alliance": "str",
    "intake_stage": "str",
    "current_stage": "str",
    "last_session": "datetime64[us]",
    "safety": "bool",
    "safety_session_id": "Int64",
    "safety_reason": "str",
    "last_held_ever": "datetime64[us]",
    "needs_attention": "bool",
    "attention_reasons": "str",
    "attention_key": "str",
}
FIGURE_COLUMNS = tuple(FIGURE_DTYPES)
# The table column each figure is stored in (db/summary_models.py): its own name, but
# where the row's named columns already hold the same value under another name (the
# attention reasons, the safety dates, the last session held) and for the figure
# "reasons" (the flags' reasons), whose name the attention reasons had first.
COLUMN_OF: dict[str, str] = {name: name for name in FIGURE_COLUMNS} | {
    "reasons": "flag_reasons",
    "attention_reasons": "reasons",
    "safety_reason": "safety_dates",
    "last_held_ever": "last_held",
}
STORED_COLUMNS = tuple(COLUMN_OF.values())
# What a row names as its judge before the clinic has published a version.
DEFAULT_NORMS = "documented defaults"
FALLBACK_COURSE = "rational fallback"
_ENUMS: dict[str, type[Enum]] = {"change": Change, "alert": Alert}
DAY = "%Y-%m-%d"  # a stored day as SQLite hands it over (PostgreSQL: a date)
# The packing's own version: a code change to the columns makes every stored row stale.
LAYOUT = hashlib.sha256(json.dumps([FIGURE_DTYPES, COLUMN_OF]).encode()).hexdigest()[:8]


def basis(norms_version: int | None, expected_version: int | None, alliance_in_use: bool) -> str:
    """What a row was judged with: the clinic norms and expected-course versions in use
    (None: the labelled defaults / fallback), whether the alliance scale is in use, and
    the layout of the stored figures."""
    return (
        f"norms {norms_version or 'defaults'}; expected {expected_version or 'fallback'}; "
        f"alliance {'on' if alliance_in_use else 'off'}; layout {LAYOUT}"
    )


def _stored(value: object) -> object:
    """One figure as its column holds it: None for every kind of missing, a day for a
    date, an enum's value, plain Python numbers."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, pd.Timestamp):
        if value != value.normalize():
            raise ValueError(f"a figure's date has a time of day: {value}")
        return value.date()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    return value


def storable(figures: pd.DataFrame) -> dict[int, dict[str, object]]:
    """Per couple id: its figures by table column (COLUMN_OF), as the columns hold them."""
    missing = set(FIGURE_COLUMNS) ^ set(figures.columns)
    if missing:
        raise ValueError(f"the review's figures changed columns: {sorted(missing)}")
    table = figures[list(FIGURE_COLUMNS)].astype(object)
    return {
        int(couple_id): {
            column: _stored(value) for column, value in zip(STORED_COLUMNS, values, strict=True)
        }
        for couple_id, values in zip(table.index, table.to_numpy().tolist(), strict=True)
    }


def _members(values: pd.Series, enum: type[Enum]) -> pd.Series:
    """Stored enum values (None for none) as the enum's members, by array lookup (a map
    would turn the members, which are strings, into plain text)."""
    members = list(enum)
    lookup = np.empty(len(members) + 1, dtype=object)
    lookup[: len(members)] = members
    lookup[-1] = None  # code -1: not a member's value (NULL)
    codes = pd.Categorical(values, categories=[m.value for m in members]).codes
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def typed(raw: pd.DataFrame) -> pd.DataFrame:
    """The figures frame (index couple_id) of stored rows as the database handed them
    over (a couple_id column and STORED_COLUMNS, object dtype; None for NULL, days as
    dates or 'YYYY-MM-DD' text, booleans as 0/1 on SQLite), typed as review.couple_figures computes them:
    column by column, never row by row."""
    columns: dict[str, object] = {}
    for name, dtype in FIGURE_DTYPES.items():
        values = raw[COLUMN_OF[name]].astype(object)
        if dtype in _ENUMS:
            columns[name] = _members(values, _ENUMS[dtype])
        elif dtype.startswith("datetime64"):
            columns[name] = pd.to_datetime(values, format=DAY).astype(dtype)
        elif dtype == "object":
            columns[name] = values
        else:
            columns[name] = values.astype(dtype)
    out = pd.DataFrame(columns)
    out.index = pd.Index(raw["couple_id"].astype("int64"), name="couple_id")
    return out
