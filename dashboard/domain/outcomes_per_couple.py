"""caseload_outcomes' frame for a few couples, judged couple by couple by the rules
themselves (scoring.couple_trajectory), without pandas' fixed cost.

Why: a save recomputes its couple's summary row inside the write transaction, and the
vectorized caseload (outcomes.py) spends ~100 ms of pandas overhead on one couple while
every colleague's save and page view waits for the lock. For a whole clinic the
vectorized path wins; for one couple this one takes a millisecond. Both give the same
frame, column by column and type by type: tests/integration/test_outcomes_per_couple.py
runs both over every demo couple and seeded random edits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype

from dashboard.domain.couple_outcome import couple_outcome
from dashboard.domain.expected_response import Alert, ExpectedModel
from dashboard.domain.outcomes import (
    EXPECTED_COLUMNS,
    OUTCOME_COLUMNS,
    TRAJECTORY_FLAGS,
    alert_columns,
)
from dashboard.domain.same_source import COUNSELOR
from dashboard.domain.scoring import (
    DIVERGING_GAP,
    DIVERGING_SESSIONS,
    LINE_TOLERANCE,
    NOT_ON_TRACK_AFTER_SESSIONS,
    Change,
    ChangeResult,
    CoupleTrajectory,
    ReliableChangeParams,
    SessionPoint,
    classify_change,
    couple_trajectory,
    expected_flag,
)

_TEXT = ("expected_alert", "expected_partner", "expected_source")
_ALERTS = ("expected_alert", "expected_alert_a", "expected_alert_b")
_FLOATS = ("rci_", "change_", "first_reliable_improvement_session", "expected_")
_INTS = ("stage_first", "stage_latest")
_BOOLS = (*TRAJECTORY_FLAGS, "not_on_track", "diverging")


def per_couple_outcomes(
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """outcomes.caseload_outcomes(sessions, params, expected), couple by couple: the
    same input (sessions in (couple_id, session_date, session_id) order), the same
    OUTCOME_COLUMNS, index, values and dtypes."""
    rows, dtypes = per_couple_rows(sessions, params, expected)
    return frame_of(list(rows), list(rows.values()), dtypes)


def frame_of(
    ids: list[int], rows: list[dict[str, object]], dtypes: dict[str, object]
) -> pd.DataFrame:
    """One frame (index couple_id) of plain rows, each column built once in its dtype:
    a Series per column costs several times more, most of a one-couple save's frame."""
    index = pd.Index(ids, dtype="int64", name="couple_id")
    columns: dict[str, object] = {}
    for name, dtype in dtypes.items():
        kind = _resolved(dtype)
        values = [r[name] for r in rows]
        if kind == np.dtype(object):  # an object array alone would be read as text
            columns[name] = pd.Series(values, index=index, dtype=object)
        elif isinstance(kind, np.dtype) and kind.kind != "M":
            columns[name] = np.array(values, dtype=kind)
        else:
            columns[name] = pd.array(values, dtype=kind)
    return pd.DataFrame(columns, index=index, copy=False)


@functools.cache
def _resolved(dtype: object) -> object:
    return pandas_dtype(dtype)  # type: ignore[arg-type]


def per_couple_rows(
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    expected: ExpectedModel | None = None,
) -> tuple[dict[int, dict[str, object]], dict[str, object]]:
    """per_couple_outcomes' rows (by couple id, in id order) as plain values, and each
    column's dtype."""
    points: dict[int, list[SessionPoint]] = {}
    days: dict[int, list[pd.Timestamp]] = {}
    columns = ("couple_id", "session_date", "held", "stage", "eii_a", "eii_b")
    sources = [
        sessions[c].tolist() if c in sessions.columns else [None] * len(sessions)
        for c in ("source_a", "source_b")
    ]
    when = pd.to_datetime(sessions["session_date"])
    for couple_id, day, held, stage, a, b, source_a, source_b in zip(
        *(sessions[c].tolist() for c in columns[:1]),
        when.tolist(),
        *(sessions[c].tolist() for c in columns[2:]),
        *sources,
        strict=True,
    ):
        points.setdefault(int(couple_id), []).append(
            SessionPoint(
                session_date=day.date(),
                held=bool(held),
                stage=None if _missing(stage) else int(stage),
                eii_a=None if _missing(a) else float(a),
                eii_b=None if _missing(b) else float(b),
                source_a=source_a if isinstance(source_a, str) else COUNSELOR,
                source_b=source_b if isinstance(source_b, str) else COUNSELOR,
            )
        )
        days.setdefault(int(couple_id), []).append(day)
    ids = sorted(points)
    rows = {c: _row(points[c], days[c], params, expected) for c in ids}
    return rows, {c: _dtype(c, when.dtype) for c in OUTCOME_COLUMNS}


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _dtype(name: str, day_dtype: object) -> object:
    """caseload_outcomes' dtype of a column."""
    if name == "sessions_held":
        return "int64"
    if name == "first_reliable_improvement_date":
        return day_dtype
    if name in _INTS:
        return "Int64"
    if name.startswith(_FLOATS) and not name.startswith(_TEXT):
        return "float64"
    if name in _BOOLS:
        return bool
    return object


