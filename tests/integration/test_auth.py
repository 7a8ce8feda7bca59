"""Auth service: who may log in, when a cookie or a live session stops being trusted,
and who may create accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bcrypt
import pytest
from sqlalchemy.orm import Session

from dashboard.services import auth
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import begin_write
from db.models import User
from tests.conftest import TEST_PASSWORD, Clinic

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
LIMITS = auth.SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def deactivate(db: Session, user_id: int) -> None:
    begin_write(db)
    db.get_one(User, user_id).active = False
    db.commit()


def login(db: Session, username: str, at: datetime = NOW) -> Actor | str:
    return auth.begin_session(db, username, limits=LIMITS, now=at)


def cookie_login(db: Session, username: str, issued: datetime, at: datetime) -> Actor | str:
    return auth.begin_session(db, username, limits=LIMITS, cookie_issued_at=issued, now=at)


# --- login credentials ----------------------------------------------------------------


def test_login_credentials_list_active_users_with_bcrypt_hashes(
    db: Session, clinic: Clinic, backend: str
) -> None:
    deactivate(db, clinic.other_counselor.user_id)
    creds = auth.login_credentials(db)["usernames"]
    assert set(creds) == {"admin", "sam.super", "cara.couns"}
    entry = creds["cara.couns"]
    assert entry["name"] == "Cara Couns"
    assert entry["roles"] == ["counselor"]
    assert entry["password"] != TEST_PASSWORD
    assert entry["password"].startswith("$2")
    assert bcrypt.checkpw(TEST_PASSWORD.encode(), entry["password"].encode())


# --- begin_session: a fresh login -----------------------------------------------------


def test_password_login_gives_the_actor_and_is_audited(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    actor = login(db, "cara.couns")
    assert actor == clinic.counselor
    db.rollback()
    assert db.get_one(User, clinic.counselor.user_id).last_active_at == NOW
    db.rollback()
    [event] = audits(action="login")
    assert (event.user_id, event.entity, event.success, event.detail) == (
        clinic.counselor.user_id,
        "user",
        True,
        "password",
    )


def test_login_name_is_matched_case_insensitively(
    db: Session, clinic: Clinic, backend: str
) -> None:
    assert login(db, " Cara.Couns ") == clinic.counselor


def test_inactive_user_cannot_log_in(db: Session, clinic: Clinic, audits, backend: str) -> None:
    deactivate(db, clinic.counselor.user_id)
    result = login(db, "cara.couns")
    assert result == "This account is not active. Ask your clinic admin."
    [event] = audits(action="login_failed")
    assert (event.user_id, event.success) == (clinic.counselor.user_id, False)
    assert audits(action="login") == []


def test_unknown_user_is_refused_and_audited_by_name(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    assert isinstance(login(db, "nobody"), str)
    assert isinstance(login(db, "y" * 100), str)  # longer than the audit column
    first, second = audits(action="login_failed")
    assert (first.user_id, first.username, first.success) == (None, "nobody", False)
    assert second.username == "y" * 64


def test_valid_cookie_is_accepted(db: Session, clinic: Clinic, audits, backend: str) -> None:
    login(db, "cara.couns", at=NOW)
    actor = cookie_login(db, "cara.couns", issued=NOW, at=NOW + timedelta(minutes=10))
    assert actor == clinic.counselor
    assert [e.detail for e in audits(action="login")] == ["password", "cookie"]


def test_cookie_issued_before_logout_is_refused(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    login(db, "cara.couns", at=NOW)
    auth.logout(db, clinic.counselor, now=NOW + timedelta(minutes=5))
    result = cookie_login(db, "cara.couns", issued=NOW, at=NOW + timedelta(minutes=6))
    assert result == "You were signed out. Please log in again."
    [event] = audits(action="login_failed")
    assert event.detail.startswith("cookie:")


def test_cookie_older_than_the_absolute_limit_is_refused(
    db: Session, clinic: Clinic, backend: str
) -> None:
    # Active a minute ago, so only the cookie's age can be the reason.
    late = NOW + LIMITS.absolute + timedelta(minutes=1)
    login(db, "cara.couns", at=late - timedelta(minutes=1))
    result = cookie_login(db, "cara.couns", issued=NOW, at=late)
    assert result == "Your session reached its time limit. Please log in again."


def test_cookie_of_an_idle_user_is_refused(db: Session, clinic: Clinic, backend: str) -> None:
    login(db, "cara.couns", at=NOW)
    later = NOW + LIMITS.idle + timedelta(minutes=1)
    result = cookie_login(db, "cara.couns", issued=NOW, at=later)
    assert isinstance(result, str) and "inactivity" in result


def test_cookie_of_a_deactivated_user_is_refused(db: Session, clinic: Clinic, backend: str) -> None:
    login(db, "cara.couns", at=NOW)
    deactivate(db, clinic.counselor.user_id)
    result = cookie_login(db, "cara.couns", issued=NOW, at=NOW + timedelta(minutes=1))
    assert isinstance(result, str) and "not active" in result


# --- check_session: every run of a live session ---------------------------------------


def check(db: Session, clinic: Clinic, *, login_at: datetime, last_seen: datetime, at: datetime):
    return auth.check_session(
        db,
        clinic.counselor.user_id,
        login_at=login_at,
        last_seen=last_seen,
        limits=LIMITS,
        now=at,
    )


def test_live_session_continues_and_records_activity(
    db: Session, clinic: Clinic, backend: str
) -> None:
    at = NOW + timedelta(minutes=20)
    assert check(db, clinic, login_at=NOW, last_seen=NOW, at=at) == clinic.counselor
    db.rollback()
    assert db.get_one(User, clinic.counselor.user_id).last_active_at == at
    db.rollback()


def test_idle_session_ends(db: Session, clinic: Clinic, audits, backend: str) -> None:
    at = NOW + timedelta(minutes=31)
    result = check(db, clinic, login_at=NOW, last_seen=NOW, at=at)
    assert result == "You were signed out after a period of inactivity."
    [event] = audits(action="session_ended")
    assert event.user_id == clinic.counselor.user_id and event.detail == result


def test_session_ends_at_the_absolute_limit_even_when_busy(
    db: Session, clinic: Clinic, backend: str
) -> None:
    at = NOW + timedelta(hours=12, minutes=1)
    result = check(db, clinic, login_at=NOW, last_seen=at - timedelta(minutes=1), at=at)
    assert result == "Your session reached its time limit."


def test_session_ends_when_the_account_is_deactivated(
    db: Session, clinic: Clinic, backend: str
) -> None:
    deactivate(db, clinic.counselor.user_id)
    result = check(db, clinic, login_at=NOW, last_seen=NOW, at=NOW + timedelta(minutes=1))
    assert result == "This account is no longer active."


def test_logout_elsewhere_ends_every_session(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    auth.logout(db, clinic.counselor, now=NOW + timedelta(minutes=2))
    [event] = audits(action="logout")
    assert (event.user_id, event.success) == (clinic.counselor.user_id, True)

    result = check(db, clinic, login_at=NOW, last_seen=NOW, at=NOW + timedelta(minutes=3))
    assert isinstance(result, str) and "signed out" in result
    # A login after the logout stands.
    after = NOW + timedelta(minutes=4)
    assert check(db, clinic, login_at=after, last_seen=after, at=after) == clinic.counselor


# --- failed logins ----------------------------------------------------------------------


def test_failed_login_is_audited(db: Session, clinic: Clinic, audits, backend: str) -> None:
    auth.record_failed_login(db, "Cara.Couns", "wrong password")
    auth.record_failed_login(db, "x" * 100, "unknown user")
    known, unknown = audits(action="login_failed")
    assert (known.user_id, known.success, known.detail) == (
        clinic.counselor.user_id,
        False,
        "wrong password",
    )
    assert (unknown.user_id, unknown.username) == (None, "x" * 64)


def test_inactive_account_is_recognised_only_with_its_password(
    db: Session, clinic: Clinic, backend: str
) -> None:
    assert auth.is_inactive_account(db, "cara.couns", TEST_PASSWORD) is False
    deactivate(db, clinic.counselor.user_id)
    assert auth.is_inactive_account(db, "cara.couns", TEST_PASSWORD) is True
    assert auth.is_inactive_account(db, "cara.couns", "wrong-password") is False
    assert auth.is_inactive_account(db, "nobody", TEST_PASSWORD) is False


# --- too many failed logins -----------------------------------------------------------


def fail(db: Session, username: str, at: datetime, times: int = 1) -> None:
    for _ in range(times):
        auth.record_failed_login(db, username, "wrong password", now=at)


def test_five_failures_in_15_minutes_lock_the_name(
    db: Session, clinic: Clinic, backend: str
) -> None:
    fail(db, "cara.couns", NOW - timedelta(minutes=14), times=4)
    assert auth.too_many_failed_logins(db, "cara.couns", now=NOW) is False
    fail(db, "cara.couns", NOW - timedelta(minutes=1))
    assert auth.too_many_failed_logins(db, "cara.couns", now=NOW) is True
    # However the name is typed.
    assert auth.too_many_failed_logins(db, "  Cara.Couns ", now=NOW) is True
    # Someone else's name is not affected.
    assert auth.too_many_failed_logins(db, "olly.other", now=NOW) is False
    # Once the oldest failure is more than 15 minutes old, four remain: unlocked.
    assert auth.too_many_failed_logins(db, "cara.couns", now=NOW + timedelta(minutes=2)) is False


def test_unknown_names_are_locked_too(db: Session, clinic: Clinic, backend: str) -> None:
    """Guessing names is slowed the same way, and the answer tells nothing."""
    fail(db, "nobody", NOW, times=5)
    assert auth.too_many_failed_logins(db, "nobody", now=NOW) is True


def test_a_successful_login_after_the_failures_unlocks(
    db: Session, clinic: Clinic, backend: str
) -> None:
    fail(db, "cara.couns", NOW - timedelta(minutes=10), times=5)
    assert login(db, "cara.couns", at=NOW - timedelta(minutes=12)) == clinic.counselor
    assert auth.too_many_failed_logins(db, "cara.couns", now=NOW) is True  # login was before
    # A cookie login is not a password guess: it is not locked out, and it unlocks.
    assert (
        cookie_login(
            db, "cara.couns", issued=NOW - timedelta(minutes=12), at=NOW - timedelta(minutes=5)
        )
        == clinic.counselor
    )
    assert auth.too_many_failed_logins(db, "cara.couns", now=NOW) is False


def test_a_locked_name_cannot_log_in_even_with_the_right_password(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    fail(db, "cara.couns", NOW - timedelta(minutes=5), times=5)
    result = login(db, "cara.couns", at=NOW)
    assert result == "Too many failed attempts. Wait 15 minutes or ask your clinic admin."
    assert audits(action="login") == []
    refused = audits(action="login_failed")[-1]
    assert (refused.user_id, refused.success) == (clinic.counselor.user_id, False)
    assert refused.detail == f"password: {result}"
    # Fifteen quiet minutes later the right password works again.
    assert login(db, "cara.couns", at=NOW + timedelta(minutes=16)) == clinic.counselor


# --- create_user --------------------------------------------------------------------------


def create(db: Session, actor: Actor | None, **overrides: str) -> int:
    values = {
        "username": "new.user",
        "display_name": "New User",
        "role": "counselor",
        "password": "long-enough-pw",
    }
    values.update(overrides)
    return auth.create_user(db, actor, bcrypt_rounds=4, **values)  # type: ignore[arg-type]


def test_admin_creates_a_user_who_can_then_log_in(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    user_id = create(db, clinic.admin, username="  New.User ", email=" n@example.org ")
    user = db.get_one(User, user_id)
    assert (user.username, user.email, user.role, user.active) == (
        "new.user",
        "n@example.org",
        "counselor",
        True,
    )
    db.rollback()
    assert "new.user" in auth.login_credentials(db)["usernames"]
    assert isinstance(login(db, "new.user"), Actor)
    [event] = audits(action="create_user", entity_id=user_id)
    assert (event.user_id, event.success) == (clinic.admin.user_id, True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "9lives"}, "username"),
        ({"username": "has space"}, "username"),
        ({"display_name": "  "}, "display_name"),
        ({"display_name": "x" * 121}, "display_name"),
        ({"email": "e" * 250 + "@x.org"}, "email"),
        ({"role": "owner"}, "role"),
        ({"password": "short"}, "password"),
        ({"password": "é" * 40}, "password"),  # 80 bytes: bcrypt would cut it
        ({"password": " long-enough-pw"}, "password"),
        ({"password": "long-enough-pw\t"}, "password"),
    ],
)
def test_create_user_validates_each_field(
    db: Session, clinic: Clinic, overrides: dict, field: str, rows, backend: str
) -> None:
    before = rows(User)
    with pytest.raises(ValidationFailed) as caught:
        create(db, clinic.admin, **overrides)
    assert list(caught.value.errors) == [field]
    assert rows(User) == before


@pytest.mark.parametrize("password", [" long-enough-pw", "long-enough-pw ", "  padded-password  "])
def test_a_password_that_starts_or_ends_with_a_space_is_refused(
    db: Session, clinic: Clinic, password: str, rows, backend: str
) -> None:
    """The login form strips spaces, so such a password could never be typed in."""
    with pytest.raises(ValidationFailed) as caught:
        create(db, clinic.admin, password=password)
    assert caught.value.errors == {"password": "The password cannot start or end with a space."}
    assert rows(User) == 4
    create(db, clinic.admin, password="spaces inside are fine")


def test_username_must_be_unique(db: Session, clinic: Clinic, rows, backend: str) -> None:
    before = rows(User)
    with pytest.raises(ValidationFailed) as caught:
        create(db, clinic.admin, username="CARA.COUNS")
    assert list(caught.value.errors) == ["username"]
    assert rows(User) == before


@pytest.mark.parametrize("who", ["counselor", "supervisor"])
def test_only_admins_create_users(
    db: Session, clinic: Clinic, who: str, rows, audits, backend: str
) -> None:
    actor = getattr(clinic, who)
    before = rows(User)
    with pytest.raises(AccessDenied):
        create(db, actor, role="admin")
    assert rows(User) == before
    [event] = audits(action="create_user", user_id=actor.user_id)
    assert event.success is False


def test_first_admin_needs_no_login(db: Session, audits, backend: str) -> None:
    user_id = create(db, None, username="first", role="admin")
    [event] = audits(action="create_user")
    assert (event.user_id, event.username, event.entity_id, event.success) == (
        None,
        "cli",
        user_id,
        True,
    )


def test_a_second_admin_needs_an_admin_login(db: Session, rows, audits, backend: str) -> None:
    first = create(db, None, username="first", role="admin")
    with pytest.raises(AccessDenied, match="admin already exists"):
        create(db, None, username="second", role="admin")
    assert rows(User) == 1
    assert [e.success for e in audits(action="create_user")] == [True, False]
    admin = Actor(first, "first", "New User", auth.Role.ADMIN)
    create(db, admin, username="second", role="admin")
    assert rows(User) == 2


@pytest.mark.parametrize("role", ["counselor", "supervisor"])
def test_without_a_login_only_an_admin_can_be_created(
    db: Session, role: str, rows, backend: str
) -> None:
    with pytest.raises(AccessDenied, match="first account must be an admin"):
        create(db, None, role=role)
    assert rows(User) == 0
