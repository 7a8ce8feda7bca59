"""Single sign-on: the clinic's identity provider (OIDC) vouches for a person, and
Bondline decides whether, and as whom, they may work.

The provider's word maps to a Bondline user, never replaces one: the role, the active
flag, the caseload and every server-side check stay Bondline's. Mapping: the first
sign-in links the user whose email is the identity's (one user only, and a verified
email where the provider says so); from then on only that provider account (issuer and
subject) signs in as that user, whatever email it later carries. An admin can unlink.

Streamlit keeps the identity in a signed cookie for up to 30 days, so a returning
identity is treated as Bondline's own sign-in cookie is (services/auth.py): refused when
it was issued before the user's last logout, past the absolute limit, or after the idle
timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from dashboard.services import audit
from dashboard.services.actor import Actor
from dashboard.services.auth import SessionLimits, actor_of, audit_login_failed
from db.engine import begin_write
from db.models import User, utcnow

# How far the provider's clock may be from ours. An identity issued this long before a
# logout still counts as after it: a fresh sign-in straight after a logout must not be
# refused because the provider's clock runs a little behind.
CLOCK_LEEWAY = timedelta(seconds=60)
SUBJECT_MAX = 512  # users.sso_subject


@dataclass(frozen=True)
class Identity:
    """What the provider vouched for, from its signed ID token."""

    issuer: str
    subject: str
    email: str
    email_verified: bool | None
    issued_at: datetime

    @property
    def key(self) -> str:
        """Issuer and subject: the provider's own name for the account, which never
        changes (an email can)."""
        return f"{self.issuer} {self.subject}"

    @classmethod
    def from_claims(cls, claims: Mapping[str, object]) -> Identity | None:
        """The identity in an ID token's claims, or None when the token lacks what a
        sign-in needs (issuer, subject, issue time)."""
        issuer, subject, issued = claims.get("iss"), claims.get("sub"), claims.get("iat")
        if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer or not subject:
            return None
        if not isinstance(issued, int | float) or isinstance(issued, bool):
            return None
        verified = claims.get("email_verified")
        email = claims.get("email")
        return cls(
            issuer=issuer,
            subject=subject,
            email=email.strip().lower() if isinstance(email, str) else "",
            email_verified=verified if isinstance(verified, bool) else None,
            issued_at=datetime.fromtimestamp(float(issued), UTC),
        )


@dataclass(frozen=True)
class Accepted:
    actor: Actor
    # When the live session counts as begun (services/auth.check_session): the
    # provider's sign-in plus the clock leeway, never later than now, so a fresh
    # sign-in just after a logout is not ended at its first check. The absolute limit
    # of the live session is thereby at most CLOCK_LEEWAY longer.
    login_at: datetime


def begin_sso_session(
    db: DbSession, identity: Identity, *, limits: SessionLimits, now: datetime | None = None
) -> Accepted | str:
    """Accept a sign-in the provider vouched for, or say why not (a sentence for the
    login page). Audited either way, as a password sign-in is."""
    begin_write(db)
    now = now or utcnow()
    issued = min(now, identity.issued_at)
    begun = min(now, identity.issued_at + CLOCK_LEEWAY)
    user, reason = _user_for(db, identity)
    if user is not None and reason is None:
        if not user.active:
            reason = "This account is not active. Ask your clinic admin."
        elif user.sessions_valid_after and begun < user.sessions_valid_after:
            reason = "You were signed out. Please sign in again."
        elif now - issued > limits.absolute:
            reason = "Your session reached its time limit. Please sign in again."
        elif now - max(user.last_active_at or issued, issued) > limits.idle:
            reason = "You were signed out after a period of inactivity. Please sign in again."
    if reason is not None:
        name = identity.email or identity.subject
        audit_login_failed(db, name, user, f"single sign-on: {reason}", now)
        db.commit()
        return reason
    assert user is not None
    linked_now = user.sso_subject is None
    user.sso_subject = identity.key[:SUBJECT_MAX]
    user.last_active_at = now
    audit.record(
        db,
        actor_of(user),
        "login",
        entity="user",
        entity_id=user.id,
        detail="single sign-on, account linked" if linked_now else "single sign-on",
        occurred_at=now,
    )
    db.commit()
    return Accepted(actor_of(user), begun)


def _user_for(db: DbSession, identity: Identity) -> tuple[User | None, str | None]:
    """The user this identity signs in as, or the reason there is none."""
    linked = db.scalar(select(User).where(User.sso_subject == identity.key[:SUBJECT_MAX]))
    if linked is not None:
        return linked, None
    if not identity.email:
        return None, (
            "Your sign-in account gave no email address, so it matches no Bondline user. "
            "Ask your clinic admin."
        )
    if identity.email_verified is False:
        return None, (
            "Your sign-in account's email address is not verified. Verify it with your "
            "clinic's sign-in service, then try again."
        )
    users = db.scalars(select(User).where(func.lower(User.email) == identity.email)).all()
    if not users:
        return None, (
            f"No Bondline user has the email address {identity.email}. Ask your clinic "
            "admin to add it to your account."
        )
    if len(users) > 1:
        return None, (
            f"More than one Bondline user has the email address {identity.email}. Ask "
            "your clinic admin to give each account its own."
        )
    [user] = users
    if user.sso_subject is not None:
        return user, (
            "This Bondline user is linked to a different sign-in account. Ask your clinic admin."
        )
    return user, None
