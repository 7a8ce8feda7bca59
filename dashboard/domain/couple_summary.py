"""A couple's summary row: the review's per-couple figures (review.couple_figures), judged
over all the couple's sessions, packed for storage and unpacked for reading.

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
# What a row names as its judge before the clinic has published a version.
DEFAULT_NORMS = "documented defaults"
FALLBACK_COURSE = "rational fallback"
_ENUMS: dict[str, type[Enum]] = {"change": Change, "alert": Alert}
# The packing's own version: a code change to the columns makes every stored row stale.
LAYOUT = hashlib.sha256(json.dumps(FIGURE_DTYPES).encode()).hexdigest()[:8]


def basis(norms_version: int | None, expected_version: int | None, alliance_in_use: bool) -> str:
    """What a row was judged with: the clinic norms and expected-course versions in use
    (None: the labelled defaults / fallback), whether the alliance scale is in use, and
    the layout of the stored figures."""
    return (
        f"norms {norms_version or 'defaults'}; expected {expected_version or 'fallback'}; "
        f"alliance {'on' if alliance_in_use else 'off'}; layout {LAYOUT}"
    )


def _plain(value: object) -> object:
    """One figure as JSON: None for every kind of missing, ISO dates, enum values."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    return value


def pack(figures: pd.DataFrame) -> dict[int, str]:
    """Per couple id: its figures as one JSON list, in FIGURE_COLUMNS order."""
    missing = set(FIGURE_COLUMNS) ^ set(figures.columns)
    if missing:
        raise ValueError(f"the review's figures changed columns: {sorted(missing)}")
    table = figures[list(FIGURE_COLUMNS)].astype(object)
    return {
        int(couple_id): json.dumps([_plain(v) for v in values], allow_nan=False)
        for couple_id, values in zip(table.index, table.to_numpy().tolist(), strict=True)
    }


def unpack(couple_ids: list[int], packed: list[str]) -> pd.DataFrame:
    """The figures frame (index couple_id) of stored rows, typed as computed."""
    rows = [json.loads(p) for p in packed]
    raw = pd.DataFrame(rows, columns=list(FIGURE_COLUMNS), dtype=object)
    raw.index = pd.Index(couple_ids, dtype="int64", name="couple_id")
    out = pd.DataFrame(index=raw.index)
    for column, dtype in FIGURE_DTYPES.items():
        values = raw[column]
        if dtype in _ENUMS:
            enum = _ENUMS[dtype]
            out[column] = pd.Series(
                [None if v is None else enum(v) for v in values], index=raw.index, dtype=object
            )
        elif dtype.startswith("datetime64"):
            out[column] = pd.to_datetime(values).astype(dtype)
        elif dtype == "float64":
            out[column] = values.astype("float64")
        elif dtype == "object":
            out[column] = values.where(values.notna(), None)
        else:
            out[column] = values.astype(dtype)
    return out
