"""Who may see and change which couple. The only place that decides it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import Session as DbSession

from dashboard.services import audit
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied
from db.models import Couple, CoupleSession, SupervisionLink, User


def _supervisees(actor: Actor) -> Select[tuple[int]]:
    """The ids of the counselors this supervisor supervises."""
    return select(SupervisionLink.counselor_id).where(
        SupervisionLink.supervisor_id == actor.user_id
    )


def visible_couples(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Couple` for the couples the actor may read.

    Counselors: their own couples. Supervisors: their supervisees' couples. Admins: all.
    """
    if actor.is_admin:
        return true()
    if actor.is_supervisor:
        return Couple.counselor_id.in_(_supervisees(actor))
    return Couple.counselor_id == actor.user_id


def visible_counselors(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `User` for the counselors whose caseloads the actor reviews.

    Supervisors: the counselors they supervise. Admins: everyone. Counselors review no
    one's caseload (the review service refuses them before it gets here).
    """
    if actor.is_admin:
        return true()
    if actor.is_supervisor:
        return User.id.in_(_supervisees(actor))
    return false()


COUNSELOR_OUT_OF_SCOPE = "That counselor's couples are not in your scope."


def require_counselor(db: DbSession, actor: Actor, action: str, counselor_id: int) -> None:
    """Audit and refuse a request about a counselor's caseload the actor may not read:
    their own for a counselor, their supervisees' for a supervisor, any for an admin."""
    if actor.is_counselor:
        allowed = counselor_id == actor.user_id
    else:
        allowed = bool(
            db.scalar(
                select(User.id).where(
                    User.id == counselor_id, User.role == "counselor", visible_counselors(actor)
                )
            )
        )
    if allowed:
        return
    raise audit.refused(
        db,
        actor,
        action,
        AccessDenied(COUNSELOR_OUT_OF_SCOPE),
        entity="user",
        entity_id=counselor_id,
        detail="counselor out of scope",
    )


def can_edit(actor: Actor, couple: Couple) -> bool:
    """Only the assigned counselor writes clinical records; everyone else reads."""
    return actor.is_counselor and couple.counselor_id == actor.user_id


INACTIVE_MESSAGE = "This account is no longer active. Ask your clinic admin."

# entity -> (refusal when out of scope or missing, refusal when read-only)
_REFUSALS = {
    "couple": (
        "This couple is not in your caseload.",
        "You can read this couple's record but not change it.",
    ),
    "session": (
        "This session is not in your caseload.",
        "You can read this session but not change it.",
    ),
}


def refuse_page(db: DbSession, actor: Actor, page: str) -> None:
    """Put on record that the actor opened a page their role has no part in (by URL)."""
    audit.record_now(
        db,
        actor,
        "open_page",
        entity="page",
        success=False,
        detail=f"{page}: not a {actor.role_label.lower()} page",
    )


def require_active(
    db: DbSession, actor: Actor, action: str, *, entity: str, entity_id: int | None = None
) -> None:
    """Refuse a request from an account switched off (or removed) since it logged in.

    A page checks the session on every run, but a request already in flight when an
    admin deactivates the account must not write either. One primary-key lookup.
    """
    active = db.scalar(select(User.active).where(User.id == actor.user_id))
    if active:
        return
    raise audit.refused(
        db,
        actor if active is not None else None,  # a removed user cannot be referenced
        action,
        AccessDenied(INACTIVE_MESSAGE),
        entity=entity,
        entity_id=entity_id,
        detail="account inactive",
        username=actor.username,
    )


def _require_reach(
    db: DbSession,
    actor: Actor,
    action: str,
    *,
    entity: str,
    entity_id: int,
    couple: Couple | None,
    write: bool,
    audit_refusal: bool = True,
) -> None:
    """Audit and refuse unless the record was found in scope (and is editable for a write).

    A missing, deleted and out-of-scope record get the same refusal, so an id guessed
    from a URL tells nothing. `audit_refusal` False: a rerun of a view whose refusal is
    already on record for this visit (a refusal is written once, not once per rerun).
    """
    if couple is not None and (not write or can_edit(actor, couple)):
        return
    missing, read_only = _REFUSALS[entity]
    if not audit_refusal:
        db.rollback()
        raise AccessDenied(read_only if couple is not None else missing)
    raise audit.refused(
        db,
        actor,
        action,
        AccessDenied(read_only if couple is not None else missing),
        entity=entity,
        entity_id=entity_id,
        detail="read-only" if couple is not None else "out of scope or missing",
    )


def couple_for(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    action: str,
    write: bool = False,
    audit_refusal: bool = True,
) -> Couple:
    """Load a couple the actor may reach, or audit the attempt and refuse."""
    require_active(db, actor, action, entity="couple", entity_id=couple_id)
    couple = db.scalar(
        select(Couple).where(
            Couple.id == couple_id, Couple.deleted_at.is_(None), visible_couples(actor)
        )
    )
    _require_reach(
        db,
        actor,
        action,
        entity="couple",
        entity_id=couple_id,
        couple=couple,
        write=write,
        audit_refusal=audit_refusal,
    )
    assert couple is not None
    return couple


def session_for(
    db: DbSession,
    actor: Actor,
    session_id: int,
    *,
    action: str,
    write: bool = False,
    include_deleted: bool = False,
    audit_refusal: bool = True,
) -> CoupleSession:
    """Load a session through its couple's scope, or audit the attempt and refuse."""
    require_active(db, actor, action, entity="session", entity_id=session_id)
    query = (
        select(CoupleSession)
        .join(Couple, Couple.id == CoupleSession.couple_id)
        .where(CoupleSession.id == session_id, Couple.deleted_at.is_(None), visible_couples(actor))
    )
    if not include_deleted:
        query = query.where(CoupleSession.deleted_at.is_(None))
    row = db.scalar(query)
    _require_reach(
        db,
        actor,
        action,
        entity="session",
        entity_id=session_id,
        couple=row.couple if row is not None else None,
        write=write,
        audit_refusal=audit_refusal,
    )
    assert row is not None
    return row
