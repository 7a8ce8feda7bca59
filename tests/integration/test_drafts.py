"""Versioned session drafts: a sitting never overwrites another's text, every version
is listed newest first and restorable by its author alone, and kept 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dashboard.services import drafts
from dashboard.services.errors import AccessDenied
from db.engine import begin_write
from db.models import Couple, SessionDraft
from tests.conftest import Clinic

EARLIER = "Long note from the morning: " + "she named the silence at dinner. " * 28
LATER = "Typed while the offer showed"
T0 = datetime(2026, 12, 6, 11, 25, tzinfo=UTC)


def _form(clinic: Clinic) -> dict[str, int | None]:
    return {"couple_id": clinic.couple_id, "session_id": None}


def _keep(db: Session, clinic: Clinic, text: str, episode: str, at: datetime) -> None:
    drafts.save_draft(
        db,
        clinic.counselor,
        **_form(clinic),
        values={"sf_note_data": text, "sf_duration": 50},
        episode=episode,
        now=at,
    )


def test_typing_while_a_draft_is_offered_keeps_both(
    backend: str, db: Session, clinic: Clinic
) -> None:
    _keep(db, clinic, EARLIER, "morning", T0)
    offered = drafts.get_draft(db, clinic.counselor, **_form(clinic), other_than="afternoon")
    assert offered is not None and offered.values["sf_note_data"] == EARLIER
    # The new sitting types (every keystroke kept): the morning's draft is untouched.
    for n in range(1, len(LATER) + 1):
        _keep(db, clinic, LATER[:n], "afternoon", T0 + timedelta(hours=2, seconds=n))
    still = drafts.get_draft(db, clinic.counselor, **_form(clinic), other_than="afternoon")
    assert still is not None
    assert (still.values["sf_note_data"], still.saved_at) == (EARLIER, T0)
    listed = drafts.list_drafts(db, clinic.counselor, **_form(clinic))
    assert [d.values["sf_note_data"] for d in listed] == [LATER, EARLIER]  # newest first
    assert all(d.values["sf_duration"] == 50 for d in listed)


def test_a_long_sitting_keeps_a_version_every_ten_minutes(
    backend: str, db: Session, clinic: Clinic
) -> None:
    for minute in range(0, 25):
        _keep(db, clinic, f"after {minute} minutes", "one", T0 + timedelta(minutes=minute))
    listed = drafts.list_drafts(db, clinic.counselor, **_form(clinic))
    assert [d.values["sf_note_data"] for d in listed] == [
        "after 24 minutes",
        "after 19 minutes",
        "after 9 minutes",
    ]


def test_start_over_and_restore(backend: str, db: Session, clinic: Clinic) -> None:
    _keep(db, clinic, EARLIER, "morning", T0)
    _keep(db, clinic, LATER, "afternoon", T0 + timedelta(hours=2))
    # Start over (in the afternoon sitting): the morning draft is no longer offered ...
    drafts.set_aside(db, clinic.counselor, **_form(clinic), keep="afternoon")
    assert drafts.get_draft(db, clinic.counselor, **_form(clinic), other_than="afternoon") is None
    listed = drafts.list_drafts(db, clinic.counselor, **_form(clinic))
    assert [(d.values["sf_note_data"], d.set_aside) for d in listed] == [
        (LATER, False),
        (EARLIER, True),
    ]
    # ... but restorable: the form goes on as a new sitting, both texts stay listed.
    morning = listed[1]
    restored = drafts.restore_draft(
        db, clinic.counselor, **_form(clinic), draft_id=morning.id, episode="evening"
    )
    assert restored is not None and restored.values["sf_note_data"] == EARLIER
    assert drafts.get_draft(db, clinic.counselor, **_form(clinic), other_than="evening") is None
    assert len(drafts.list_drafts(db, clinic.counselor, **_form(clinic))) == 2
    # Typing on in the restored form writes a new version; the others are untouched.
    _keep(db, clinic, EARLIER + " And more.", "evening", T0 + timedelta(hours=3))
    texts = [
        d.values["sf_note_data"] for d in drafts.list_drafts(db, clinic.counselor, **_form(clinic))
    ]
    assert texts == [EARLIER + " And more.", LATER, EARLIER]


def test_only_the_author_reads_lists_or_restores(backend: str, db: Session, clinic: Clinic) -> None:
    _keep(db, clinic, EARLIER, "morning", T0)
    (mine,) = drafts.list_drafts(db, clinic.counselor, **_form(clinic))
    for actor in (clinic.supervisor, clinic.other_counselor, clinic.admin):
        assert drafts.list_drafts(db, actor, **_form(clinic)) == []
        assert drafts.get_draft(db, actor, **_form(clinic)) is None
        assert (
            drafts.restore_draft(db, actor, **_form(clinic), draft_id=mine.id, episode="x") is None
        )
    with pytest.raises(AccessDenied):
        drafts.save_draft(db, clinic.other_counselor, **_form(clinic), values={"x": 1}, episode="x")


def test_versions_older_than_thirty_days_are_pruned(
    backend: str, db: Session, clinic: Clinic
) -> None:
    _keep(db, clinic, EARLIER, "old", T0)
    _keep(db, clinic, "a day later", "newer", T0 + timedelta(days=1))
    # The next keep, 30 days and a minute after the first, deletes only the first.
    _keep(db, clinic, LATER, "now", T0 + timedelta(days=30, minutes=1))
    left = db.scalars(select(SessionDraft.episode).order_by(SessionDraft.id)).all()
    db.rollback()
    assert left == ["newer", "now"]
    assert (db.scalar(select(func.count()).select_from(SessionDraft)) or 0) == 2
    db.rollback()


def test_a_saved_sitting_forgets_only_its_own_versions(
    backend: str, db: Session, clinic: Clinic
) -> None:
    _keep(db, clinic, EARLIER, "morning", T0)
    _keep(db, clinic, LATER, "afternoon", T0 + timedelta(hours=2))
    drafts.forget_episode(db, clinic.counselor, **_form(clinic), episode="afternoon")
    listed = drafts.list_drafts(db, clinic.counselor, **_form(clinic))
    assert [d.values["sf_note_data"] for d in listed] == [EARLIER]


def _assign(db: Session, couple_id: int, counselor_id: int) -> None:
    begin_write(db)
    db.execute(update(Couple).where(Couple.id == couple_id).values(counselor_id=counselor_id))
    db.commit()


def test_the_list_of_unsaved_drafts_has_one_line_a_form_for_its_author(
    backend: str, db: Session, clinic: Clinic
) -> None:
    _keep(db, clinic, EARLIER, "morning", T0)
    _keep(db, clinic, LATER, "afternoon", T0 + timedelta(hours=2))
    (line,) = drafts.unsaved_drafts(db, clinic.counselor)
    assert (line.couple_id, line.session_id, line.saved_at) == (
        clinic.couple_id,
        None,
        T0 + timedelta(hours=2),
    )
    for actor in (clinic.supervisor, clinic.other_counselor, clinic.admin):
        assert drafts.unsaved_drafts(db, actor) == []
    # The couple handed to another counselor: no link that would only be refused.
    _assign(db, clinic.couple_id, clinic.other_counselor.user_id)
    assert drafts.unsaved_drafts(db, clinic.counselor) == []
    _assign(db, clinic.couple_id, clinic.counselor.user_id)
    assert len(drafts.unsaved_drafts(db, clinic.counselor)) == 1
    drafts.set_aside(db, clinic.counselor, **_form(clinic))
    assert drafts.unsaved_drafts(db, clinic.counselor) == []
