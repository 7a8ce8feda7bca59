"""Supervision review: a supervisor marks an attention-list couple as reviewed.

The review is filed against the couple's attention key at that moment (what put it on
the list, `current_attention`); the attention list hides a couple whose key still
matches its latest review, so a new session that changes the key brings it back. The
counselor reads the supervisor's comments on the couple's page. Reviews are only ever
added, never edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from dashboard.domain.caseload import OVERDUE_DAYS
from dashboard.domain.review import ReviewWindow, build_review
from dashboard.domain.typed_text import is_blank, normalised, text_problem
from dashboard.services import audit, instruments, scope
from dashboard.services.actor import Actor
from dashboard.services.couple_changes import couple_changed
from dashboard.services.errors import AccessDenied, ValidationFailed
from dashboard.services.expected import expected_model
from dashboard.services.memo import PAGES
from dashboard.services.timeline import clinic_norms
from db import review_queries, scopes
from db.engine import begin_write
from db.models import SupervisionReview, User

REVIEW_COMMENT_MAX = 500
SUPERVISORS_ONLY = "Only the couple's supervisor can mark it reviewed."
PICTURE_CHANGED = (
    "Why this couple is listed has changed since this list was drawn (a new session, or "
    "a date range that ends before today). Look at today's list again before marking it."
)
NOTHING_TO_REVIEW = (
    "This couple is no longer on the attention list, so there is nothing to mark reviewed."
)
FORMER_USER = "a former user"
LATEST_COLUMNS = ["couple_id", "review_id", "attention_key", "reviewer", "reviewed_at", "comment"]


@dataclass(frozen=True)
class ReviewNote:
    """One supervision review as the couple's page shows it."""

    reviewer: str
    reviewed_at: datetime  # UTC
    comment: str
    reasons: str
    attention_key: str


def _comment_error(text: str) -> str | None:
    if is_blank(text):
        return "Write a short comment for the counselor."
    if len(text) > REVIEW_COMMENT_MAX:
        return f"Keep the comment to {REVIEW_COMMENT_MAX} characters (now {len(text)})."
    return text_problem(text, "The comment", multiline=True)


def _invalid(db: DbSession, message: str) -> ValidationFailed:
    """End the write transaction (releasing its lock, writing nothing); the error to raise."""
    db.rollback()
    return ValidationFailed({"comment": message})


def current_attention(db: DbSession, couple_id: int, today: date) -> tuple[str, str]:
    """(attention_key, reasons) of one couple as of today; ("", "") when it needs none.

    The same rules as the caseload review's attention list, run over this couple's
    sessions only. The caller has already checked that the actor may reach the couple.
    """
    couple_ids = review_queries.one_couple(couple_id)
    couples = review_queries.review_couples(db, couple_ids)
    if couples.empty:
        return "", ""
    counselors = couples[["counselor_id"]].assign(counselor="")
    window = ReviewWindow(start=today, end=today, today=today, overdue_days=OVERDUE_DAYS)
    review = build_review(
        counselors,
        couples,
        review_queries.review_sessions(db, couple_ids),
        review_queries.review_barrier_days(db, couple_ids, today, today),
        clinic_norms(db).eii,
        window,
        alliance=instruments.alliance_totals(db, couple_ids),
        expected=expected_model(db),  # as the list judged it, or a review never holds
    )
    row = review.couples.iloc[0]
    return str(row["attention_key"]), str(row["attention_reasons"])


def mark_reviewed(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    comment: str,
    *,
    today: date | None = None,
    shown_key: str | None = None,
) -> int:
    """File a review of the couple's current attention key; the new review's id.

    Only a supervisor of the couple's counselor may: out of scope is refused by scope,
    a counselor or an admin here (both audited). Nothing is written on a refusal or a
    validation error. `shown_key` is the key the supervisor was looking at: when today's
    key differs (a session logged since the list was drawn, or a list drawn as at a
    past date) the review is refused, so nobody marks unseen news as reviewed.
    """
    begin_write(db)
    scope.couple_for(db, actor, couple_id, action="review")
    if not actor.is_supervisor:
        raise audit.refused(
            db,
            actor,
            "review",
            AccessDenied(SUPERVISORS_ONLY),
            entity="couple",
            entity_id=couple_id,
            detail="only a supervisor marks a couple reviewed",
        )
    text = normalised((comment or "").strip())
    problem = _comment_error(text)
    if problem:
        raise _invalid(db, problem)
    key, reasons = current_attention(db, couple_id, today or date.today())
    if not key:
        raise _invalid(db, NOTHING_TO_REVIEW)
    if shown_key is not None and shown_key != key:
        raise _invalid(db, PICTURE_CHANGED)
    row = SupervisionReview(
        couple_id=couple_id,
        reviewer_id=actor.user_id,
        comment=text,
        attention_key=key,
        reasons=reasons,
    )
    db.add(row)
    db.flush()
    review_id = row.id
    audit.record(db, actor, "review", entity="couple", entity_id=couple_id, detail=key)
    couple_changed(db, [couple_id])
    db.commit()
    return review_id


