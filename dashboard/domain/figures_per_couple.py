"""review.couple_figures' frame for a few couples, built row by row in plain Python.

Why: a save recomputes its couple's summary row inside the write transaction, where
every colleague's save and page view waits; pandas' fixed cost per operation (~100 ms
for one couple through the vectorized pipeline) is most of that save. Here each
couple's figures come from the rules themselves (outcomes_per_couple: scoring's
couple_trajectory; alliance.split_alliance), and the frame is built once, with the
vectorized frame's columns and types: tests/integration/test_outcomes_per_couple.py
compares the two over every demo couple and seeded random edits.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from dashboard.domain.alliance import AllianceFlag, AllianceTotals, SplitAlliance
from dashboard.domain.catalog import STAGES, stage_label
from dashboard.domain.couple_outcome import TOO_EARLY
from dashboard.domain.couple_summary import FIGURE_DTYPES
from dashboard.domain.expected_response import ALERT_RANK, Alert, ExpectedModel
from dashboard.domain.outcomes import OUTCOME_COLUMNS, TRAJECTORY_FLAGS
from dashboard.domain.outcomes_per_couple import frame_of, per_couple_rows
from dashboard.domain.plain_words import expected_cell
from dashboard.domain.safety import safety_line
from dashboard.domain.scoring import ReliableChangeParams

_ATTENTION_FLAGS = (*TRAJECTORY_FLAGS, "split_alliance")
_STAGE = {s.number: s.label for s in STAGES}
_NOT_RATED = stage_label(None)
# Columns after caseload_outcomes' own, in couple_figures' order, and their types: the
# stored row's (couple_summary), but the session days keep the sessions' own date type
# ("day"), whatever it is on this backend.
_SESSION_DAYS = ("last_session", "last_held_ever")
_AFTER: dict[str, str] = {
    c: "day" if c in _SESSION_DAYS else t
    for c, t in FIGURE_DTYPES.items()
    if c not in OUTCOME_COLUMNS
}


def figures_per_couple(
    couples: pd.DataFrame,
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    end: date,
    alliance: AllianceTotals,
    expected: ExpectedModel | None,
) -> pd.DataFrame:
    """review.couple_figures(couples, sessions, params, end, alliance, expected), couple
    by couple: the same index, columns, values and types."""
    stop = pd.Timestamp(end)
    when = pd.to_datetime(sessions["session_date"])
    as_of = sessions[(when <= stop).to_numpy()]
    outcomes, types = per_couple_rows(as_of, params, expected)
    totals = alliance.totals
    if not totals.empty:
        totals = totals[totals["session_date"] <= stop]
    judged = AllianceTotals(totals, alliance.rule, alliance.in_use)
    mine = _sessions_by_couple(sessions, when, stop)
    ids = couples["couple_id"].tolist()
    rows = []
    for couple_id in ids:
        row = outcomes.get(couple_id) or _no_sessions(expected)
        row = {**row, **_expected(row)}
        row.update(_alliance(row, judged.one(couple_id)))
        row["intake_stage"] = _label(row["stage_first"])
        row["current_stage"] = _label(row["stage_latest"])
        row.update(_safety_and_attention(row, *mine.get(couple_id, ([], [], []))))
        rows.append(row)
    types = {**types, "reasons": "str"}  # couple_figures' joins make it text
    dtypes = {
        **types,
        **{
            c: types["first_reliable_improvement_date"] if t == "day" else t
            for c, t in _AFTER.items()
        },
    }
    return frame_of(ids, rows, dtypes)


def _sessions_by_couple(
    sessions: pd.DataFrame, when: pd.Series, stop: pd.Timestamp
) -> dict[
    int, tuple[list[tuple[pd.Timestamp, bool]], list[tuple[pd.Timestamp, int]], list[pd.Timestamp]]
]:
    """Per couple: (day, held) up to `stop`, the safety-flagged (day, session id) up to
    it, and every held day (overdue is about today, whatever the range)."""
    out: dict[int, tuple[list, list, list]] = {}
    for couple_id, day, held, flagged, session_id in zip(
        sessions["couple_id"].tolist(),
        when.tolist(),
        sessions["held"].tolist(),
        sessions["safety_flag"].tolist(),
        sessions["session_id"].tolist(),
        strict=True,
    ):
        seen, flags, held_ever = out.setdefault(int(couple_id), ([], [], []))
        if held:
            held_ever.append(day)
        if day <= stop:
            seen.append((day, bool(held)))
            if flagged:
                flags.append((day, int(session_id)))
    return out


def _no_sessions(expected: ExpectedModel | None) -> dict[str, object]:
    """A couple without a session: caseload_outcomes has no row for it, and
    couple_figures fills its join's gaps."""
    row: dict[str, object] = dict.fromkeys(OUTCOME_COLUMNS, np.nan)
    row.update(dict.fromkeys((*TRAJECTORY_FLAGS, "not_on_track", "diverging"), False))
    row["sessions_held"] = 0
    row["reasons"] = ""
    row["outcome"] = TOO_EARLY
    row["stage_first"] = row["stage_latest"] = pd.NA
    row["first_reliable_improvement_date"] = pd.NaT
    row["expected_alert"] = Alert.NO_DATA if expected is not None else None
    row["expected_partner"] = None
    return row


