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
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from dashboard.domain import sign_in
from dashboard.domain.catalog import Role
from dashboard.domain.typed_text import is_blank, normalised, text_problem
from dashboard.services import audit, scope
from dashboard.services.actor import Actor
from dashboard.services.admin import require_admin
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import begin_write
from db.models import AuditEvent, SignInFailure, User, utcnow

USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
PASSWORD_MIN = 10
# The users table's column sizes: longer text is refused here, not by the database.
DISPLAY_NAME_MAX = 120
EMAIL_MAX = 254
BCRYPT_MAX_BYTES = 72
ACTIVITY_WRITE_INTERVAL = timedelta(minutes=1)
AUDIT_USERNAME_MAX = 64  # audit_events.username
UNKNOWN_CLIENT = sign_in.UNKNOWN_DEVICE


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


def audit_login_failed(
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
    db: DbSession,
    username: str,
    reason: str,
    *,
    client: str = UNKNOWN_CLIENT,
    counted: bool = True,
    now: datetime | None = None,
) -> datetime | None:
    """Put a failed sign-in on record; when the device must now wait, say until when
    (and put that on record too). `counted` False: an attempt refused for waiting,
    which must not lengthen anyone's wait."""
    now = now or utcnow()
    name, client = _login_name(username), client[:64]
    begin_write(db)
    user = db.scalar(select(User).where(User.username == name))
    audit_login_failed(db, username, user, f"{reason} (device {client})", now)
    if not counted:
        db.commit()
        return None
    db.add(SignInFailure(username=name, client=client, failed_at=now, cleared=False))
    db.flush()
    until = _retry_at(db, name, client, now)
    if until is not None:
        audit.record(
            db,
            actor_of(user) if user else None,
            "sign_in_throttled",
            entity="user",
            entity_id=user.id if user else None,
            success=False,
            username=name,
            occurred_at=now,
            detail=f"device {client} waits until {until:%Y-%m-%d %H:%M:%S} UTC",
        )
    db.commit()
    return until


def _failures(db: DbSession, *where: object) -> sign_in.Failures:
    count, latest = db.execute(
        select(func.count(), func.max(SignInFailure.failed_at)).where(
            SignInFailure.cleared.is_(False), *where
        )
    ).one()
    return sign_in.Failures(count, latest)


def _retry_at(db: DbSession, name: str, client: str, now: datetime) -> datetime | None:
    window = (SignInFailure.failed_at > now - sign_in.WINDOW, SignInFailure.failed_at <= now)
    # A name's failures stop counting once it signs in: the owner got in. Only a sign-in
    # inside the window can matter (the occurred_at index keeps this a short read).
    signed_in = db.scalar(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == "login",
            AuditEvent.success.is_(True),
            AuditEvent.username == name,
            AuditEvent.occurred_at > now - sign_in.WINDOW,
            AuditEvent.occurred_at <= now,
        )
    )
    since = (SignInFailure.failed_at > signed_in,) if signed_in else ()
    this_name = (SignInFailure.username == name, *window, *since)
    return sign_in.retry_at(
        now,
        device_name=_failures(db, *this_name, SignInFailure.client == client),
        name=_failures(db, *this_name),
        device=_failures(db, SignInFailure.client == client, *window),
    )


def sign_in_retry_at(
    db: DbSession, username: str, *, client: str = UNKNOWN_CLIENT, now: datetime | None = None
) -> datetime | None:
    """When this device may next try this name (None: now). Asked before a password is
    checked, so a device that must wait learns nothing from guessing on. Unknown names
    are counted alike: the answer tells nothing about which accounts exist."""
    until = _retry_at(db, _login_name(username), client[:64], now or utcnow())
    db.rollback()
    return until


def failed_sign_ins(db: DbSession, actor: Actor, *, now: datetime | None = None) -> pd.DataFrame:
    """Names with failed sign-ins counting now (admins: to see who may be under attack
    and unlock an owner)."""
    require_admin(db, actor, "view_sign_in_failures")
    now = now or utcnow()
    rows = db.execute(
        select(
            SignInFailure.username,
            func.count(),
            func.count(func.distinct(SignInFailure.client)),
            func.max(SignInFailure.failed_at),
        )
        .where(SignInFailure.cleared.is_(False), SignInFailure.failed_at > now - sign_in.WINDOW)
        .group_by(SignInFailure.username)
        .order_by(func.max(SignInFailure.failed_at).desc())
    ).all()
    return pd.DataFrame(rows, columns=["Username", "Failed sign-ins (15 min)", "Devices", "Latest"])


def unlock_sign_in(
    db: DbSession, actor: Actor, username: str, *, now: datetime | None = None
) -> int:
    """An admin clears a name's failed sign-ins: no device waits for it any more.
    Audited; returns how many failures were cleared."""
    begin_write(db)
    require_admin(db, actor, "unlock_sign_in")
    name = _login_name(username)
    cleared = db.execute(
        update(SignInFailure)
        .where(SignInFailure.username == name, SignInFailure.cleared.is_(False))
        .values(cleared=True)
    ).rowcount
    audit.record(
        db,
        actor,
        "unlock_sign_in",
        entity="user",
        username=actor.username,
        detail=f"{name}: {cleared} failed sign-ins cleared",
        occurred_at=now,
    )
    db.commit()
    return cleared


def begin_session(
    db: DbSession,
    username: str,
    *,
    limits: SessionLimits,
    cookie_issued_at: datetime | None = None,
    client: str = UNKNOWN_CLIENT,
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
    # A password can be guessed; a signed cookie cannot, so only password sign-ins wait.
    until = None if cookie_issued_at else _retry_at(db, _login_name(username), client[:64], now)
    if until is not None:
        reason = f"Too many failed sign-ins. Try again after {until:%H:%M:%S} UTC."
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
        audit_login_failed(db, username, user, f"{via}: {reason}", now)
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