def latest_reviews(db: DbSession, couple_ids: Sequence[int]) -> pd.DataFrame:
    """LATEST_COLUMNS: each couple's newest review (by reviewed_at, then id), if any.

    One query with a window function over the given couples. The caller has already
    scoped `couple_ids` to the actor; this function reads no couple outside them, and
    leaves the caller's transaction as it found it.
    """
    ids = tuple(sorted({int(i) for i in couple_ids}))
    if not ids:
        return _latest_frame([])
    # Cached by the couples asked for: the caller scoped them, and nothing here is
    # reachable without naming a couple the caller could read uncached.
    # Keyed by 'clinic' (any couple's change): one number, however many couples asked.
    version = PAGES.version(db, scopes.CLINIC)
    return PAGES.get(db, version, ("latest_reviews", ids), lambda: _latest(db, ids))


def _latest(db: DbSession, ids: Sequence[int]) -> pd.DataFrame:
    rank = (
        func.row_number()
        .over(
            partition_by=SupervisionReview.couple_id,
            order_by=(SupervisionReview.reviewed_at.desc(), SupervisionReview.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            SupervisionReview.couple_id,
            SupervisionReview.id.label("review_id"),
            SupervisionReview.attention_key,
            SupervisionReview.reviewer_id,
            SupervisionReview.reviewed_at,
            SupervisionReview.comment,
            rank,
        )
        .where(SupervisionReview.couple_id.in_(ids))
        .subquery()
    )
    rows = db.execute(
        select(
            ranked.c.couple_id,
            ranked.c.review_id,
            ranked.c.attention_key,
            func.coalesce(User.display_name, FORMER_USER),
            ranked.c.reviewed_at,
            ranked.c.comment,
        )
        .outerjoin(User, User.id == ranked.c.reviewer_id)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.couple_id)
    ).all()
    return _latest_frame([tuple(r) for r in rows])


def _latest_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=LATEST_COLUMNS)
    frame["reviewed_at"] = pd.to_datetime(frame["reviewed_at"], utc=True)
    return frame.astype(
        {
            "couple_id": "int64",
            "review_id": "int64",
            "attention_key": object,
            "reviewer": object,
            "comment": object,
        }
    )


def reviews_for_couple(db: DbSession, actor: Actor, couple_id: int) -> list[ReviewNote]:
    """Every supervision review of a couple the actor may see, newest first."""
    scope.couple_for(db, actor, couple_id, action="view")
    found = db.execute(
        select(SupervisionReview, func.coalesce(User.display_name, FORMER_USER))
        .outerjoin(User, User.id == SupervisionReview.reviewer_id)
        .where(SupervisionReview.couple_id == couple_id)
        .order_by(SupervisionReview.reviewed_at.desc(), SupervisionReview.id.desc())
    ).all()
    notes = [
        ReviewNote(
            reviewer=name,
            reviewed_at=r.reviewed_at,
            comment=r.comment,
            reasons=r.reasons,
            attention_key=r.attention_key,
        )
        for r, name in found
    ]
    return notes


def attention_with_reviews(db: DbSession, attention: pd.DataFrame) -> pd.DataFrame:
    """The attention list with each couple's latest review and whether it still holds.

    Adds review_id, reviewed_key, reviewer, reviewed_at, comment (empty when never
    reviewed) and `reviewed`: True while the latest review was filed against the
    couple's current attention key. A new session that changes the key (a flag added or
    cleared, a new safety flag) makes it False: the couple is back on the list.
    """
    reviews = latest_reviews(db, attention["couple_id"].tolist())
    listed = attention.merge(
        reviews.rename(columns={"attention_key": "reviewed_key"}), on="couple_id", how="left"
    )
    listed["reviewed"] = listed["reviewed_key"].eq(listed["attention_key"])
    return listed
