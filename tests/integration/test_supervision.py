"""Supervision review: a supervisor marks an attention-list couple reviewed.

Only the couple's supervisor may; the comment is checked; a couple no longer on the list
has nothing to review; every refusal is audited and writes nothing; the counselor reads
the reviews newest first; the attention list reads each couple's newest review.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.domain.validation import SessionInput
from dashboard.services import sessions, supervision
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import begin_write
from db.models import SupervisionLink, SupervisionReview
from tests.conftest import Clinic, make_actor
from tests.integration.conftest import TODAY, AuditLookup

MakeInput = Callable[..., SessionInput]
Rows = Callable[[type], int]


def flag(db: Session, counselor: Actor, couple_id: int, make_input: MakeInput, on: date) -> int:
    """Log a safety-flagged joint session: the couple goes on the attention list."""
    inp = make_input(session_date=on, safety_flag=True, safety_note="Raised voices at home")
    return sessions.log_session(db, counselor, couple_id, inp, today=TODAY)


@pytest.fixture
def flagged(db: Session, clinic: Clinic, make_input: MakeInput) -> int:
    """The id of the safety-flagged session on the counselor's couple."""
    return flag(db, clinic.counselor, clinic.couple_id, make_input, date(2026, 3, 2))


def mark(db: Session, actor: Actor, couple_id: int, comment: str) -> int:
    return supervision.mark_reviewed(db, actor, couple_id, comment, today=TODAY)


# --- marking reviewed ---------------------------------------------------------------


