"""The supervisor's caseload review and the admin's clinic overview.

Supervisors review the caseloads of the counselors they supervise, admins the whole
clinic; counselors are refused (the page is not in their menu, and a typed URL lands
here). Reading is a handful of set-based queries (db/review_queries.py) and vectorized
pandas (dashboard/domain/review.py): the cost grows with the clinic's sessions, never
with a Python loop over couples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from dashboard.config import load_settings
from dashboard.domain import review_counts
from dashboard.domain.alliance import AllianceFlag, AllianceTotals
from dashboard.domain.caseload import OVERDUE_DAYS
from dashboard.domain.catalog import CoupleStatus
from dashboard.domain.couple_outcome import TOO_EARLY
from dashboard.domain.expected_response import Alert
from dashboard.domain.review import (
    CaseloadReview,
    ReviewWindow,
    build_review,
    couple_flags,
    flags_of,
    short_date,
)
from dashboard.services import (
    audit,
    couple_summaries,
    couples,
    instruments,
    scope,
    supervision,
)
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ValidationFailed
from dashboard.services.expected import expected_model
from dashboard.services.memo import PAGES, reader_scope
from dashboard.services.timeline import clinic_norms
from db import review_queries
from db.models import Couple

REVIEWERS_ONLY = "The caseload review is for supervisors and clinic admins."
DEFAULT_RANGE_DAYS = 365
MAX_OVERDUE_DAYS = 365
DEFAULT_STATUSES = (CoupleStatus.ACTIVE.value, CoupleStatus.PAUSED.value)


@dataclass(frozen=True)
class ReviewFilters:
    """What the reviewer chose. Empty counselors = every counselor in scope."""

    counselor_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    start: date | None = None  # None: DEFAULT_RANGE_DAYS before `end`
    end: date | None = None  # None: today
    barrier_id: int | None = None
    overdue_days: int = OVERDUE_DAYS


@dataclass(frozen=True)
class ReviewChoices:
    """What the filters offer: counselors in scope and the barrier catalogue."""

    counselors: list[tuple[int, str]] = field(default_factory=list)
    barriers: list[tuple[int, str]] = field(default_factory=list)


def _require_reviewer(db: DbSession, actor: Actor, action: str) -> None:
    scope.require_active(db, actor, action, entity="caseload_review")
    if actor.is_counselor:
        raise audit.refused(
            db,
            actor,
            action,
            AccessDenied(REVIEWERS_ONLY),
            entity="caseload_review",
            detail="counselors cannot open the caseload review",
        )


def review_choices(db: DbSession, actor: Actor) -> ReviewChoices:
    """The counselors and barriers the review's filters can pick from."""
    version = PAGES.version(db)  # first; counselors, links, barriers: clinic-wide
    _require_reviewer(db, actor, "view")
    choices = PAGES.get(
        db, version, ("review_choices", actor.user_id, actor.role), lambda: _choices(db, actor)
    )
    return choices


def _choices(db: DbSession, actor: Actor) -> ReviewChoices:
    counselors = review_queries.review_counselors(db, scope.visible_counselors(actor))
    barriers = list(review_queries.barrier_choices(db))
    return ReviewChoices(
        counselors=list(
            zip(counselors["counselor_id"].tolist(), counselors["counselor"].tolist(), strict=True)
        ),
        barriers=barriers,
    )


def resolve_window(filters: ReviewFilters, today: date) -> ReviewWindow:
    """The filters' dates and overdue rule, checked; errors are keyed by field."""
    end = filters.end or today
    start = filters.start or end - timedelta(days=DEFAULT_RANGE_DAYS)
    errors: dict[str, str] = {}
    if end > today:
        errors["date_range"] = "The range cannot end after today."
    elif start > end:
        errors["date_range"] = "The range must start on or before its last day."
    if not 1 <= filters.overdue_days <= MAX_OVERDUE_DAYS:
        errors["overdue_days"] = f"Choose between 1 and {MAX_OVERDUE_DAYS} days."
    unknown = sorted(set(filters.statuses) - {s.value for s in CoupleStatus})
    if unknown:
        errors["statuses"] = "Unknown status: " + ", ".join(unknown)
    if errors:
        raise ValidationFailed(errors)
    return ReviewWindow(start=start, end=end, today=today, overdue_days=filters.overdue_days)


def describe(filters: ReviewFilters, window: ReviewWindow) -> str:
    """The filters in one line: the audit record's detail, and a cache key."""
    parts = [f"{window.start.isoformat()}..{window.end.isoformat()}"]
    if filters.counselor_ids:
        parts.append("counselors=" + ",".join(str(i) for i in filters.counselor_ids))
    if filters.statuses:
        parts.append("status=" + ",".join(filters.statuses))
    if filters.barrier_id is not None:
        parts.append(f"barrier={filters.barrier_id}")
    parts.append(f"overdue>{window.overdue_days}d")
    return "; ".join(parts)


