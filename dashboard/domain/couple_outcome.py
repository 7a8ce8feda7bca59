"""A couple's outcome, judged from its two partners (DOMAIN.md: outcome is partner-level).

The couple-mean EII can average a partner who got better with one who got worse into
"no reliable change": a clinic acting on that misses the partner who is getting worse.
So a couple's outcome is read from the partners' own statuses (scoring.PartnerTrajectory),
worst case first:

1. "Mixed: one improved, one deteriorated": one partner reliably improved, the other
   reliably deteriorated;
2. "Deteriorated": at least one partner reliably deteriorated, none improved;
3. "Both improved": both partners reliably improved;
4. "One partner improved": exactly one reliably improved, none deteriorated; the other
   has no reliable change or cannot be judged yet;
5. "No reliable change": no partner changed reliably, at least one partner judged;
6. "Not yet measurable": neither partner can be judged yet.

A couple with a reliably deteriorated partner is therefore never "improved" or "no
reliable change". Every place that shows a couple's outcome (review chart, attention
list, clinic overview, caseload tables, PDF) uses these words. Pure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain.scoring import Change

BOTH_IMPROVED = "Both improved"
ONE_IMPROVED = "One partner improved"
NO_CHANGE = "No reliable change"
MIXED = "Mixed: one improved, one deteriorated"
DETERIORATED = "Deteriorated"
TOO_EARLY = "Not yet measurable"

# Chart and table order: better outcomes first, the ones to act on next, then too early.
OUTCOMES: tuple[str, ...] = (BOTH_IMPROVED, ONE_IMPROVED, NO_CHANGE, MIXED, DETERIORATED, TOO_EARLY)

# What each category counts, for legends and help texts.
OUTCOME_HELP: dict[str, str] = {
    BOTH_IMPROVED: "both partners reliably improved",
    ONE_IMPROVED: (
        "one partner reliably improved; the other has no reliable change or cannot be "
        "judged yet, and neither deteriorated"
    ),
    NO_CHANGE: "no partner changed reliably (at least one partner could be judged)",
    MIXED: "one partner reliably improved while the other reliably deteriorated",
    DETERIORATED: "at least one partner reliably deteriorated and neither improved",
    TOO_EARLY: "neither partner can be judged yet",
}

OUTCOME_RULE = (
    "Outcome is judged per partner (each partner's EII, first vs latest rating, "
    "Jacobson–Truax reliable change) and put together worst case first: "
    + "; ".join(f"{label}: {OUTCOME_HELP[label]}" for label in OUTCOMES)
    + "."
)


def couple_outcome(status_a: Change | None, status_b: Change | None) -> str:
    """The couple's outcome from its partners' statuses (None: cannot be judged yet)."""
    statuses = (status_a, status_b)
    improved = statuses.count(Change.IMPROVED)
    deteriorated = statuses.count(Change.DETERIORATED)
    if improved and deteriorated:
        return MIXED
    if deteriorated:
        return DETERIORATED
    if improved == 2:
        return BOTH_IMPROVED
    if improved == 1:
        return ONE_IMPROVED
    if Change.NO_RELIABLE_CHANGE in statuses:
        return NO_CHANGE
    return TOO_EARLY


def couple_outcomes(status_a: pd.Series, status_b: pd.Series) -> pd.Series:
    """couple_outcome for many couples at once (aligned Series of Change or None)."""
    a, b = status_a.to_numpy(dtype=object), status_b.to_numpy(dtype=object)
    improved = (a == Change.IMPROVED).astype(int) + (b == Change.IMPROVED).astype(int)
    deteriorated = (a == Change.DETERIORATED).astype(int) + (b == Change.DETERIORATED).astype(int)
    judged = (a == Change.NO_RELIABLE_CHANGE) | (b == Change.NO_RELIABLE_CHANGE)
    words = np.select(
        [
            (improved > 0) & (deteriorated > 0),
            deteriorated > 0,
            improved == 2,
            improved == 1,
            judged,
        ],
        [MIXED, DETERIORATED, BOTH_IMPROVED, ONE_IMPROVED, NO_CHANGE],
        default=TOO_EARLY,
    )
    return pd.Series(words, index=status_a.index, dtype=object)