def _expected(row: dict[str, object]) -> dict[str, object]:
    alert = row["expected_alert"]
    if alert is None:
        return {"expected": "", "expected_rank": 0}
    return {
        "expected": expected_cell(alert, row["expected_partner"]),  # type: ignore[arg-type]
        "expected_rank": ALERT_RANK[Alert(alert)],
    }


def _alliance(row: dict[str, object], judged: SplitAlliance) -> dict[str, object]:
    """alliance.with_alliance for one couple (as_frame's values of split_alliance)."""
    flagged = bool(judged.flagged) if judged.judged else False
    if not judged.judged:
        word = AllianceFlag.ABSENT.value
    else:
        word = AllianceFlag.SPLIT.value if flagged else AllianceFlag.NOT_SPLIT.value
    reason = judged.reason()
    extra = f"split alliance: {reason}" if flagged else ""
    reasons = str(row["reasons"])
    return {
        "split_alliance": flagged,
        "alliance_date": pd.NaT
        if judged.session_date is None
        else pd.Timestamp(judged.session_date),
        "alliance_a": np.nan if judged.total_a is None else judged.total_a,
        "alliance_b": np.nan if judged.total_b is None else judged.total_b,
        "alliance_reason": reason,
        "alliance": word,
        "reasons": reasons + ("; " if reasons and extra else "") + extra,
    }


def _label(stage: object) -> str:
    return _NOT_RATED if stage is pd.NA or stage is None else _STAGE.get(int(stage), _NOT_RATED)  # type: ignore[call-overload]


def _safety_and_attention(
    row: dict[str, object],
    seen: list[tuple[pd.Timestamp, bool]],
    flags: list[tuple[pd.Timestamp, int]],
    held_ever: list[pd.Timestamp],
) -> dict[str, object]:
    held = [day for day, was_held in seen if was_held]
    safety = bool(flags)
    line = safety_line([f"{day.day} {day:%b %Y}" for day, _ in flags])
    needs = bool(row["not_on_track"] or row["diverging"] or row["split_alliance"] or safety)
    reasons = str(row["reasons"])
    reasons = reasons[:1].upper() + reasons[1:]
    if safety:
        reasons = f"{line}; {reasons}" if reasons else line
    key = [flag for flag in _ATTENTION_FLAGS if row[flag]]
    if safety:
        key.append(f"safety@{flags[-1][1]}")
    return {
        "last_session": held[-1] if held else pd.NaT,
        "safety": safety,
        "safety_session_id": flags[-1][1] if flags else pd.NA,
        "safety_reason": line,
        "last_held_ever": max(held_ever) if held_ever else pd.NaT,
        "needs_attention": needs,
        "attention_reasons": reasons if needs else "",
        "attention_key": ",".join(key) if needs else "",
    }
