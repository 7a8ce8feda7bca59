"""My caseload's order by need, and the safety line's words (pure)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.domain.need import BY_CASE_CODE, BY_NEED, order_caseload
from dashboard.domain.safety import SafetyFlag, flag_line, safety_line

# case code: (safety, not on track, overdue, needs attention)
ROWS = {
    "C-2026-0001": (False, False, False, False),  # calm
    "C-2026-0002": (False, False, True, False),  # overdue only
    "C-2026-0003": (False, True, False, True),  # not on track
    "C-2026-0004": (True, False, False, True),  # safety only
    "C-2026-0005": (False, False, False, True),  # partners diverging only
    "C-2026-0006": (False, True, True, True),  # not on track and overdue
    "C-2026-0007": (True, True, False, True),  # safety and not on track
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        [(code, *flags) for code, flags in reversed(ROWS.items())],
        columns=["case_code", "safety", "not_on_track", "overdue", "needs_attention"],
    )


def test_need_puts_safety_then_not_on_track_then_overdue_then_the_rest_first() -> None:
    ordered = order_caseload(_frame(), BY_NEED)
    assert ordered["case_code"].tolist() == [
        "C-2026-0007",  # safety, also not on track
        "C-2026-0004",  # safety
        "C-2026-0006",  # not on track, also overdue
        "C-2026-0003",  # not on track
        "C-2026-0002",  # overdue
        "C-2026-0005",  # the rest of the attention list (partners diverging)
        "C-2026-0001",  # everyone else
    ]
    assert ordered.index.tolist() == list(range(7))
    assert list(ordered.columns) == list(_frame().columns)


def test_one_click_back_to_case_code_order() -> None:
    ordered = order_caseload(_frame(), BY_CASE_CODE)
    assert ordered["case_code"].tolist() == sorted(ROWS)


def test_the_safety_line_gives_every_date_oldest_first() -> None:
    assert safety_line([]) == ""
    assert safety_line(["2 Mar 2026"]) == "Safety flag at the session of 2 Mar 2026"
    flags = [
        SafetyFlag(date(2026, 11, 9), True, "c"),
        SafetyFlag(date(2026, 8, 31), True, "a"),
        SafetyFlag(date(2026, 9, 14), False, "b"),
    ]
    assert flag_line(flags) == "Safety flag at 3 sessions: 31 Aug 2026, 14 Sep 2026, 9 Nov 2026"
