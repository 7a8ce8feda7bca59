"""Clinic admin: users, the audit log, deleted sessions awaiting restore."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from dashboard.services import audit, scope
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import begin_write
from db.models import Couple, CoupleSession, SupervisionLink, User, utcnow


def require_admin(db: DbSession, actor: Actor, action: str) -> None:
    scope.require_active(db, actor, action, entity="admin")
    if not actor.is_admin:
        raise audit.refused(
            db,
            actor,
            action,
            AccessDenied("Only a clinic admin can open this."),
            entity="admin",
            detail="admins only",
        )


def list_users(db: DbSession, actor: Actor, *, record_view: bool = True) -> pd.DataFrame:
    """Everyone with an account, with who supervises whom."""
    require_admin(db, actor, "view_users")
    supervisor = aliased(User)
    links: dict[int, list[tuple[int, str]]] = {}
    for counselor_id, supervisor_id, name in db.execute(
        select(SupervisionLink.counselor_id, supervisor.id, supervisor.display_name).join(
            supervisor, supervisor.id == SupervisionLink.supervisor_id
        )
    ):
        links.setdefault(counselor_id, []).append((supervisor_id, name))
    users = db.scalars(select(User).order_by(User.role, User.display_name)).all()
    if record_view:
        audit.record_after_read(
            db, actor, "view_users", entity="user", detail=f"{len(users)} users"
        )
    return pd.DataFrame(
        [
            {
                "user_id": u.id,
                "Username": u.username,
                "Name": u.display_name,
                "Role": u.role,
                "Active": u.active,
                "Supervised by": ", ".join(name for _, name in links.get(u.id, [])),
                "supervisor_id": links[u.id][0][0] if u.id in links else None,
                "Last active": u.last_active_at,
                "Single sign-on": "linked" if u.sso_subject else "",
            }
            for u in users
        ]
    ).astype({"supervisor_id": "Int64"})


def deleted_sessions(db: DbSession, actor: Actor, *, record_view: bool = True) -> pd.DataFrame:
    """Soft-deleted sessions an admin may restore, newest deletion first."""
    require_admin(db, actor, "view_deleted_sessions")
    deleter = aliased(User)
    rows = db.execute(
        select(
            CoupleSession.id,
            Couple.case_code,
            CoupleSession.session_date,
            CoupleSession.deleted_at,
            deleter.display_name,
        )
        .join(Couple, Couple.id == CoupleSession.couple_id)
        .outerjoin(deleter, deleter.id == CoupleSession.deleted_by)
        .where(CoupleSession.deleted_at.is_not(None))
        .order_by(CoupleSession.deleted_at.desc())
    ).all()
    if record_view:
        audit.record_after_read(
            db, actor, "view_deleted_sessions", entity="session", detail=f"{len(rows)} sessions"
        )
    return pd.DataFrame(
        [
            {
                "session_id": r[0],
                "Case": r[1],
                "Session date": r[2],
                "Deleted (UTC)": r[3],
                "Deleted by": r[4],
            }
            for r in rows
        ],
        columns=["session_id", "Case", "Session date", "Deleted (UTC)", "Deleted by"],
    )


def set_active(db: DbSession, actor: Actor, user_id: int, *, active: bool) -> None:
    """Switch an account on or off. Switching off ends its sessions at once."""
    begin_write(db)
    require_admin(db, actor, "set_active")
    user = db.get(User, user_id)
    if user is None:
        raise ValidationFailed({"user": "There is no such account."})
    if user.id == actor.user_id and not active:
        raise ValidationFailed({"user": "You cannot deactivate your own account."})
    user.active = active
    if not active:
        user.sessions_valid_after = utcnow()
    audit.record(
        db,
        actor,
        "activate_user" if active else "deactivate_user",
        entity="user",
        entity_id=user.id,
        detail=user.username,
    )
    db.commit()


def unlink_sso(db: DbSession, actor: Actor, user_id: int, *, now: datetime | None = None) -> None:
    """Forget the single sign-on account a user is linked to, so the next sign-in links
    again by email (a person's provider account was replaced). Ends their sessions."""
    begin_write(db)
    require_admin(db, actor, "unlink_sso")
    user = db.get(User, user_id)
    if user is None:
        raise ValidationFailed({"user": "There is no such account."})
    if user.sso_subject is None:
        raise ValidationFailed({"user": "This account is not linked to a sign-in account."})
    user.sso_subject = None
    user.sessions_valid_after = now or utcnow()
    audit.record(db, actor, "unlink_sso", entity="user", entity_id=user.id, detail=user.username)
    db.commit()


def set_supervisor(
    db: DbSession, actor: Actor, counselor_id: int, supervisor_id: int | None
) -> None:
    """Make one supervisor responsible for a counselor (or none)."""
    begin_write(db)
    require_admin(db, actor, "set_supervisor")
    counselor = db.get(User, counselor_id)
    if counselor is None or counselor.role != "counselor":
        raise ValidationFailed({"counselor": "Choose a counselor."})
    if supervisor_id is not None:
        supervisor = db.get(User, supervisor_id)
        if supervisor is None or supervisor.role != "supervisor":
            raise ValidationFailed({"supervisor": "Choose a supervisor."})
    for link in db.scalars(
        select(SupervisionLink).where(SupervisionLink.counselor_id == counselor_id)
    ):
        db.delete(link)
    db.flush()
    if supervisor_id is not None:
        db.add(SupervisionLink(supervisor_id=supervisor_id, counselor_id=counselor_id))
    audit.record(
        db,
        actor,
        "set_supervisor",
        entity="user",
        entity_id=counselor_id,
        detail=f"supervisor {supervisor_id}",
    )
    db.commit()
