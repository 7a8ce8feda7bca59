"""Who may see and change which couple. The only place that decides it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session as DbSession

from dashboard.services import audit
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied
from db.models import Couple, CoupleSession, SupervisionLink


def visible_couples(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Couple` for the couples the actor may read.

    Counselors: their own couples. Supervisors: their supervisees' couples. Admins: all.
    """
    if actor.is_admin:
        return true()
    if actor.is_supervisor:
        supervised = select(SupervisionLink.counselor_id).where(
            SupervisionLink.supervisor_id == actor.user_id
        )
        return Couple.counselor_id.in_(supervised)
    return Couple.counselor_id == actor.user_id


def can_edit(actor: Actor, couple: Couple) -> bool:
    """Only the assigned counselor writes clinical records; everyone else reads."""
    return actor.is_counselor and couple.counselor_id == actor.user_id


def couple_for(
    db: DbSession, actor: Actor, couple_id: int, *, action: str, write: bool = False
) -> Couple:
    """Load a couple the actor may reach, or audit the attempt and refuse.

    A missing, deleted and out-of-scope couple get the same refusal, so an id guessed
    from a URL tells nothing.
    """
    couple = db.scalar(
        select(Couple).where(
            Couple.id == couple_id, Couple.deleted_at.is_(None), visible_couples(actor)
        )
    )
    if couple is None or (write and not can_edit(actor, couple)):
        audit.record_now(
            db,
            actor,
            action,
            entity="couple",
            entity_id=couple_id,
            success=False,
            detail="read-only" if couple is not None else "out of scope or missing",
        )
        if couple is not None:
            raise AccessDenied("You can read this couple's record but not change it.")
        raise AccessDenied("This couple is not in your caseload.")
    return couple


def session_for(
    db: DbSession,
    actor: Actor,
    session_id: int,
    *,
    action: str,
    write: bool = False,
    include_deleted: bool = False,
) -> CoupleSession:
    """Load a session through its couple's scope, or audit the attempt and refuse."""
    query = (
        select(CoupleSession)
        .join(Couple, Couple.id == CoupleSession.couple_id)
        .where(CoupleSession.id == session_id, Couple.deleted_at.is_(None), visible_couples(actor))
    )
    if not include_deleted:
        query = query.where(CoupleSession.deleted_at.is_(None))
    row = db.scalar(query)
    if row is None or (write and not can_edit(actor, row.couple)):
        audit.record_now(
            db,
            actor,
            action,
            entity="session",
            entity_id=session_id,
            success=False,
            detail="read-only" if row is not None else "out of scope or missing",
        )
        if row is not None:
            raise AccessDenied("You can read this session but not change it.")
        raise AccessDenied("This session is not in your caseload.")
    return row
