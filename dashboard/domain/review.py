"""The supervisor's caseload review: per-counselor numbers, the attention list, the charts.

Pure: frames in (read by db/review_queries.py with SQL aggregates), frames out, computed
with groupby / merge / pivot over the whole selection, never a loop over couples. The
trajectory judgement itself is outcomes.caseload_outcomes (proven equal to
scoring.couple_trajectory), so a couple is "not on track" here exactly when its timeline
says so.

Dates: the review looks at a date range [start, end]. Outcomes and stages are judged
"as at the end of the range" (sessions dated up to `end`); activity (sessions per week,
barrier prevalence, sessions in the range) counts sessions inside the range; the
recent-activity numbers (last 30 / 90 days) and overdue cases are counted back from
`today`, whatever the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from dashboard.domain.alliance import (
    NO_ALLIANCE,
    AllianceFlag,
    AllianceTotals,
    as_frame,
    with_alliance,
)
from dashboard.domain.catalog import STAGES, STATUS_LABELS, CoupleStatus, stage_label
from dashboard.domain.couple_outcome import OUTCOMES, TOO_EARLY, couple_outcome
from dashboard.domain.expected_response import ALERT_RANK, Alert, ExpectedModel
from dashboard.domain.figures_per_couple import figures_per_couple
from dashboard.domain.outcomes import (
    EXPECTED_COLUMNS,
    TRAJECTORY_FLAGS,
    alert_columns,
    caseload_outcomes,
)
from dashboard.domain.outcomes_per_couple import trajectory_reasons
from dashboard.domain.plain_words import SPLIT_ALLIANCE, expected_cell, expected_numbers
from dashboard.domain.review_counts import (
    HELD_COLUMNS,
    SessionCounts,
    session_counts,
)
from dashboard.domain.safety import SAFETY, safety_line
from dashboard.domain.same_source import COUNSELOR
from dashboard.domain.scoring import (
    ReliableChangeParams,
    SessionPoint,
    couple_trajectory,
)

NOT_RATED = stage_label(None)
STAGE_LABELS: tuple[str, ...] = (*(s.label for s in STAGES), NOT_RATED)

# Attendance groups of the sessions-per-week chart.
HELD_LABEL = "Held"
NO_SHOW_LABEL = "No-show"
CANCELLED_LABEL = "Cancelled"
ATTENDANCE_GROUPS: tuple[str, ...] = (HELD_LABEL, NO_SHOW_LABEL, CANCELLED_LABEL)


# Input frames (columns, in order).
COUNSELOR_INPUT = ["counselor_id", "counselor"]
COUPLE_INPUT = [
    "couple_id",
    "case_code",
    "counselor_id",
    "status",
    "intake_date",  # datetime64
    "closed_at",  # datetime64, NaT unless closed
]
SESSION_INPUT = [
    "couple_id",
    "session_id",
    "session_date",  # datetime64, ordered by (couple_id, session_date, session_id)
    "attendance",  # Attendance value
    "held",  # bool
    "stage",  # Int64
    "eii_a",
    "eii_b",
    "safety_flag",  # bool
    "source_a",  # who gave eii_a: "counselor" / "self" (None without an EII)
    "source_b",
]
BARRIER_INPUT = ["session_date", "barrier", "tagged", "severity_sum"]  # per day and barrier

# Output frames.
COUNSELOR_COLUMNS = [
    "counselor_id",
    "counselor",
    "couples",
    "active",
    "sessions_30d",
    "sessions_90d",
    "sessions_in_range",
    "overdue",
    *(f"outcome_{o}" for o in OUTCOMES),
    "not_on_track",
    "diverging",
    "split_alliance",  # couples flagged
    "alliance_judged",  # couples with both partners' alliance totals at one session
    "safety",
    "needs_attention",
    *(f"stage_{label}" for label in STAGE_LABELS),
]
ATTENTION_COLUMNS = [
    "couple_id",
    "case_code",
    "counselor",
    "status",
    "last_session",
    "sessions_held",
    "outcome",
    "flags",
    "reasons",
    "attention_key",
    "expected",  # the expected-course cell: "well below expected — Partner A", ...
    "expected_rank",  # expected_response.ALERT_RANK of it: sorts worst first
    "expected_numbers",  # the numbers behind it, for the couple chosen (one click away)
]
MONTHLY_COLUMNS = [
    "month",
    "new_couples",
    "closed_couples",
    "improved_couples",
    "median_sessions_to_improvement",
]


@dataclass(frozen=True)
class ReviewWindow:
    """The date range under review, the day it is today, and the overdue rule."""

    start: date
    end: date
    today: date
    overdue_days: int


@dataclass(frozen=True)
class CaseloadReview:
    """Everything the caseload review page and its charts show, for one selection.

    couples: one row per couple in the selection (outcome, stages, attention flags).
    counselors: one row per counselor in scope (COUNSELOR_COLUMNS), including those
        with no couple in the selection; `totals` is the same numbers over everyone.
    attention: ATTENTION_COLUMNS, couples not on track, with partners diverging, in a
        split alliance (SRS) or with a safety flag at any session of the course
        (domain/safety.py), worst first.
    outcome_mix: counselor, outcome, couples (long; every counselor x OUTCOMES).
    stage_distribution: counselor, stage, couples (long; every counselor x STAGE_LABELS).
    stage_flow: intake_stage, current_stage, couples (labels; couples with both rated).
    barrier_months: month, barrier, tagged, sessions_held, share, mean_severity,
        days_in_range, days_in_month (a month only partly in the range has fewer).
    weekly_sessions: week (Monday), attendance (ATTENDANCE_GROUPS), sessions.
    monthly: MONTHLY_COLUMNS, new / closed couples and the median number of sessions
        held to the first reliable improvement, by month of the range.
    """

    window: ReviewWindow
    couples: pd.DataFrame
    counselors: pd.DataFrame
    totals: pd.Series
    attention: pd.DataFrame
    outcome_mix: pd.DataFrame
    stage_distribution: pd.DataFrame
    stage_flow: pd.DataFrame
    barrier_months: pd.DataFrame
    weekly_sessions: pd.DataFrame
    monthly: pd.DataFrame
    # ATTENTION_COLUMNS of the couples below or well below their expected course that are
    # NOT on the attention list (below alone is a warning): the "Below expected course"
    # filter finds them too (listed_for).
    below_expected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=ATTENTION_COLUMNS)
    )
    alliance_in_use: bool = False  # the clinic uses the SRS: split alliance can be judged
    norms_label: str = ""  # the clinic norms version the outcomes and flags used
    expected_label: str = ""  # the expected-course model the alerts used (its version)


# The flags that put a couple on the attention list, in the order a key lists them.
ATTENTION_FLAGS = (*TRAJECTORY_FLAGS, "split_alliance")
# Each flag column of the attention list and its word ("Listed for"), safety first.
FLAG_WORDS = (
    ("safety", SAFETY),
    ("not_on_track", "Not on track"),
    ("diverging", "Partners diverging"),
    ("split_alliance", SPLIT_ALLIANCE),
)
# "Listed for" also offers the expected course: every couple of the selection below it
# (a warning, not a reason to list) or well below it (not on track), on the list or not.
BELOW_EXPECTED = "Below expected course"
ATTENTION_FILTERS = (*(word for _, word in FLAG_WORDS), BELOW_EXPECTED)
# How a couple found by BELOW_EXPECTED but not on the attention list reads.
NOT_LISTED_FLAGS = "Not listed: below expected"
NOT_LISTED_REASON = (
    "Below the expected course: a warning, not a reason to list the couple (only well "
    "below it is not on track). The numbers are below; the timeline shows the course."
)
NOT_LISTED_REVIEW = "Not on the list"


def listed_for(
    attention: pd.DataFrame, chosen: Sequence[str], not_listed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The attention list's rows listed for any of the `chosen` ATTENTION_FILTERS (all
    rows when none is chosen): a flag word in `flags`, or an expected-course alert of
    "below expected" or worse for BELOW_EXPECTED. With BELOW_EXPECTED, the couples of
    `not_listed` (CaseloadReview.below_expected: below, not on the list) come after, so
    a couple only below expected is found rather than read as none; they carry
    NOT_LISTED_FLAGS, an empty attention_key (nothing to mark reviewed) and, when the
    list has review columns, NOT_LISTED_REVIEW."""
    if not chosen:
        return attention
    keep = pd.Series(False, index=attention.index)
    flags = attention["flags"].astype(str)
    for word in chosen:
        if word == BELOW_EXPECTED:
            keep |= attention["expected_rank"].ge(ALERT_RANK[Alert.BELOW])
        else:
            keep |= flags.str.split(" · ").map(lambda parts, w=word: w in parts).astype(bool)
    found = attention[keep]
    if BELOW_EXPECTED not in chosen or not_listed is None or not_listed.empty:
        return found
    extra = not_listed[not_listed["expected_rank"].ge(ALERT_RANK[Alert.BELOW])].copy()
    extra = extra[~extra["couple_id"].isin(found["couple_id"])]
    if "review" in attention.columns:
        extra["review"] = NOT_LISTED_REVIEW
        extra["reviewed"] = False
        for column in ("reviewed_key", "reviewer", "comment"):
            extra[column] = None
    if found.empty:
        return extra.reset_index(drop=True)
    return pd.concat([found, extra], ignore_index=True)