def _number(change: ChangeResult | None, field: str) -> float:
    value = None if change is None else getattr(change, field)
    return np.nan if value is None else float(value)


def _row(
    points: list[SessionPoint],
    days: list[pd.Timestamp],
    params: ReliableChangeParams,
    expected: ExpectedModel | None,
) -> dict[str, object]:
    t = couple_trajectory(points, params, expected)
    a, b = t.partner_a, t.partner_b
    stages = [p.stage for p in points if p.stage is not None]
    alerts = alert_columns(t.expected)
    row: dict[str, object] = {
        "sessions_held": t.sessions_held,
        "status_a": a.status,
        "status_b": b.status,
        "status_couple": None if t.couple is None else t.couple.status,
        "rci_a": _number(a.change, "rci"),
        "rci_b": _number(b.change, "rci"),
        "rci_couple": _number(t.couple, "rci"),
        "change_a": _number(a.change, "difference"),
        "change_b": _number(b.change, "difference"),
        "change_couple": _number(t.couple, "difference"),
        "judged_on_a": None if a.pair is None else a.pair.source,
        "judged_on_b": None if b.pair is None else b.pair.source,
        "outcome": couple_outcome(a.status, b.status),
        "deteriorated_a": a.deteriorated,
        "deteriorated_b": b.deteriorated,
        "no_improvement": t.sessions_held > NOT_ON_TRACK_AFTER_SESSIONS
        and not (a.improved or b.improved),
        "stage_regressed": len(stages) >= 3 and stages[-3] > stages[-2] > stages[-1],
        "below_expected": expected is not None
        and any(expected_flag(alerts[f"expected_alert_{k}"]) for k in ("a", "b")),  # type: ignore[arg-type]
        "diverging_opposite": (a.improved and b.deteriorated) or (b.improved and a.deteriorated),
        "diverging_discrepancy": _apart(points),
        "not_on_track": t.not_on_track,
        "diverging": t.diverging,
        "not_on_track_reasons": "; ".join(t.not_on_track_reasons) or None,
        "diverging_reasons": "; ".join(t.diverging_reasons) or None,
        "reasons": trajectory_reasons(t),
        "stage_first": stages[0] if stages else pd.NA,
        "stage_latest": stages[-1] if stages else pd.NA,
    }
    row["first_reliable_improvement_session"], row["first_reliable_improvement_date"] = (
        _first_improvement(points, days, params)
    )
    for column in EXPECTED_COLUMNS:
        value = alerts[column]
        if column.startswith(_TEXT):
            value = None if _missing(value) else value
        if column in _ALERTS and expected is not None and value is None:
            value = Alert.NO_DATA
        row[column] = value
    return row


def _apart(points: Iterable[SessionPoint]) -> bool:
    """Partners diverging, rule 2 (couple_trajectory): the gap above DIVERGING_GAP in each
    of the last DIVERGING_SESSIONS jointly rated sessions with the latest pair of sources."""
    both = [p for p in points if p.eii_a is not None and p.eii_b is not None]
    if not both:
        return False
    latest = (both[-1].source_a, both[-1].source_b)
    same = [p for p in both if (p.source_a, p.source_b) == latest][-DIVERGING_SESSIONS:]
    return len(same) == DIVERGING_SESSIONS and all(
        abs(p.eii_a - p.eii_b) > DIVERGING_GAP + LINE_TOLERANCE  # type: ignore[operator]
        for p in same
    )


def trajectory_reasons(t: CoupleTrajectory) -> str:
    """The caseload's `reasons`: summary()'s not-on-track and partners-diverging parts."""
    parts = []
    if t.not_on_track:
        parts.append("not on track: " + "; ".join(t.not_on_track_reasons))
    if t.diverging:
        parts.append("partners diverging: " + "; ".join(t.diverging_reasons))
    return "; ".join(parts)


def _first_improvement(
    points: list[SessionPoint], days: list[pd.Timestamp], params: ReliableChangeParams
) -> tuple[float, object]:
    """Held sessions up to and including the first at which a partner's EII is a
    reliable improvement over their first EII from the same source, and its date."""
    baselines: dict[tuple[str, str], float] = {}
    held = 0
    for point, day in zip(points, days, strict=True):
        held += point.held
        hit = False
        for key, eii, source in (
            ("a", point.eii_a, point.source_a),
            ("b", point.eii_b, point.source_b),
        ):
            if eii is None:
                continue
            baseline = baselines.setdefault((key, source), eii)
            hit = hit or classify_change(baseline, eii, params).status is Change.IMPROVED
        if hit:
            return float(held), day
    return np.nan, pd.NaT
