"""Single sign-on: whom an identity provider's word signs in, and when it stops counting.

The provider vouches for a person; Bondline maps them to one user by email at the first
sign-in, pins that provider account from then on, and keeps its own checks (active,
logout, idle, absolute limit) exactly as for its own sign-in cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dashboard.services import admin, auth, sso
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import begin_write
from db.models import User
from tests.conftest import Clinic

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
LIMITS = auth.SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
ISSUER = "https://sign-in.example.org"


def set_email(db: Session, user_id: int, email: str | None) -> None:
    begin_write(db)
    db.get_one(User, user_id).email = email
    db.commit()


def identity(
    email: str = "cara@clinic.example",
    *,
    subject: str = "sub-cara",
    issued: datetime = NOW,
    verified: bool | None = True,
    issuer: str = ISSUER,
) -> sso.Identity:
    claims: dict[str, object] = {"iss": issuer, "sub": subject, "iat": int(issued.timestamp())}
    if email:
        claims["email"] = email
    if verified is not None:
        claims["email_verified"] = verified
    made = sso.Identity.from_claims(claims)
    assert made is not None
    return made


def sign_in(db: Session, who: sso.Identity, at: datetime = NOW) -> sso.Accepted | str:
    return sso.begin_sso_session(db, who, limits=LIMITS, now=at)


@pytest.fixture
def cara(db: Session, clinic: Clinic) -> Clinic:
    set_email(db, clinic.counselor.user_id, "Cara@Clinic.example")
    return clinic


def test_the_first_sign_in_links_the_user_with_that_email_and_is_audited(
    db: Session, cara: Clinic, audits, backend: str
) -> None:
    result = sign_in(db, identity(" CARA@clinic.example "))
    assert isinstance(result, sso.Accepted)
    assert result.actor == cara.counselor
    assert result.login_at == NOW  # issued now: the session begins now
    db.rollback()
    user = db.get_one(User, cara.counselor.user_id)
    assert user.sso_subject == f"{ISSUER} sub-cara"
    assert user.last_active_at == NOW
    [event] = audits(action="login")
    assert (event.user_id, event.success, event.detail) == (
        cara.counselor.user_id,
        True,
        "single sign-on, account linked",
    )


def test_a_linked_account_signs_in_whatever_email_it_carries_later(
    db: Session, cara: Clinic, audits, backend: str
) -> None:
    sign_in(db, identity())
    later = NOW + timedelta(hours=1)
    result = sign_in(db, identity("cara.new-name@clinic.example", issued=later), at=later)
    assert isinstance(result, sso.Accepted) and result.actor == cara.counselor
    assert [e.detail for e in audits(action="login")] == [
        "single sign-on, account linked",
        "single sign-on",
    ]


def test_another_provider_account_with_the_linked_users_email_is_refused(
    db: Session, cara: Clinic, audits, backend: str
) -> None:
    sign_in(db, identity())
    result = sign_in(db, identity(subject="someone-else"))
    assert result == (
        "This Bondline user is linked to a different sign-in account. Ask your clinic admin."
    )
    # The same subject at another provider is another account too.
    assert isinstance(sign_in(db, identity(issuer="https://other.example")), str)
    failed = audits(action="login_failed")
    assert [(e.user_id, e.success) for e in failed] == [(cara.counselor.user_id, False)] * 2
    assert failed[0].detail.startswith("single sign-on: This Bondline user is linked")


@pytest.mark.parametrize(
    ("email", "verified", "says"),
    [
        ("nobody@clinic.example", True, "No Bondline user has the email address"),
        ("cara@clinic.example", False, "email address is not verified"),
        ("", None, "gave no email address"),
    ],
)
def test_an_identity_matching_no_user_is_refused_with_the_reason(
    db: Session, cara: Clinic, audits, backend: str, email: str, verified: bool | None, says: str
) -> None:
    result = sign_in(db, identity(email, verified=verified))
    assert isinstance(result, str) and says in result
    [event] = audits(action="login_failed")
    assert (event.user_id, event.success) == (None, False)
    assert event.username == (email or "sub-cara")
    db.rollback()
    assert db.get_one(User, cara.counselor.user_id).sso_subject is None


def test_a_provider_that_does_not_say_whether_the_email_is_verified_is_believed(
    db: Session, cara: Clinic, backend: str
) -> None:
    # Microsoft Entra ID sends no email_verified claim; a clinic's own provider is trusted.
    assert isinstance(sign_in(db, identity(verified=None)), sso.Accepted)


def test_an_email_two_users_share_signs_in_neither(db: Session, cara: Clinic, backend: str) -> None:
    set_email(db, cara.other_counselor.user_id, "cara@clinic.example")
    result = sign_in(db, identity())
    assert isinstance(result, str) and "More than one Bondline user" in result


def test_a_deactivated_user_is_refused_even_when_linked(
    db: Session, cara: Clinic, backend: str
) -> None:
    sign_in(db, identity())
    admin.set_active(db, cara.admin, cara.counselor.user_id, active=False)
    later = NOW + timedelta(minutes=5)
    result = sign_in(db, identity(issued=later), at=later)
    assert result == "This account is not active. Ask your clinic admin."


def test_an_identity_from_before_a_logout_is_refused_a_fresh_one_is_not(
    db: Session, cara: Clinic, backend: str
) -> None:
    sign_in(db, identity())
    auth.logout(db, cara.counselor, now=NOW + timedelta(minutes=5))
    at = NOW + timedelta(minutes=6)
    assert sign_in(db, identity(issued=NOW), at=at) == "You were signed out. Please sign in again."
    # A fresh sign-in whose provider clock runs 50 s behind ours (CLOCK_LEEWAY is 60 s):
    # issued "before" the logout by its clock, after it in fact.
    fresh = identity(issued=NOW + timedelta(minutes=5) - timedelta(seconds=50))
    result = sign_in(db, fresh, at=at)
    assert isinstance(result, sso.Accepted)
    # The session counts from the provider's sign-in plus the leeway: 5 min 10 s after
    # NOW, which is after the logout, so the first check of the live session passes too.
    assert result.login_at == NOW + timedelta(minutes=5, seconds=10)
    live = auth.check_session(
        db, cara.counselor.user_id, login_at=result.login_at, last_seen=at, limits=LIMITS, now=at
    )
    assert live == cara.counselor


def test_an_identity_older_than_the_absolute_limit_is_refused(
    db: Session, cara: Clinic, backend: str
) -> None:
    late = NOW + LIMITS.absolute + timedelta(minutes=1)
    sign_in(db, identity(issued=late - timedelta(minutes=1)), at=late - timedelta(minutes=1))
    result = sign_in(db, identity(issued=NOW), at=late)
    assert result == "Your session reached its time limit. Please sign in again."


def test_idle_counts_from_the_later_of_the_last_activity_and_the_provider_sign_in(
    db: Session, cara: Clinic, backend: str
) -> None:
    sign_in(db, identity(issued=NOW), at=NOW)  # last active: NOW
    later = NOW + LIMITS.idle + timedelta(minutes=1)
    # The identity cookie from NOW, back after 31 idle minutes: refused.
    result = sign_in(db, identity(issued=NOW), at=later)
    assert isinstance(result, str) and "inactivity" in result
    # Signing in at the provider again is activity: accepted.
    assert isinstance(sign_in(db, identity(issued=later), at=later), sso.Accepted)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x", "iat": 1},
        {"iss": ISSUER, "iat": 1},
        {"iss": ISSUER, "sub": "x"},
        {"iss": ISSUER, "sub": "", "iat": 1},
        {"iss": ISSUER, "sub": "x", "iat": "yesterday"},
        {"iss": ISSUER, "sub": "x", "iat": True},
    ],
)
def test_claims_without_issuer_subject_or_issue_time_are_no_identity(claims: dict) -> None:
    assert sso.Identity.from_claims(claims) is None


def test_an_admin_unlinks_so_the_next_sign_in_links_again_and_sessions_end(
    db: Session, cara: Clinic, audits, backend: str
) -> None:
    first = sign_in(db, identity())
    assert isinstance(first, sso.Accepted)
    later = NOW + timedelta(minutes=10)
    admin.unlink_sso(db, cara.admin, cara.counselor.user_id, now=later)
    db.rollback()
    assert db.get_one(User, cara.counselor.user_id).sso_subject is None
    db.rollback()
    # The session begun with the old link ends at its next check.
    ended = auth.check_session(
        db, cara.counselor.user_id, login_at=first.login_at, last_seen=NOW, limits=LIMITS, now=NOW
    )
    assert isinstance(ended, str) and "signed out" in ended
    [event] = audits(action="unlink_sso")
    assert (event.user_id, event.entity_id) == (cara.admin.user_id, cara.counselor.user_id)
    fresh = sign_in(db, identity(subject="sub-cara-new", issued=later), at=later)
    assert isinstance(fresh, sso.Accepted) and fresh.actor == cara.counselor
    with pytest.raises(ValidationFailed):
        admin.unlink_sso(db, cara.admin, cara.other_counselor.user_id)  # never linked


def test_only_an_admin_unlinks(db: Session, cara: Clinic, backend: str) -> None:
    sign_in(db, identity())
    with pytest.raises(AccessDenied):
        admin.unlink_sso(db, cara.supervisor, cara.counselor.user_id)