def test_supervisor_marks_the_couple_reviewed(
    db: Session, clinic: Clinic, flagged: int, audits: AuditLookup, backend: str
) -> None:
    key, reasons = supervision.current_attention(db, clinic.couple_id, TODAY)
    assert key == f"safety@{flagged}"

    review_id = mark(db, clinic.supervisor, clinic.couple_id, "  Seen; plan a safety check.  ")

    row = db.get(SupervisionReview, review_id)
    assert row is not None
    assert (row.couple_id, row.reviewer_id) == (clinic.couple_id, clinic.supervisor.user_id)
    assert (row.comment, row.attention_key, row.reasons) == (
        "Seen; plan a safety check.",
        key,
        reasons,
    )
    assert "Safety flag" in row.reasons
    assert row.reviewed_at.tzinfo is not None
    assert abs(datetime.now(UTC) - row.reviewed_at) < timedelta(minutes=5)
    db.rollback()  # end the read: on SQLite every transaction holds the write lock
    [event] = audits(action="review")
    assert (event.user_id, event.entity, event.entity_id) == (
        clinic.supervisor.user_id,
        "couple",
        clinic.couple_id,
    )
    assert (event.success, event.detail) == (True, key)


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("", "Write a short comment for the counselor."),
        ("   \n\t ", "Write a short comment for the counselor."),
        ("x" * 501, "Keep the comment to 500 characters (now 501)."),
    ],
)
def test_a_blank_or_long_comment_is_refused_next_to_the_field(
    db: Session,
    clinic: Clinic,
    flagged: int,
    rows: Rows,
    audits: AuditLookup,
    comment: str,
    message: str,
    backend: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        mark(db, clinic.supervisor, clinic.couple_id, comment)
    assert caught.value.errors == {"comment": message}
    assert rows(SupervisionReview) == 0
    assert audits(action="review") == []


def test_a_comment_of_exactly_the_limit_is_kept(
    db: Session, clinic: Clinic, flagged: int, backend: str
) -> None:
    comment = "y" * supervision.REVIEW_COMMENT_MAX
    review_id = mark(db, clinic.supervisor, clinic.couple_id, f" {comment} ")
    assert db.get(SupervisionReview, review_id).comment == comment


@pytest.mark.parametrize("who", ["counselor", "admin", "stranger"])
def test_only_the_couples_supervisor_may_mark_it_reviewed(
    db: Session,
    clinic: Clinic,
    flagged: int,
    rows: Rows,
    audits: AuditLookup,
    who: str,
    backend: str,
) -> None:
    if who == "stranger":
        # A supervisor, but of another counselor.
        actor = make_actor(db, "sue.else", "supervisor", "Sue Else", created_by=clinic.admin)
        begin_write(db)
        db.add(
            SupervisionLink(
                supervisor_id=actor.user_id, counselor_id=clinic.other_counselor.user_id
            )
        )
        db.commit()
        expected = "This couple is not in your caseload."
    else:
        actor = getattr(clinic, who)
        expected = supervision.SUPERVISORS_ONLY

    with pytest.raises(AccessDenied, match=expected):
        mark(db, actor, clinic.couple_id, "Looks fine to me.")

    assert rows(SupervisionReview) == 0
    [event] = audits(action="review")
    assert (event.user_id, event.entity, event.entity_id, event.success) == (
        actor.user_id,
        "couple",
        clinic.couple_id,
        False,
    )


def test_a_couple_not_on_the_attention_list_has_nothing_to_review(
    db: Session,
    clinic: Clinic,
    make_input: MakeInput,
    rows: Rows,
    audits: AuditLookup,
    backend: str,
) -> None:
    sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    assert supervision.current_attention(db, clinic.couple_id, TODAY) == ("", "")

    with pytest.raises(ValidationFailed) as caught:
        mark(db, clinic.supervisor, clinic.couple_id, "Reviewed.")
    assert caught.value.errors == {"comment": supervision.NOTHING_TO_REVIEW}
    assert rows(SupervisionReview) == 0
    assert audits(action="review") == []


def test_a_new_session_changes_the_key_the_review_was_filed_against(
    db: Session, clinic: Clinic, flagged: int, make_input: MakeInput, backend: str
) -> None:
    mark(db, clinic.supervisor, clinic.couple_id, "Seen.")
    later = flag(db, clinic.counselor, clinic.couple_id, make_input, date(2026, 4, 6))

    key, _ = supervision.current_attention(db, clinic.couple_id, TODAY)
    [latest] = supervision.latest_reviews(db, [clinic.couple_id]).to_dict("records")
    assert (latest["attention_key"], key) == (f"safety@{flagged}", f"safety@{later}")
    # Reviewed again against the new key.
    mark(db, clinic.supervisor, clinic.couple_id, "Seen again.")
    [latest] = supervision.latest_reviews(db, [clinic.couple_id]).to_dict("records")
    assert (latest["attention_key"], latest["comment"]) == (key, "Seen again.")


def test_the_database_refuses_a_blank_comment(
    db: Session, clinic: Clinic, flagged: int, backend: str
) -> None:
    review_id = mark(db, clinic.supervisor, clinic.couple_id, "Seen.")
    begin_write(db)
    with pytest.raises(IntegrityError):
        db.execute(text(f"UPDATE supervision_reviews SET comment = '  ' WHERE id = {review_id}"))
        db.flush()
    db.rollback()


# --- reading ------------------------------------------------------------------------


def test_latest_reviews_gives_each_couples_newest(
    db: Session, clinic: Clinic, flagged: int, make_input: MakeInput, backend: str
) -> None:
    sue = make_actor(db, "sue.else", "supervisor", "Sue Else", created_by=clinic.admin)
    begin_write(db)
    db.add(SupervisionLink(supervisor_id=sue.user_id, counselor_id=clinic.other_counselor.user_id))
    db.commit()
    flag(db, clinic.other_counselor, clinic.other_couple_id, make_input, date(2026, 3, 3))

    first = mark(db, clinic.supervisor, clinic.couple_id, "First look.")
    second = mark(db, clinic.supervisor, clinic.couple_id, "Second look.")
    other = mark(db, sue, clinic.other_couple_id, "Other couple.")
    # Filed later but dated earlier (a clock step back): the time decides, not the id.
    earlier = db.get(SupervisionReview, first).reviewed_at - timedelta(hours=1)
    begin_write(db)
    db.add(
        SupervisionReview(
            couple_id=clinic.couple_id,
            reviewer_id=clinic.supervisor.user_id,
            reviewed_at=earlier,
            comment="Back-dated.",
            attention_key=f"safety@{flagged}",
        )
    )
    db.commit()

    frame = supervision.latest_reviews(db, [clinic.other_couple_id, clinic.couple_id, 9999])

    assert list(frame.columns) == supervision.LATEST_COLUMNS
    assert frame[["couple_id", "review_id", "reviewer", "comment"]].to_dict("records") == [
        {
            "couple_id": clinic.couple_id,
            "review_id": second,
            "reviewer": "Sam Super",
            "comment": "Second look.",
        },
        {
            "couple_id": clinic.other_couple_id,
            "review_id": other,
            "reviewer": "Sue Else",
            "comment": "Other couple.",
        },
    ]
    assert str(frame["reviewed_at"].dt.tz) == "UTC"
    # Only the couples asked about.
    only = supervision.latest_reviews(db, [clinic.other_couple_id])
    assert only["review_id"].tolist() == [other]


def test_latest_reviews_of_no_couples_or_unreviewed_ones_is_an_empty_frame(
    db: Session, clinic: Clinic, backend: str
) -> None:
    for ids in ([], [clinic.couple_id]):
        frame = supervision.latest_reviews(db, ids)
        assert frame.empty
        assert list(frame.columns) == supervision.LATEST_COLUMNS


def test_reviews_for_couple_newest_first_for_whoever_may_see_it(
    db: Session, clinic: Clinic, flagged: int, backend: str
) -> None:
    mark(db, clinic.supervisor, clinic.couple_id, "First look.")
    mark(db, clinic.supervisor, clinic.couple_id, "Second look.")

    for actor in (clinic.counselor, clinic.supervisor, clinic.admin):
        notes = supervision.reviews_for_couple(db, actor, clinic.couple_id)
        assert [n.comment for n in notes] == ["Second look.", "First look."]
        assert {n.reviewer for n in notes} == {"Sam Super"}
        assert notes[0].attention_key == f"safety@{flagged}"
        assert "Safety flag" in notes[0].reasons
        assert notes[0].reviewed_at >= notes[1].reviewed_at


def test_reviews_for_couple_out_of_scope_is_refused_and_audited(
    db: Session, clinic: Clinic, flagged: int, audits: AuditLookup, backend: str
) -> None:
    mark(db, clinic.supervisor, clinic.couple_id, "Seen.")
    with pytest.raises(AccessDenied, match="not in your caseload"):
        supervision.reviews_for_couple(db, clinic.other_counselor, clinic.couple_id)
    [event] = audits(action="view", entity="couple", user_id=clinic.other_counselor.user_id)
    assert (event.entity_id, event.success) == (clinic.couple_id, False)


def test_reviews_for_couple_without_reviews_is_empty(
    db: Session, clinic: Clinic, backend: str
) -> None:
    assert supervision.reviews_for_couple(db, clinic.counselor, clinic.couple_id) == []
    assert db.scalar(select(SupervisionReview.id)) is None