def caseload_review(
    db: DbSession,
    actor: Actor,
    filters: ReviewFilters,
    *,
    today: date | None = None,
    record_view: bool = True,
) -> CaseloadReview:
    """The review of the couples in the actor's scope that match the filters.

    Refuses counselors (audited). `record_view` audits the view: a page passes True
    once per visit, not on every rerun of a filter change.
    """
    version = PAGES.version(db, reader_scope(actor))  # first: the rest is at least this new
    _require_reviewer(db, actor, "view")
    window = resolve_window(filters, today or date.today())

    def build() -> CaseloadReview:
        counselors = review_queries.review_counselors(
            db, scope.visible_counselors(actor), filters.counselor_ids
        )
        # A counselor filter that matches no one in scope selects no one (not everyone).
        couple_ids = review_queries.review_couple_ids(
            scope.visible_couples(actor),
            counselor_ids=counselors["counselor_id"].tolist() if filters.counselor_ids else None,
            start=window.start,
            end=window.end,
            barrier_id=filters.barrier_id,
        )
        # Barrier tags are counted over the same couples as the sessions held they are a
        # share of: the status filter applies to both.
        shown_ids = review_queries.with_statuses(couple_ids, filters.statuses)
        barriers = review_queries.review_barrier_days(db, shown_ids, window.start, window.end)
        norms = clinic_norms(db)
        model = expected_model(db)
        couples, figures, last_day = couple_summaries.read_figures(db, couple_ids)
        if window.end >= window.today and (last_day is None or last_day <= window.end):
            # The summary rows are each couple as at its latest session: the range end.
            # The counts and charts: the chosen couples' sessions counted by the database.
            per_counselor, per_day = review_queries.review_session_counts(
                db,
                shown_ids,
                review_counts.windows(window.start, window.end, window.today),
                window.start,
                window.end,
            )
            sessions = review_counts.SessionCounts(
                review_counts.typed_per_counselor(per_counselor),
                review_counts.typed_per_day(per_day),
            )
            rule, in_use = instruments.alliance_rule(db)  # judged already: no totals read
            alliance = AllianceTotals(rule=rule, in_use=in_use)
            return dataclasses.replace(
                build_review(
                    counselors,
                    couples,
                    sessions,
                    barriers,
                    norms.eii,
                    window,
                    statuses=tuple(filters.statuses),
                    alliance=alliance,
                    expected=model,
                    figures=figures,
                ),
                norms_label=norms.label,
                expected_label=model.label,
            )
        # A range that ends before today: every couple judged as at its end.
        sessions = review_queries.review_sessions(db, couple_ids)
        review = build_review(
            counselors,
            couples,
            sessions,
            barriers,
            norms.eii,
            window,
            statuses=tuple(filters.statuses),
            alliance=instruments.alliance_totals(db, couple_ids),
            expected=model,
        )
        return dataclasses.replace(review, norms_label=norms.label, expected_label=model.label)

    key = ("caseload_review", actor.user_id, actor.role, describe(filters, window), window.today)
    review = PAGES.get(db, version, key, build)
    if record_view:
        audit.record_after_read(
            db,
            actor,
            "view",
            entity="caseload_review",
            detail=f"{len(review.couples)} couples; " + describe(filters, window),
        )
    return review


FLAG_COLUMNS = [
    "couple_id",
    "flags",
    "reasons",
    "needs_attention",
    "outcome",
    "safety",
    "not_on_track",
    "split_alliance",
    "alliance",
    "expected",  # the expected-course cell ("below expected — Partner B")
    "expected_rank",  # its rank, worst highest (sorts worst first)
    "expected_alert",  # expected_response.Alert value of the worse partner
    "expected_partner",  # "Partner A", "Partner B", "both partners" or None
    "reviewed_at",
    "reviewer",
    "supervision",
]


