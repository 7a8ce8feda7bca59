"""Session drafts: what a counselor is typing, kept server-side until the session is saved.

A draft belongs to its author alone: it is read and written only with the author's own
user id, for a couple (or session) the author may edit. Saving the session deletes it
in the same transaction (see `sessions.log_session` / `update_session`). No export,
report or extract reads the drafts table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from dashboard.services import scope
from dashboard.services.actor import Actor
from db.engine import begin_write
from db.models import SessionDraft, utcnow

_DATE = "$date"


@dataclass(frozen=True)
class SavedDraft:
    values: dict[str, Any]
    saved_at: datetime  # UTC


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


def _check_reach(db: DbSession, actor: Actor, couple_id: int, session_id: int | None) -> None:
    """Only the couple's own counselor keeps drafts (the same rule as saving)."""
    if session_id is None:
        scope.couple_for(db, actor, couple_id, action="save_draft", write=True)
    else:
        row = scope.session_for(db, actor, session_id, action="save_draft", write=True)
        if row.couple_id != couple_id:
            raise ValueError("draft session does not belong to the couple")


def save_draft(
    db: DbSession,
    actor: Actor,
    *,
    couple_id: int,
    session_id: int | None,
    values: dict[str, Any],
    now: datetime | None = None,
) -> datetime:
    """Replace the author's draft for this form; returns when it was saved (UTC)."""
    begin_write(db)
    _check_reach(db, actor, couple_id, session_id)
    target = draft_target(couple_id, session_id)
    payload = json.dumps(values, default=_encode, sort_keys=True)
    now = now or utcnow()
    row = db.scalar(
        select(SessionDraft).where(
            SessionDraft.user_id == actor.user_id, SessionDraft.target == target
        )
    )
    if row is None:
        db.add(
            SessionDraft(
                user_id=actor.user_id,
                couple_id=couple_id,
                session_id=session_id,
                target=target,
                saved_at=now,
                payload=payload,
            )
        )
    else:
        row.payload = payload
        row.saved_at = now
    db.commit()
    return now


def get_draft(
    db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None
) -> SavedDraft | None:
    """The author's own draft for this form, if one was left unsaved."""
    row = db.scalar(
        select(SessionDraft).where(
            SessionDraft.user_id == actor.user_id,
            SessionDraft.target == draft_target(couple_id, session_id),
            SessionDraft.couple_id == couple_id,
        )
    )
    draft = (
        None
        if row is None
        else SavedDraft(json.loads(row.payload, object_hook=_decode), row.saved_at)
    )
    db.rollback()  # a read: end the transaction at once
    return draft


def discard_draft(db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None) -> None:
    """The author threw the draft away (or saved the session)."""
    begin_write(db)
    drop_draft(db, actor, couple_id=couple_id, session_id=session_id)
    db.commit()


def drop_draft(db: DbSession, actor: Actor, *, couple_id: int, session_id: int | None) -> None:
    """Delete the draft inside the caller's transaction (a session save)."""
    db.execute(
        delete(SessionDraft).where(
            SessionDraft.user_id == actor.user_id,
            SessionDraft.target == draft_target(couple_id, session_id),
        )
    )
