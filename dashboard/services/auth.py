"""Users, logins and sessions. The cookie alone is never trusted.

streamlit-authenticator checks the password and keeps the cookie; this module decides
whether a login may stand: the user still exists and is active, the cookie is younger
than the user's last logout or password change, and neither the idle timeout nor the
absolute session limit has passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from dashboard.domain.catalog import Role
from dashboard.domain.typed_text import is_blank, normalised, text_problem
from dashboard.services import audit, scope
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import begin_write
from db.models import AuditEvent, User, utcnow

USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
PASSWORD_MIN = 10
# The users table's column sizes: longer text is refused here, not by the database.
DISPLAY_NAME_MAX = 120
EMAIL_MAX = 254
BCRYPT_MAX_BYTES = 72
ACTIVITY_WRITE_INTERVAL = timedelta(minutes=1)
# Password guessing: this many failed logins for one name within the window lock it.
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKED_OUT_MESSAGE = "Too many failed attempts. Wait 15 minutes or ask your clinic admin."
AUDIT_USERNAME_MAX = 64  # audit_events.username


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, user.display_name, Role(user.role))


def login_credentials(db: DbSession) -> dict:
    """Active users in the shape streamlit-authenticator expects (hashes, never text)."""
    users = db.scalars(select(User).where(User.active.is_(True))).all()
    credentials = {
        "usernames": {
            u.username: {
                "name": u.display_name,
                "email": u.email or "",
                "password": u.password_hash,
                "roles": [u.role],
            }
            for u in users
        }
    }
    db.rollback()  # a read: end it, so SQLite's write lock is not held
    return credentials


def _check_password(password: str, hashed: str) -> bool:
    data = password.encode()
    if len(data) > BCRYPT_MAX_BYTES:
        return False
    return bcrypt.checkpw(data, hashed.encode())


def is_inactive_account(db: DbSession, username: str, password: str) -> bool:
    """True when the name and password are right but the account is switched off.

    Lets the login page say "ask your admin" rather than "wrong password", without
    telling a stranger anything they did not already know.
    """
    row = db.execute(
        select(User.active, User.password_hash).where(User.username == username.strip().lower())
    ).first()
    db.rollback()
    return bool(row and not row.active and _check_password(password, row.password_hash))


def _login_name(username: str) -> str:
    """A typed login name as stored and audited: trimmed, lower-case, column-sized."""
    return username.strip().lower()[:AUDIT_USERNAME_MAX]


def _audit_login_failed(
    db: DbSession, username: str, user: User | None, detail: str, now: datetime
) -> None:
    audit.record(
        db,
        actor_of(user) if user else None,
        "login_failed",
        entity="user",
        entity_id=user.id if user else None,
        success=False,
        detail=detail,
        username=_login_name(username),
        occurred_at=now,
    )


def record_failed_login(
    db: DbSession, username: str, reason: str, *, now: datetime | None = None
) -> None:
    begin_write(db)
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    _audit_login_failed(db, username, user, reason, now or utcnow())
    db.commit()


def _locked_out(db: DbSession, username: str, now: datetime) -> bool:
    name = _login_name(username)
    in_window = (
        AuditEvent.username == name,
        AuditEvent.occurred_at > now - LOCKOUT_WINDOW,
        AuditEvent.occurred_at <= now,
    )
    failures, latest = db.execute(
        select(func.count(), func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == "login_failed", *in_window
        )
    ).one()
    if failures < LOCKOUT_FAILURES:
        return False
    logged_in_since = db.scalar(
        select(func.count()).where(
            AuditEvent.action == "login",
            AuditEvent.success.is_(True),
            AuditEvent.username == name,
            AuditEvent.occurred_at > latest,
            AuditEvent.occurred_at <= now,
        )
    )
    return not logged_in_since


def too_many_failed_logins(db: DbSession, username: str, *, now: datetime | None = None) -> bool:
    """True when the name had 5 or more failed logins in the last 15 minutes and no
    successful login since the latest of them.

    The login page asks before checking a password; `begin_session` asks again. Unknown
    names are counted alike, so the answer tells nothing about which accounts exist.
    """
    locked = _locked_out(db, username, now or utcnow())
    db.rollback()  # a read: end it, so SQLite's write lock is not held
    return locked


def begin_session(
    db: DbSession,
    username: str,
    *,
    limits: SessionLimits,
    cookie_issued_at: datetime | None = None,
    now: datetime | None = None,
) -> Actor | str:
    """Accept a fresh login (password or cookie) or say why not.

    Returns the actor, or a sentence for the login page. A cookie is refused when it
    was issued before the user's last logout or password change, is older than the
    absolute limit, or the user has been idle longer than the idle timeout.
    """
    begin_write(db)
    now = now or utcnow()
    username = username.strip().lower()
    user = db.scalar(select(User).where(User.username == username))
    via = "cookie" if cookie_issued_at else "password"
    reason = None
    # A password can be guessed; a signed cookie cannot, so only password logins lock.
    if cookie_issued_at is None and _locked_out(db, username, now):
        reason = LOCKED_OUT_MESSAGE
    elif user is None or not user.active:
        reason = "This account is not active. Ask your clinic admin."
    elif cookie_issued_at is not None:
        if user.sessions_valid_after and cookie_issued_at < user.sessions_valid_after:
            reason = "You were signed out. Please log in again."
        elif now - cookie_issued_at > limits.absolute:
            reason = "Your session reached its time limit. Please log in again."
        elif user.last_active_at is None or now - user.last_active_at > limits.idle:
            reason = "You were signed out after a period of inactivity. Please log in again."
    if reason:
        _audit_login_failed(db, username, user, f"{via}: {reason}", now)
        db.commit()
        return reason
    assert user is not None
    user.last_active_at = now
    audit.record(
        db, actor_of(user), "login", entity="user", entity_id=user.id, detail=via, occurred_at=now
    )
    db.commit()
    return actor_of(user)


def check_session(
    db: DbSession,
    user_id: int,
    *,
    login_at: datetime,
    last_seen: datetime,
    limits: SessionLimits,
    now: datetime | None = None,
) -> Actor | str:
    """Re-check a live session on every run: the actor, or why it has ended."""
    now = now or utcnow()
    user = db.get(User, user_id)
    reason = None
    if user is None or not user.active:
        reason = "This account is no longer active."
    elif user.sessions_valid_after and login_at < user.sessions_valid_after:
        reason = "You were signed out (logged out elsewhere or the password changed)."
    elif now - last_seen > limits.idle:
        reason = "You were signed out after a period of inactivity."
    elif now - login_at > limits.absolute:
        reason = "Your session reached its time limit."
    if reason:
        if user is not None:
            audit.record_after_read(
                db, actor_of(user), "session_ended", entity="user", entity_id=user.id, detail=reason
            )
        return reason
    assert user is not None
    actor = actor_of(user)
    stale = user.last_active_at is None or now - user.last_active_at > ACTIVITY_WRITE_INTERVAL
    db.commit()  # end the read: most runs write nothing
    if stale:
        begin_write(db)
        db.execute(update(User).where(User.id == user_id).values(last_active_at=now))
        db.commit()
    return actor


def logout(db: DbSession, actor: Actor, *, now: datetime | None = None) -> None:
    """End every session of this user: any cookie issued before now is refused."""
    begin_write(db)
    user = db.get(User, actor.user_id)
    if user is not None:
        user.sessions_valid_after = now or utcnow()
    audit.record(db, actor, "logout", entity="user", entity_id=actor.user_id)
    db.commit()


def _password_errors(password: str) -> dict[str, str]:
    # streamlit-authenticator strips what is typed at login: such a password never matches.
    if password != password.strip():
        return {"password": "The password cannot start or end with a space."}
    if len(password) < PASSWORD_MIN:
        return {"password": f"The password needs at least {PASSWORD_MIN} characters."}
    if len(password.encode()) > BCRYPT_MAX_BYTES:
        return {"password": f"The password may have at most {BCRYPT_MAX_BYTES} bytes."}
    return {}


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def create_user(
    db: DbSession,
    actor: Actor | None,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    email: str = "",
    bcrypt_rounds: int = 12,
) -> int:
    """Create a user. Only an admin may, except for the very first admin of a clinic.

    Without an actor (the `python -m dashboard create-user` path) the only account that
    may be created is the clinic's first admin; after that an admin must log in.
    """
    begin_write(db)
    has_admin = db.scalar(select(func.count()).select_from(User).where(User.role == "admin"))
    if actor is None and (has_admin or role != Role.ADMIN.value):
        audit.record_now(
            db,
            None,
            "create_user",
            entity="user",
            success=False,
            detail=f"{username.strip().lower()} ({role}) without an admin login",
            username="cli",
        )
        if has_admin:
            raise AccessDenied("An admin already exists: ask them to create the account.")
        raise AccessDenied("The first account must be an admin: create it with --role admin.")
    if actor is not None:
        scope.require_active(db, actor, "create_user", entity="user")
    if actor is not None and not actor.is_admin:
        audit.record_now(db, actor, "create_user", entity="user", success=False)
        raise AccessDenied("Only a clinic admin can create accounts.")
    username = username.strip().lower()
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = (
            "Use 3 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter."
        )
    display_name = normalised(display_name.strip())
    if is_blank(display_name):
        errors["display_name"] = "Enter the name colleagues know this person by."
    elif len(display_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = f"The name may have at most {DISPLAY_NAME_MAX} characters."
    elif problem := text_problem(display_name, "The name"):
        errors["display_name"] = problem
    if problem := text_problem(email, "The email address"):
        errors["email"] = problem
    elif len(email.strip()) > EMAIL_MAX:
        errors["email"] = f"The email address may have at most {EMAIL_MAX} characters."
    if role not in set(Role):
        errors["role"] = "Choose counselor, supervisor or admin."
    errors.update(_password_errors(password))
    if errors:
        db.rollback()  # end the read transaction: on SQLite it holds the write lock
        raise ValidationFailed(errors)
    user = User(
        username=username,
        display_name=display_name,
        email=email.strip() or None,
        role=role,
        password_hash=hash_password(password, bcrypt_rounds),
        active=True,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise ValidationFailed({"username": f"The username '{username}' is taken."}) from exc
    audit.record(
        db,
        actor,
        "create_user",
        entity="user",
        entity_id=user.id,
        detail=f"{username} ({role})",
        username="cli" if actor is None else None,
    )
    db.commit()
    return user.id
