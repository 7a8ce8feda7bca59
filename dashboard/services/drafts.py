"""Session drafts: what a counselor is typing, kept server-side in versions.

A draft belongs to its author alone: it is read and written only with the author's own
user id, for a couple (or session) the author may edit. No export, report or extract
reads the drafts table.

Nothing typed is overwritten by another sitting: each opening of the form (an
*episode*, a random id the form makes) writes its own versions, replacing its newest
one as the counselor types and starting a new one every `VERSION_SPAN`. The newest
version of another episode is *offered* ("Resume the draft from 11:25") until the
counselor resumes it, starts over or saves the session: then it is set aside, no longer
offered but still listed and restorable. Every version is deleted `KEEP_FOR` after its
last keystroke.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DbSession

from dashboard.services import scope
from dashboard.services.actor import Actor
from db.engine import begin_write
from db.models import Couple, SessionDraft, utcnow

_DATE = "$date"
VERSION_SPAN = timedelta(minutes=10)  # a long sitting keeps a version every ten minutes
KEEP_FOR = timedelta(days=30)


@dataclass(frozen=True)
class SavedDraft:
    """One version of a draft, as its author sees it in the list."""

    id: int
    values: dict[str, Any]
    saved_at: datetime  # UTC: the last keystroke this version holds
    set_aside: bool  # no longer offered for resuming (still restorable)
    episode: str


def draft_target(couple_id: int, session_id: int | None) -> str:
    """The form a draft belongs to: a new session of a couple, or one session's edit."""
    return f"edit:{session_id}" if session_id is not None else f"new:{couple_id}"