def caseload_flags(
    db: DbSession, actor: Actor, couple_ids: Sequence[int], *, today: date | None = None
) -> pd.DataFrame:
    """FLAG_COLUMNS for these couples: the attention list's flags as of today, and the
    latest supervision review (when and by whom; NaT and "" when none; `supervision`
    says it in words: "Reviewed 3 Mar 2026").

    For a counselor's own caseload: couples outside the actor's scope are dropped, so
    nothing is read about them. Set-based: a few queries, whatever the number of couples.
    Not cached itself: My caseload caches the rows it is merged into
    (`caseload_with_flags`).
    """
    today = today or date.today()
    couple_ids = sorted({int(i) for i in couple_ids})
    scoped = select(Couple.id).where(
        Couple.id.in_(couple_ids),
        Couple.deleted_at.is_(None),
        scope.visible_couples(actor),
    )
    couples, figures, last_day = couple_summaries.read_figures(db, scoped)
    if couples.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    if last_day is None or last_day <= today:
        flags = flags_of(figures)  # the summary rows: judged over every session so far
    else:  # "as of" a day before some session: judged from the sessions up to it
        flags = couple_flags(
            couples,
            review_queries.review_sessions(db, scoped),
            clinic_norms(db).eii,
            today,
            instruments.alliance_totals(db, scoped),
            expected_model(db),
        )
    latest = supervision.latest_reviews(db, couples["couple_id"].tolist())
    latest = latest.set_index("couple_id")
    flags["reviewed_at"] = latest["reviewed_at"].reindex(flags.index)
    flags["reviewer"] = latest["reviewer"].reindex(flags.index).fillna("").astype(str)
    reviewed = pd.to_datetime(flags["reviewed_at"], utc=True)
    flags["supervision"] = (
        ("Reviewed " + short_date(reviewed.dt.tz_localize(None).fillna(pd.Timestamp(0))))
        .where(reviewed.notna(), "")
        .astype(str)
    )
    return flags.reset_index()[FLAG_COLUMNS]


def caseload_with_flags(
    db: DbSession,
    actor: Actor,
    *,
    search: str = "",
    statuses: Sequence[str] = (),
    overdue_days: int = OVERDUE_DAYS,
    today: date | None = None,
    record_view: bool = True,
) -> pd.DataFrame:
    """My caseload: `couples.list_caseload`'s rows with each couple's attention flags and
    supervision marker (FLAG_COLUMNS), put together once per version of the actor's caseload."""
    version = PAGES.version(db, reader_scope(actor))  # first: the rest is at least this new
    today = today or date.today()
    frame = couples.list_caseload(
        db,
        actor,
        search=search,
        statuses=statuses,
        today=today,
        overdue_days=overdue_days,
        record_view=record_view,
    )
    key = ("caseload_with_flags", actor.user_id, actor.role, search, tuple(statuses), today)
    return PAGES.get(
        db,
        version,
        (*key, overdue_days),
        lambda: _with_flags(
            frame, caseload_flags(db, actor, frame["couple_id"].tolist(), today=today)
        ),
    )


def _with_flags(frame: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    merged = frame.merge(flags, on="couple_id", how="left")
    merged["flags"] = merged["flags"].fillna("").astype(str)
    merged["reasons"] = merged["reasons"].fillna("").astype(str)
    merged["outcome"] = merged["outcome"].fillna(TOO_EARLY).astype(str)
    for flag in ("needs_attention", "safety", "not_on_track", "split_alliance"):
        merged[flag] = merged[flag].astype("boolean").fillna(False).astype(bool)
    merged["alliance"] = merged["alliance"].fillna(AllianceFlag.ABSENT.value).astype(str)
    merged["expected_alert"] = merged["expected_alert"].astype(object).fillna(Alert.NO_DATA)
    merged["expected"] = merged["expected"].fillna(Alert.NO_DATA.value).astype(str)
    merged["expected_rank"] = merged["expected_rank"].fillna(0).astype("int64")
    merged["reviewer"] = merged["reviewer"].fillna("").astype(str)
    merged["supervision"] = merged["supervision"].fillna("").astype(str)
    return merged


def review_with_attention(
    db: DbSession,
    actor: Actor,
    filters: ReviewFilters,
    *,
    today: date | None = None,
    record_view: bool = True,
) -> tuple[CaseloadReview, pd.DataFrame]:
    """The caseload review page's data: `caseload_review` and its attention list with
    each couple's review status (`supervision.attention_with_reviews`) and, in `review`,
    that status in words. Put together once per version of the reviewer's group, for each user."""
    version = PAGES.version(db, reader_scope(actor))  # first: the rest is at least this new
    data = caseload_review(db, actor, filters, today=today, record_view=record_view)
    window = data.window
    key = ("review_attention", actor.user_id, actor.role, describe(filters, window))
    listed = PAGES.get(
        db,
        version,
        (*key, window.today),
        lambda: _review_words(supervision.attention_with_reviews(db, data.attention)),
    )
    return data, listed


def _review_words(attention: pd.DataFrame) -> pd.DataFrame:
    """'Not reviewed', 'Changed since review on 3 Mar 2026' or 'Reviewed ... by ...'."""
    attention["review"] = "Not reviewed"
    seen = attention["reviewed_key"].notna()
    zone = load_settings().timezone  # the clinic's day, as every date a reader sees
    when = pd.to_datetime(attention["reviewed_at"], utc=True).dt.tz_convert(zone)
    when = when.dt.strftime("%d %b %Y")
    attention.loc[seen, "review"] = "Changed since review on " + when[seen]
    done = attention["reviewed"]
    attention.loc[done, "review"] = (
        "Reviewed " + when[done] + " by " + attention.loc[done, "reviewer"]
    )
    return attention
