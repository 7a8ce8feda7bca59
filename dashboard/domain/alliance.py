"""Split alliance (DOMAIN.md, Scoring): the partners differ in their alliance with the
counselor, read from each partner's own alliance-scale total (the SRS) at one session.

The rule and its sources live in the scale's definition file ([split_alliance] in
instruments/definitions/srs.toml; loader.SplitAllianceRule). It has three answers, never
two: flagged, not flagged, or absent when no session has both partners' totals (or the
clinic does not use the scale), and an absent flag is never shown as "no".

`split_alliance` is the rule for one couple (the timeline, the report, My caseload);
`split_alliances` is its vectorized mirror for the caseload review, proven equal to it
field by field by tests/unit/test_split_alliance.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd

from dashboard.domain.instruments import SplitAllianceRule
from dashboard.domain.numbers import one_decimal


class AllianceFlag(StrEnum):
    """The three answers of the split-alliance rule."""

    SPLIT = "split alliance"
    NOT_SPLIT = "no split alliance"
    ABSENT = "not judged"


@dataclass(frozen=True)
class AlliancePoint:
    """One session's alliance totals, a partner's None when they have none there."""

    session_id: int
    session_date: date
    total_a: float | None
    total_b: float | None


@dataclass(frozen=True)
class SplitAlliance:
    """The rule's answer for one couple, with the session and totals it read."""

    state: AllianceFlag
    rule: SplitAllianceRule | None  # None: no definition file states one
    in_use: bool = True  # False: the clinic does not use the scale (its licence is off)
    session_date: date | None = None  # the most recent session with both totals
    total_a: float | None = None
    total_b: float | None = None

    @property
    def flagged(self) -> bool:
        return self.state is AllianceFlag.SPLIT

    @property
    def judged(self) -> bool:
        return self.state is not AllianceFlag.ABSENT

    def reason(self) -> str:
        """The attention list's reason (partners as A and B, totals and cutoff), '' when
        not flagged: 'Partner A's SRS 34 is below the cutoff 36 while Partner B's 38 is
        at or above it (session of 3 Nov 2026)'."""
        if not self.flagged or self.rule is None or self.session_date is None:
            return ""
        return split_reason(self.rule, self.session_date, self.total_a, self.total_b)


def split_reason(
    rule: SplitAllianceRule, day: date, total_a: float | None, total_b: float | None
) -> str:
    """The reason words of a flagged couple (shared by both paths, so they agree)."""
    a, b = float(total_a or 0.0), float(total_b or 0.0)
    low, high = (("Partner A", a), ("Partner B", b))[:: 1 if rule.is_below(a) else -1]
    return (
        f"{low[0]}'s {rule.name} {one_decimal(low[1])} is below the cutoff {rule.cutoff:g} "
        f"while {high[0]}'s {one_decimal(high[1])} is at or above it "
        f"(session of {day.day} {day:%b %Y})"
    )


def split_alliance(
    points: Sequence[AlliancePoint], rule: SplitAllianceRule | None, *, in_use: bool = True
) -> SplitAlliance:
    """At the most recent session (by date, then session id) where both partners have a
    total: one below the rule's cutoff while the other is at or above it. No rule, the
    scale not in use (totals stored before its licence was switched off are not read),
    or no such session: absent."""
    if rule is None or not in_use:
        return SplitAlliance(AllianceFlag.ABSENT, rule, in_use=in_use)
    both = [p for p in points if p.total_a is not None and p.total_b is not None]
    if not both:
        return SplitAlliance(AllianceFlag.ABSENT, rule)
    last = max(both, key=lambda p: (p.session_date, p.session_id))
    a, b = float(last.total_a or 0.0), float(last.total_b or 0.0)
    split = rule.is_below(a) != rule.is_below(b)
    return SplitAlliance(
        AllianceFlag.SPLIT if split else AllianceFlag.NOT_SPLIT,
        rule,
        session_date=last.session_date,
        total_a=a,
        total_b=b,
    )


# The vectorized mirror's input (one row per session with any total of the scale) and
# output (index couple_id; split_alliance is <NA> when absent).
TOTALS_INPUT = ["couple_id", "session_id", "session_date", "total_a", "total_b"]
SPLIT_COLUMNS = ["split_alliance", "alliance_date", "alliance_a", "alliance_b", "alliance_reason"]