def _encode(value: object) -> object:
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    raise TypeError(f"A draft cannot hold {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> object:
    if set(obj) == {_DATE}:
        return date.fromisoformat(obj[_DATE])
    return obj


def _saved(row: SessionDraft) -> SavedDraft:
    return SavedDraft(
        id=row.id,
        values=json.loads(row.payload, object_hook=_decode),
        saved_at=row.saved_at,
        set_aside=row.set_aside_at is not None,
        episode=row.episode,
    )


def _check_reach(db: DbSession, actor: Actor, couple_id: int, session_id: int | None) -> None:
    """Only the couple's own counselor keeps drafts (the same rule as saving)."""
    if session_id is None:
        scope.couple_for(db, actor, couple_id, action="save_draft", write=True)
    else:
        row = scope.session_for(db, actor, session_id, action="save_draft", write=True)
        if row.couple_id != couple_id:
            raise ValueError("draft session does not belong to the couple")


def _mine(actor: Actor, couple_id: int, session_id: int | None):  # type: ignore[no-untyped-def]
    """The author's own versions of one form (the only scope a draft is read in)."""
    return (
        SessionDraft.user_id == actor.user_id,
        SessionDraft.target == draft_target(couple_id, session_id),
        SessionDraft.couple_id == couple_id,
    )


def save_draft(
    db: DbSession,
    actor: Actor,
    *,
    couple_id: int,
    session_id: int | None,
    values: dict[str, Any],
    episode: str = "",
    now: datetime | None = None,
) -> datetime:
    """Keep what this episode of the form holds now; returns when it was kept (UTC).

    Only this episode's newest version is replaced (or a new version started once it
    is `VERSION_SPAN` old): another episode's draft, offered or not, is never touched.
    """
    begin_write(db)
    _check_reach(db, actor, couple_id, session_id)
    payload = json.dumps(values, default=_encode, sort_keys=True)
    now = now or utcnow()
    db.execute(delete(SessionDraft).where(SessionDraft.saved_at < now - KEEP_FOR))
    row = db.scalar(
        select(SessionDraft)
        .where(*_mine(actor, couple_id, session_id), SessionDraft.episode == episode)
        .order_by(SessionDraft.id.desc())
        .limit(1)
    )
    started = None if row is None else (row.started_at or row.saved_at)
    if row is None or started is None or now - started >= VERSION_SPAN:
        db.add(
            SessionDraft(
                user_id=actor.user_id,
                couple_id=couple_id,
                session_id=session_id,
                target=draft_target(couple_id, session_id),
                episode=episode,
                started_at=now,
                saved_at=now,
                payload=payload,
            )
        )
    else:  # the version being written is offered again once this sitting ends
        row.payload, row.saved_at, row.set_aside_at = payload, now, None
    db.commit()
    return now


def get_draft(
    db: DbSession,
    actor: Actor,
    *,
    couple_id: int,
    session_id: int | None,
    other_than: str | None = None,
) -> SavedDraft | None:
    """The version Log session offers to resume (see `offered_draft`), if any."""
    versions = list_drafts(db, actor, couple_id=couple_id, session_id=session_id)
    return offered_draft(versions, other_than)


def offered_draft(versions: list[SavedDraft], other_than: str | None) -> SavedDraft | None:
    """The author's newest version not set aside and not written by the episode
    `other_than` (the form now open): the one offered as "Resume the draft from ..."."""
    return next(
        (
            v
            for v in versions
            if not v.set_aside and (other_than is None or v.episode != other_than)
        ),
        None,
    )


def list_drafts(
    db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None
) -> list[SavedDraft]:
    """Every version of this form the author kept in the last 30 days, newest first."""
    rows = db.scalars(
        select(SessionDraft)
        .where(
            *_mine(actor, couple_id, session_id),
            SessionDraft.saved_at >= utcnow() - KEEP_FOR,
        )
        .order_by(SessionDraft.saved_at.desc(), SessionDraft.id.desc())
    ).all()
    found = [_saved(row) for row in rows]
    db.rollback()
    return found


@dataclass(frozen=True)
class UnsavedDraft:
    """A form the author left with an offered draft, for the list of all their drafts."""

    couple_id: int
    session_id: int | None
    case_code: str
    saved_at: datetime


def unsaved_drafts(db: DbSession, actor: Actor) -> list[UnsavedDraft]:
    """Every form the author has an offered draft for, newest first (one line a form).

    Only couples still the author's to write (not reassigned, not deleted): a link to a
    couple now someone else's would only bring a refusal."""
    rows = db.execute(
        select(
            SessionDraft.couple_id, SessionDraft.session_id, Couple.case_code, SessionDraft.saved_at
        )
        .join(Couple, Couple.id == SessionDraft.couple_id)
        .where(
            SessionDraft.user_id == actor.user_id,
            Couple.counselor_id == actor.user_id,
            Couple.deleted_at.is_(None),
            SessionDraft.set_aside_at.is_(None),
            SessionDraft.saved_at >= utcnow() - KEEP_FOR,
        )
        .order_by(SessionDraft.saved_at.desc(), SessionDraft.id.desc())
    ).all()
    db.rollback()
    found: dict[tuple[int, int | None], UnsavedDraft] = {}
    for couple_id, session_id, case_code, saved_at in rows:
        found.setdefault(
            (couple_id, session_id), UnsavedDraft(couple_id, session_id, case_code, saved_at)
        )
    return list(found.values())


def restore_draft(
    db: DbSession,
    actor: Actor,
    *,
    couple_id: int,
    session_id: int | None,
    draft_id: int,
    episode: str,
) -> SavedDraft | None:
    """Take one of the author's versions back into the form, which goes on as `episode`
    (a new one: the text the form held stays in its own versions). Every version of the
    form is set aside (listed, no longer offered). None if the version is gone or not
    the author's."""
    begin_write(db)
    row = db.scalar(
        select(SessionDraft).where(
            *_mine(actor, couple_id, session_id), SessionDraft.id == draft_id
        )
    )
    if row is None:
        db.rollback()
        return None
    found = _saved(row)
    _set_aside(db, actor, couple_id=couple_id, session_id=session_id, keep=episode)
    db.commit()
    return found


def set_aside(
    db: DbSession,
    actor: Actor,
    *,
    couple_id: int,
    session_id: int | None,
    keep: str | None = None,
) -> None:
    """Start over: the offered drafts of this form are no longer offered (they stay in
    the list, restorable for 30 days); the episode `keep` (the form open now) goes on."""
    begin_write(db)
    _set_aside(db, actor, couple_id=couple_id, session_id=session_id, keep=keep)
    db.commit()


def discard_draft(db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None) -> None:
    """The author threw the form's changes away: nothing is offered any more, and every
    version stays restorable from the list for 30 days."""
    set_aside(db, actor, couple_id=couple_id, session_id=session_id)


def drop_draft(db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None) -> None:
    """The session was saved (inside the caller's transaction): nothing is offered for
    this form any more; the versions stay restorable from the list for 30 days."""
    _set_aside(db, actor, couple_id=couple_id, session_id=session_id, keep=None)


def forget_episode(
    db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None, episode: str
) -> None:
    """The versions of the episode that was just saved: their text is the session now."""
    begin_write(db)
    db.execute(
        delete(SessionDraft).where(
            *_mine(actor, couple_id, session_id), SessionDraft.episode == episode
        )
    )
    db.commit()


def _set_aside(
    db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None, keep: str | None
) -> None:
    offered = [*_mine(actor, couple_id, session_id), SessionDraft.set_aside_at.is_(None)]
    if keep is not None:
        offered.append(SessionDraft.episode != keep)
    db.execute(update(SessionDraft).where(*offered).values(set_aside_at=utcnow()))