def month_start(values: pd.Series) -> pd.Series:
    """The first day of each date's month, as datetime64."""
    return values.dt.to_period("M").dt.to_timestamp()


def week_start(values: pd.Series) -> pd.Series:
    """The Monday of each date's week, as datetime64."""
    days = values.dt.normalize()
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def short_date(values: pd.Series) -> pd.Series:
    """'3 Mar 2026' for each date (no platform-specific strftime flags)."""
    return values.dt.day.astype("Int64").astype(str) + values.dt.strftime(" %b %Y")


def build_review(
    counselors: pd.DataFrame,
    couples: pd.DataFrame,
    sessions: pd.DataFrame | SessionCounts,
    barriers: pd.DataFrame,
    params: ReliableChangeParams,
    window: ReviewWindow,
    statuses: tuple[str, ...] = (),
    alliance: AllianceTotals = NO_ALLIANCE,
    expected: ExpectedModel | None = None,
    figures: pd.DataFrame | None = None,
) -> CaseloadReview:
    """The caseload review of one selection.

    counselors (COUNSELOR_INPUT): the counselors under review, in display order.
    couples (COUPLE_INPUT): their couples open at some time in the range, every status;
        `statuses` (empty = all) then narrows the selection. The per-month table counts
        every status, so closings are counted even while the page shows open cases.
    sessions (SESSION_INPUT): every live session of those couples, all dates.
    barriers (BARRIER_INPUT): barrier tags at held sessions in the range, per day.
    alliance: the alliance scale's totals (SRS) and rule; split alliance as at the range end.
    expected: the expected-course model (EII); its alert joins not on track.
    figures: couple_figures of these couples as at the range end, already known (the
        summary rows); `sessions` are then the chosen couples' SessionCounts (counted by
        the database), and alliance / expected are not read.
    """
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    if figures is None:
        everyone = _couple_table(couples, sessions, params, window, alliance, expected)
    else:
        everyone = with_today(couples, figures, window)
    chosen = everyone[everyone["status"].isin(statuses)] if statuses else everyone
    if isinstance(sessions, SessionCounts):
        counts = sessions
    else:
        counts = session_counts(
            sessions[sessions["couple_id"].isin(chosen.index)],
            chosen["counselor_id"],
            window.start,
            window.end,
            window.today,
        )

    table = _counselor_table(counselors, chosen, counts.per_counselor)
    totals = table.drop(columns=["counselor_id", "counselor"]).sum()
    names = counselors.set_index("counselor_id")["counselor"]
    return CaseloadReview(
        window=window,
        couples=chosen,
        counselors=table,
        totals=totals,
        attention=_attention(chosen, names),
        below_expected=_below_not_listed(chosen, names),
        outcome_mix=_long(table, OUTCOMES, "outcome"),
        stage_distribution=_long(table, STAGE_LABELS, "stage"),
        stage_flow=_stage_flow(chosen),
        barrier_months=_barrier_months(barriers, counts.per_day, start, end),
        weekly_sessions=_weekly(counts.per_day, start, end),
        monthly=_monthly(everyone, start, end),
        alliance_in_use=alliance.in_use,
    )


