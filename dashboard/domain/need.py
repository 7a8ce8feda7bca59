"""Who needs attention first: the order of a caseload by need.

Pure: a caseload frame (one row per couple, with its flags as booleans) in, the same
rows in order out.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.domain.expected_response import ALERT_RANK, Alert

# How My caseload can be ordered: by need (the default), by the expected course (worst
# first) or by case code.
BY_NEED = "Need"
BY_EXPECTED = "Expected course"
BY_CASE_CODE = "Case code"
CASELOAD_ORDERS: tuple[str, ...] = (BY_NEED, BY_EXPECTED, BY_CASE_CODE)
NEED_ORDER = ("safety", "not_on_track", "overdue", "needs_attention")
# My caseload's expected-course filter: the cell's words, worst first.
EXPECTED_FILTERS: tuple[str, ...] = tuple(
    a.value for a in sorted(Alert, key=lambda a: ALERT_RANK[a], reverse=True)
)


def at_expected(frame: pd.DataFrame, alerts: Sequence[str]) -> pd.DataFrame:
    """The caseload's rows whose couple's expected-course alert (its worse partner's,
    `expected_alert`) is one of `alerts`; every row when none is chosen."""
    if not alerts:
        return frame
    return frame[frame["expected_alert"].astype(str).isin([str(a) for a in alerts])]


def order_caseload(frame: pd.DataFrame, order: str = BY_NEED) -> pd.DataFrame:
    """The caseload's rows, by need, by expected course or by case code; a fresh 0..n-1
    index.

    By need: a safety flag first, then not on track, then overdue (active, no session
    for too long), then the rest of the attention list (partners diverging), then everyone
    else; case code order within each group. A couple with several needs sorts by its
    first one (safety and overdue sorts with safety, before not on track alone).
    By expected course: worst first (`expected_rank`: well below expected, below
    expected, on course, no data yet), case code order within each.
    """
    if order == BY_EXPECTED:
        ranked = frame.assign(_rank=frame["expected_rank"].astype("int64"))
        ranked = ranked.sort_values(["_rank", "case_code"], ascending=[False, True], kind="stable")
        return ranked.drop(columns="_rank").reset_index(drop=True)
    if order != BY_NEED:
        return frame.sort_values("case_code", kind="stable").reset_index(drop=True)
    keys = [frame[c].astype(bool) for c in NEED_ORDER]
    ranked = frame.assign(**{f"_need_{i}": key for i, key in enumerate(keys)})
    columns = [f"_need_{i}" for i in range(len(keys))]
    ranked = ranked.sort_values(
        [*columns, "case_code"], ascending=[False] * len(columns) + [True], kind="stable"
    )
    return ranked.drop(columns=columns).reset_index(drop=True)