def split_alliances(
    totals: pd.DataFrame,
    rule: SplitAllianceRule | None,
    couple_ids: Sequence[int],
    *,
    in_use: bool = True,
) -> pd.DataFrame:
    """SPLIT_COLUMNS for every couple in `couple_ids` (index couple_id), the same answers
    as `split_alliance` couple by couple: split_alliance True / False / <NA> (absent),
    the session's date (NaT when absent), both totals, and the reason when flagged."""
    index = pd.Index(list(couple_ids), name="couple_id", dtype="int64")
    out = pd.DataFrame(index=index)
    out["split_alliance"] = pd.Series(pd.NA, index=index, dtype="boolean")
    out["alliance_date"] = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    out["alliance_a"] = np.nan
    out["alliance_b"] = np.nan
    out["alliance_reason"] = ""
    if rule is None or not in_use or totals.empty:
        return out
    both = totals[totals["total_a"].notna() & totals["total_b"].notna()]
    last = (
        both.sort_values(["couple_id", "session_date", "session_id"], kind="stable")
        .drop_duplicates("couple_id", keep="last")
        .set_index("couple_id")
    )
    last = last[last.index.isin(index)]
    a, b = last["total_a"].astype(float), last["total_b"].astype(float)
    if rule.below_is_strict:
        a_below, b_below = a < rule.cutoff - 1e-9, b < rule.cutoff - 1e-9
    else:
        a_below, b_below = a <= rule.cutoff + 1e-9, b <= rule.cutoff + 1e-9
    split = a_below.ne(b_below)
    out.loc[last.index, "split_alliance"] = split.astype("boolean")
    out.loc[last.index, "alliance_date"] = pd.to_datetime(last["session_date"]).astype(
        "datetime64[ns]"
    )
    out.loc[last.index, "alliance_a"] = a
    out.loc[last.index, "alliance_b"] = b
    flagged = last[split]
    out.loc[flagged.index, "alliance_reason"] = [
        split_reason(rule, pd.Timestamp(day).date(), x, y)
        for day, x, y in zip(
            flagged["session_date"], flagged["total_a"], flagged["total_b"], strict=True
        )
    ]
    return out


@dataclass(frozen=True, eq=False)
class AllianceTotals:
    """What the rule reads for many couples: the scale's totals per session (TOTALS_INPUT,
    from db/review_queries.py), the rule, and whether the clinic uses the scale."""

    totals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TOTALS_INPUT))
    rule: SplitAllianceRule | None = None
    in_use: bool = False

    def judged(self, couple_ids: Sequence[int], end: pd.Timestamp | None = None) -> pd.DataFrame:
        """SPLIT_COLUMNS per couple, from the sessions up to `end` (None: all)."""
        totals = self.totals
        if end is not None and not totals.empty:
            totals = totals[totals["session_date"] <= end]
        return split_alliances(totals, self.rule, list(couple_ids), in_use=self.in_use)

    def one(self, couple_id: int) -> SplitAlliance:
        """The rule for one couple (the scalar path), from the same totals."""
        mine = self.totals[self.totals["couple_id"] == couple_id]
        points = [
            AlliancePoint(
                int(sid),
                pd.Timestamp(day).date(),
                None if pd.isna(a) else float(a),
                None if pd.isna(b) else float(b),
            )
            for sid, day, a, b in zip(
                mine["session_id"],
                mine["session_date"],
                mine["total_a"],
                mine["total_b"],
                strict=True,
            )
        ]
        return split_alliance(points, self.rule, in_use=self.in_use)


NO_ALLIANCE = AllianceTotals()


def as_frame(results: dict[int, SplitAlliance]) -> pd.DataFrame:
    """SPLIT_COLUMNS of answers judged one couple at a time (index couple_id), the shape
    `split_alliances` gives, so both paths feed the same table code."""
    index = pd.Index(list(results), name="couple_id", dtype="int64")
    values = list(results.values())
    return pd.DataFrame(
        {
            "split_alliance": pd.array(
                [r.flagged if r.judged else pd.NA for r in values], dtype="boolean"
            ),
            "alliance_date": pd.to_datetime(
                [r.session_date for r in values]  # None -> NaT
            ).astype("datetime64[ns]"),
            "alliance_a": [np.nan if r.total_a is None else r.total_a for r in values],
            "alliance_b": [np.nan if r.total_b is None else r.total_b for r in values],
            "alliance_reason": [r.reason() for r in values],
        },
        index=index,
    )


def with_alliance(frame: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """Split alliance beside the trajectory flags: `alliance` says the rule's answer
    (AllianceFlag: split / not split / not judged), `split_alliance` is the flag alone,
    and its reason joins the trajectory's ("...; split alliance: Partner A's SRS ...")."""
    frame = frame.join(judged, how="left")
    flag = frame["split_alliance"].astype("boolean")
    frame["alliance"] = np.where(
        flag.isna(),
        AllianceFlag.ABSENT.value,
        np.where(flag.fillna(False), AllianceFlag.SPLIT.value, AllianceFlag.NOT_SPLIT.value),
    ).astype(object)
    frame["split_alliance"] = flag.fillna(False).astype(bool)
    reason = frame["alliance_reason"].fillna("").astype(str)
    extra = ("split alliance: " + reason).where(frame["split_alliance"], "")
    both = frame["reasons"].ne("") & extra.ne("")
    frame["reasons"] = frame["reasons"] + np.where(both, "; ", "") + extra
    return frame