def _couple_table(
    couples: pd.DataFrame,
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    window: ReviewWindow,
    alliance: AllianceTotals = NO_ALLIANCE,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """One row per couple: outcome as at the range end, stages, last session, flags."""
    figures = couple_figures(couples, sessions, params, window.end, alliance, expected)
    return with_today(couples, figures, window)


# Up to this many couples, couple_figures builds its frame couple by couple (the same
# frame, figures_per_couple.py): a save's own couple (its summary row, in the write
# transaction) costs a few milliseconds instead of ~100 of pandas' overhead.
PER_COUPLE_FIGURES_MAX = 20


def couple_figures(
    couples: pd.DataFrame,
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    end: date,
    alliance: AllianceTotals = NO_ALLIANCE,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """Per couple (index couple_id): every figure the review shows about it as at `end`,
    nothing that depends on today. What a couple's summary row stores (judged over all
    its sessions) and what the review computes on the fly for a past range end."""
    if len(couples) <= PER_COUPLE_FIGURES_MAX:
        return figures_per_couple(couples, sessions, params, end, alliance, expected)
    end = pd.Timestamp(end)
    frame = couples.set_index("couple_id")[[]]
    as_of = sessions[sessions["session_date"] <= end]
    outcomes = caseload_outcomes(
        as_of[
            [
                "couple_id",
                "session_id",
                "session_date",
                "held",
                "stage",
                "eii_a",
                "eii_b",
                *[c for c in ("source_a", "source_b") if c in as_of.columns],
            ]
        ],
        params,
        expected,
    )
    frame = frame.join(outcomes, how="left")
    frame = _with_expected(frame, expected)
    frame["sessions_held"] = frame["sessions_held"].fillna(0).astype("int64")
    for flag in (*TRAJECTORY_FLAGS, "not_on_track", "diverging"):
        frame[flag] = frame[flag].astype("boolean").fillna(False).astype(bool)
    frame["reasons"] = frame["reasons"].fillna("")
    frame = with_alliance(frame, alliance.judged(frame.index, end))
    frame["outcome"] = frame["outcome"].fillna(TOO_EARLY).astype(object)

    frame["intake_stage"] = _stage_labels(frame["stage_first"])
    frame["current_stage"] = _stage_labels(frame["stage_latest"])

    held = as_of[as_of["held"]].drop_duplicates("couple_id", keep="last").set_index("couple_id")
    frame["last_session"] = held["session_date"].reindex(frame.index)
    frame = frame.join(safety_columns(as_of), how="left")
    frame["safety"] = frame["safety"].astype("boolean").fillna(False).astype(bool)
    frame["safety_reason"] = frame["safety_reason"].fillna("").astype(str)
    # Overdue is about today, whatever the range: the last session held so far.
    seen = sessions[sessions["held"]].groupby("couple_id")["session_date"].max()
    frame["last_held_ever"] = seen.reindex(frame.index)
    frame["needs_attention"] = (
        frame["not_on_track"] | frame["diverging"] | frame["split_alliance"] | frame["safety"]
    )
    frame["attention_reasons"] = _attention_reasons(frame)
    frame["attention_key"] = _attention_key(frame)
    return frame


def with_today(couples: pd.DataFrame, figures: pd.DataFrame, window: ReviewWindow) -> pd.DataFrame:
    """The couples (COUPLE_INPUT) with their figures and what depends on today: days
    without a session and overdue (from the last session held and the intake date)."""
    frame = couples.set_index("couple_id").join(figures, how="left")
    today = pd.Timestamp(window.today)
    since = frame["last_held_ever"].fillna(frame["intake_date"])
    frame["days_without_session"] = (today - since).dt.days.astype("int64")
    frame["overdue"] = frame["status"].eq(CoupleStatus.ACTIVE) & (
        frame["days_without_session"] > window.overdue_days
    )
    frame["status_label"] = frame["status"].map(
        {status.value: label for status, label in STATUS_LABELS.items()}
    )
    return frame


def _with_expected(frame: pd.DataFrame, expected: ExpectedModel | None) -> pd.DataFrame:
    """The expected-course cell and its rank: a couple with no session has no data yet;
    without a model the cell is empty (rank 0)."""
    for column in ("expected_alert", "expected_partner"):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    if expected is not None:
        frame["expected_alert"] = frame["expected_alert"].fillna(Alert.NO_DATA)
    alerts = frame["expected_alert"].tolist()
    partners = frame["expected_partner"].tolist()
    frame["expected"] = [
        "" if a is None else expected_cell(a, p) for a, p in zip(alerts, partners, strict=True)
    ]
    ranks = [0 if a is None else ALERT_RANK[Alert(a)] for a in alerts]
    frame["expected_rank"] = pd.Series(ranks, index=frame.index, dtype="int64")
    return frame


def safety_columns(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per couple with a safety-flagged session (index couple_id), over every session
    given (the whole course; domain/safety.py says why): safety (True),
    safety_session_id (the latest flagged session: a review is filed against it),
    safety_reason ('Safety flag at 3 sessions: 31 Aug 2026, ...').

    Sessions come ordered by (couple_id, session_date, session_id). Only flagged
    sessions are grouped, so the per-group join runs over the few couples with flags.
    """
    flagged = sessions[sessions["safety_flag"].astype(bool)]
    days = flagged.assign(day=short_date(flagged["session_date"])).groupby("couple_id")
    out = pd.DataFrame(
        {
            "safety": days.size() > 0,
            "safety_session_id": days["session_id"].last().astype("Int64"),
            "safety_reason": days["day"].agg(lambda d: safety_line(d.tolist())),
        }
    )
    out.index.name = "couple_id"
    return out


# Up to this many couples, flags are judged couple by couple with
# scoring.couple_trajectory (the rules' reference, which caseload_outcomes is proven to
# equal): for one counselor's caseload that is a few milliseconds, where the vectorized
# path's fixed pandas cost is tens. Above it, the vectorized path wins.
PER_COUPLE_FLAGS_MAX = 150


def couple_flags(
    couples: pd.DataFrame,
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    today: date,
    alliance: AllianceTotals = NO_ALLIANCE,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """Per couple (index couple_id): the attention list's flags and reasons as of today.

    Exactly the attention list's rules and words: flags "Safety · Not on track · Partners
    diverging · Split alliance" (empty when none), reasons in words, needs_attention; the
    couple's outcome (couple_outcome.py, the review chart's words); the safety and
    not_on_track flags alone, which order a caseload by need; split_alliance and
    `alliance`, the rule's answer of three (AllianceFlag values); the expected course
    (`expected`: its cell words, `expected_rank`, `expected_alert` and
    `expected_partner`, the partner with the worse alert).
    """
    if len(couples) <= PER_COUPLE_FLAGS_MAX:
        table = _flag_table_per_couple(couples, sessions, params, alliance, expected)
    else:
        window = ReviewWindow(start=today, end=today, today=today, overdue_days=1)
        table = _couple_table(couples, sessions, params, window, alliance, expected)
    return flags_of(table)


def flags_of(table: pd.DataFrame) -> pd.DataFrame:
    """couple_flags' columns from a per-couple table (couple_figures' columns, or the
    scalar path's): what My caseload shows beside each couple."""
    return pd.DataFrame(
        {
            "flags": flag_words(table),
            "reasons": table["attention_reasons"].astype(str),
            "needs_attention": table["needs_attention"].astype(bool),
            "outcome": table["outcome"].astype(str),
            "safety": table["safety"].astype(bool),
            "not_on_track": table["not_on_track"].astype(bool),
            "split_alliance": table["split_alliance"].astype(bool),
            "alliance": table["alliance"].astype(str),
            "expected": table["expected"].astype(str),
            "expected_rank": table["expected_rank"].astype("int64"),
            "expected_alert": table["expected_alert"].astype(object),
            "expected_partner": table["expected_partner"].astype(object),
        },
        index=table.index,
    )


def _flag_table_per_couple(
    couples: pd.DataFrame,
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    alliance: AllianceTotals = NO_ALLIANCE,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """The columns `_attention_reasons` and `_flag_words` read, couple by couple."""
    points: dict[int, list[SessionPoint]] = {}
    flagged: dict[int, list[str]] = {}
    columns = ("couple_id", "session_date", "held", "stage", "eii_a", "eii_b", "safety_flag")
    sources = [
        sessions[c].tolist() if c in sessions.columns else [None] * len(sessions)
        for c in ("source_a", "source_b")
    ]
    for couple_id, day, held, stage, a, b, safety, source_a, source_b in zip(
        *(sessions[c].tolist() for c in columns), *sources, strict=True
    ):
        points.setdefault(couple_id, []).append(
            SessionPoint(
                session_date=day.date(),
                held=bool(held),
                stage=None if pd.isna(stage) else int(stage),
                eii_a=None if pd.isna(a) else float(a),
                eii_b=None if pd.isna(b) else float(b),
                source_a=source_a if isinstance(source_a, str) else COUNSELOR,
                source_b=source_b if isinstance(source_b, str) else COUNSELOR,
            )
        )
        if safety:  # sessions come in date order: the dates stay oldest first
            flagged.setdefault(couple_id, []).append(f"{day.day} {day:%b %Y}")
    rows = []
    for couple_id in couples["couple_id"].tolist():
        t = couple_trajectory(points.get(couple_id, []), params, expected)
        days = flagged.get(couple_id, [])
        alert = alert_columns(t.expected)
        rows.append(
            (couple_id, t.not_on_track, t.diverging, trajectory_reasons(t), bool(days))
            + (safety_line(days), couple_outcome(t.partner_a.status, t.partner_b.status))
            + (alert["expected_alert"], alert["expected_partner"])
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "couple_id",
            "not_on_track",
            "diverging",
            "reasons",
            "safety",
            "safety_reason",
            "outcome",
            "expected_alert",
            "expected_partner",
        ],
    ).set_index("couple_id")
    frame = _with_expected(frame, expected)
    judged = as_frame({cid: alliance.one(cid) for cid in frame.index.tolist()})
    frame = with_alliance(frame, judged)
    frame["needs_attention"] = (
        frame["not_on_track"] | frame["diverging"] | frame["split_alliance"] | frame["safety"]
    ).astype(bool)
    frame["attention_reasons"] = _attention_reasons(frame)
    return frame


def _stage_labels(numbers: pd.Series) -> pd.Series:
    labels = {s.number: s.label for s in STAGES}
    return numbers.astype("Int64").map(labels).fillna(NOT_RATED).astype(str)


def _attention_reasons(frame: pd.DataFrame) -> pd.Series:
    """The safety flag with its dates first, then the trajectory reasons, capitalised."""
    reasons = frame["reasons"].astype(str)
    reasons = reasons.str.slice(0, 1).str.upper() + reasons.str.slice(1)
    safety = frame["safety"].astype(bool)
    flag = frame["safety_reason"].astype(str)
    has_both = safety & reasons.ne("")
    out = reasons.copy()
    out[safety] = flag[safety]
    out[has_both] = flag[has_both] + "; " + reasons[has_both]
    return out.where(frame["needs_attention"], "")


def _attention_key(frame: pd.DataFrame) -> pd.Series:
    """What put a couple on the list, as a short stable text.

    A supervisor's review is filed against this key; the couple comes back to the list
    when a new session changes it (another flag, a flag cleared, a new safety flag).
    """
    key = pd.Series("", index=frame.index, dtype=object)
    for flag in ATTENTION_FLAGS:
        key = key + np.where(frame[flag], flag + ",", "")
    # The latest flagged session: a review of the flags so far stays valid after a calm
    # session, and a new flag brings the couple back.
    safety = "safety@" + frame["safety_session_id"].astype(str) + ","
    key = key + safety.where(frame["safety"], "")
    return key.str.rstrip(",").where(frame["needs_attention"], "").astype(str)


def _counselor_table(
    counselors: pd.DataFrame,
    chosen: pd.DataFrame,
    held: pd.DataFrame,
) -> pd.DataFrame:
    """COUNSELOR_COLUMNS: per-counselor counts over the selection (zeros included)."""
    ids = pd.Index(counselors["counselor_id"], name="counselor_id")
    table = counselors.set_index("counselor_id")[["counselor"]].copy()
    by = chosen.groupby("counselor_id")
    table["couples"] = by.size().reindex(ids, fill_value=0)
    table["active"] = (
        chosen["status"].eq(CoupleStatus.ACTIVE).groupby(chosen["counselor_id"]).sum()
    ).reindex(ids, fill_value=0)

    held = held.set_index("counselor_id")
    for column in HELD_COLUMNS:
        table[column] = held[column].reindex(ids, fill_value=0)
    table["alliance_judged"] = (
        chosen["alliance"].ne(AllianceFlag.ABSENT.value).groupby(chosen["counselor_id"]).sum()
    ).reindex(ids, fill_value=0)
    for column in (
        "overdue",
        "not_on_track",
        "diverging",
        "split_alliance",
        "safety",
        "needs_attention",
    ):
        table[column] = (
            chosen[column].groupby(chosen["counselor_id"]).sum().reindex(ids, fill_value=0)
        )
    outcome = pd.crosstab(chosen["counselor_id"], chosen["outcome"])
    for label in OUTCOMES:
        table[f"outcome_{label}"] = _column(outcome, label, ids)
    stage = pd.crosstab(chosen["counselor_id"], chosen["current_stage"])
    for label in STAGE_LABELS:
        table[f"stage_{label}"] = _column(stage, label, ids)
    table = table.reset_index()[COUNSELOR_COLUMNS]
    numbers = [c for c in COUNSELOR_COLUMNS if c not in ("counselor_id", "counselor")]
    table[numbers] = table[numbers].astype("int64")
    return table


def _column(crosstab: pd.DataFrame, label: str, ids: pd.Index) -> pd.Series:
    if label not in crosstab.columns:
        return pd.Series(0, index=ids)
    return crosstab[label].reindex(ids, fill_value=0)


def _long(table: pd.DataFrame, labels: tuple[str, ...], name: str) -> pd.DataFrame:
    """counselor x label counts, long, in counselor order then label order."""
    prefix = "outcome_" if name == "outcome" else "stage_"
    wide = table.set_index("counselor")[[prefix + label for label in labels]]
    wide.columns = list(labels)
    long = wide.stack().rename("couples").reset_index()
    long.columns = ["counselor", name, "couples"]
    long["couples"] = long["couples"].astype("int64")
    return long


def _attention(chosen: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Couples needing attention: safety first, then both flags, then the rest."""
    flagged = _list_rows(chosen[chosen["needs_attention"]], names)
    flagged["reasons"] = flagged["attention_reasons"]
    flagged["flags"] = flag_words(flagged)
    rank = (
        flagged["safety"].astype(int) * 4
        + (flagged["not_on_track"] & flagged["diverging"]).astype(int) * 2
        + flagged["not_on_track"].astype(int)
    )
    flagged = flagged.assign(_rank=rank).sort_values(
        ["_rank", "case_code"], ascending=[False, True], kind="stable"
    )
    return flagged.reset_index()[ATTENTION_COLUMNS]


def _list_rows(rows: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """The columns a row of the attention list shows whatever listed it: the counselor's
    name, the status in words and the numbers behind the expected-course cell."""
    rows = rows.copy()
    rows["counselor"] = rows["counselor_id"].map(names)
    rows["status"] = rows["status_label"]
    rows["expected_numbers"] = [
        expected_numbers({c: row[c] for c in EXPECTED_COLUMNS})
        for row in rows[EXPECTED_COLUMNS].to_dict("records")
    ]
    return rows


def _below_not_listed(chosen: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """ATTENTION_COLUMNS of the couples below or well below their expected course that
    are not on the attention list, worst first, then by case code."""
    below = chosen["expected_rank"].ge(ALERT_RANK[Alert.BELOW])
    rows = _list_rows(chosen[below & ~chosen["needs_attention"]], names)
    rows["flags"] = NOT_LISTED_FLAGS
    rows["reasons"] = NOT_LISTED_REASON
    rows["attention_key"] = ""
    rows = rows.sort_values(["expected_rank", "case_code"], ascending=[False, True], kind="stable")
    return rows.reset_index()[ATTENTION_COLUMNS]


def flag_words(flagged: pd.DataFrame) -> pd.Series:
    """'Safety · Not on track · Partners diverging · Split alliance': why listed, at a
    glance, safety first."""
    words = pd.Series("", index=flagged.index, dtype=object)
    for column, word in FLAG_WORDS:
        words = words + np.where(flagged[column], " · " + word, "")
    return words.str.removeprefix(" · ").astype(str)


def _stage_flow(chosen: pd.DataFrame) -> pd.DataFrame:
    rated = chosen[chosen["stage_first"].notna() & chosen["stage_latest"].notna()]
    flow = rated.groupby(["stage_first", "stage_latest"]).size().rename("couples").reset_index()
    return pd.DataFrame(
        {
            "intake_stage": _stage_labels(flow["stage_first"]),
            "current_stage": _stage_labels(flow["stage_latest"]),
            "couples": flow["couples"].astype("int64"),
        }
    )


def _months(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.period_range(start, end, freq="M").to_timestamp()


def _barrier_months(
    barriers: pd.DataFrame, per_day: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Share of held sessions per month with each barrier tagged, and its mean severity.

    Every month of the range appears for every barrier tagged in the range (0 when not
    tagged that month); a month without a held session has no share (a gap).
    `days_in_range` says how much of the month the range covers: a month begun two days
    ago holds two days of sessions, and its share is not a month's (charts draw it apart).
    """
    columns = [
        "month",
        "barrier",
        "tagged",
        "sessions_held",
        "share",
        "mean_severity",
        "days_in_range",
        "days_in_month",
    ]
    if barriers.empty:
        return pd.DataFrame(columns=columns)
    held = per_day[per_day["held"]]
    per_month = held.groupby(month_start(held["session_date"]))["sessions"].sum()
    tags = barriers.assign(month=month_start(barriers["session_date"]))
    tags = tags.groupby(["month", "barrier"])[["tagged", "severity_sum"]].sum()
    grid = pd.MultiIndex.from_product(
        [_months(start, end), sorted(barriers["barrier"].unique())], names=["month", "barrier"]
    )
    out = tags.reindex(grid, fill_value=0).reset_index()
    out["sessions_held"] = out["month"].map(per_month).fillna(0).astype("int64")
    out["tagged"] = out["tagged"].astype("int64")
    out["share"] = (out["tagged"] / out["sessions_held"].where(out["sessions_held"] > 0)).astype(
        "float64"
    )
    out["mean_severity"] = (out["severity_sum"] / out["tagged"].where(out["tagged"] > 0)).astype(
        "float64"
    )
    month = pd.to_datetime(out["month"])
    month_end = month + pd.offsets.MonthEnd(0)
    first = month.where(month > start.normalize(), start.normalize())
    last = month_end.where(month_end < end.normalize(), end.normalize())
    out["days_in_range"] = ((last - first).dt.days + 1).astype("int64")
    out["days_in_month"] = month.dt.days_in_month.astype("int64")
    return out[columns]


def _weekly(per_day: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Sessions per week of the range, held / no-show / cancelled (zeros included)."""
    group = np.where(
        per_day["held"],
        HELD_LABEL,
        np.where(per_day["attendance"].eq("no_show"), NO_SHOW_LABEL, CANCELLED_LABEL),
    )
    counts = per_day.groupby([week_start(per_day["session_date"]), group])["sessions"].sum()
    weeks = pd.date_range(
        week_start(pd.Series([start]))[0], week_start(pd.Series([end]))[0], freq="7D"
    )
    grid = pd.MultiIndex.from_product([weeks, ATTENDANCE_GROUPS], names=["week", "attendance"])
    out = counts.reindex(grid, fill_value=0).rename("sessions").reset_index()
    out["sessions"] = out["sessions"].astype("int64")
    return out


def _monthly(everyone: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Per month of the range: couples opened, closed, and first reliably improved.

    The median counts the sessions held up to and including the session at which the
    couple's EII first showed a reliable improvement over its baseline, for the couples
    that reached it in that month.
    """
    months = _months(start, end)

    def per_month(dates: pd.Series) -> pd.Series:
        dates = dates[dates.between(start, end)]
        return dates.groupby(month_start(dates)).size().reindex(months, fill_value=0)

    closed = everyone.loc[everyone["status"].eq(CoupleStatus.CLOSED), "closed_at"]
    reached = everyone["first_reliable_improvement_date"]
    improved = everyone[reached.between(start, end)]
    median = improved.groupby(month_start(improved["first_reliable_improvement_date"]))[
        "first_reliable_improvement_session"
    ].median()
    out = pd.DataFrame(
        {
            "month": months,
            "new_couples": per_month(everyone["intake_date"]).to_numpy(),
            "closed_couples": per_month(closed).to_numpy(),
            "improved_couples": per_month(reached).to_numpy(),
            "median_sessions_to_improvement": median.reindex(months).to_numpy(dtype="float64"),
        }
    )
    return out[MONTHLY_COLUMNS]
