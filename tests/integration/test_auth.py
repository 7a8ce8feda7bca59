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
        "wrong password (device unknown)",
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


# --- failed sign-ins slow the next attempt (dashboard/domain/sign_in.py) -----------------

ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


def fail(db: Session, username: str, at: datetime, times: int = 1, client: str = ATTACKER):
    """`times` failures one second apart, the last at `at`; the last one's retry time."""
    until = None
    for n in range(times):
        until = auth.record_failed_login(
            db, username, "wrong password", client=client, now=at - timedelta(seconds=times - 1 - n)
        )
    return until


def retry(db: Session, username: str, client: str, at: datetime = NOW):
    return auth.sign_in_retry_at(db, username, client=client, now=at)


def test_the_failing_device_waits_longer_each_time_up_to_five_minutes(
    db: Session, clinic: Clinic, backend: str
) -> None:
    # Failures 1 and 2 cost nothing; the 3rd (inclusive) starts a wait of 2**0 = 1 s.
    assert fail(db, "cara.couns", NOW, times=2) is None
    assert retry(db, "cara.couns", ATTACKER) is None
    assert fail(db, "cara.couns", NOW + timedelta(seconds=1)) == NOW + timedelta(seconds=2)
    assert fail(db, "cara.couns", NOW + timedelta(seconds=2)) == NOW + timedelta(seconds=4)
    assert fail(db, "cara.couns", NOW + timedelta(seconds=4)) == NOW + timedelta(seconds=8)
    # The 12th failure: 2**9 = 512 s, capped at 300 s.
    at = NOW + timedelta(seconds=5)
    assert fail(db, "cara.couns", at, times=7) == at + timedelta(seconds=300)
    # However the name is typed; someone else's name waits for nothing.
    assert retry(db, "  Cara.Couns ", ATTACKER, at) == at + timedelta(seconds=300)
    assert retry(db, "olly.other", OWNER, at) is None


def test_the_owner_at_another_device_waits_at_most_30_seconds_after_50_failures(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    fail(db, "cara.couns", NOW, times=50)
    # 50 from one device: past its own limit for any name too (20), so 15 minutes.
    assert retry(db, "cara.couns", ATTACKER) == NOW + timedelta(minutes=15)
    assert retry(db, "cara.couns", OWNER) == NOW + timedelta(seconds=30)
    # 30 s after the attacker's latest try, the owner signs in with the password.
    later = NOW + timedelta(seconds=30)
    assert retry(db, "cara.couns", OWNER, later) is None
    assert auth.begin_session(db, "cara.couns", limits=LIMITS, client=OWNER, now=later) == (
        clinic.counselor
    )
    # Signed in: the name's failures stop counting; the attacker's device stays slowed
    # by its own count, and a third device waits for nothing.
    assert retry(db, "cara.couns", "192.0.2.1", later) is None
    assert retry(db, "cara.couns", ATTACKER, later) == NOW + timedelta(minutes=15)
    assert len(audits(action="sign_in_throttled")) == 50 - 3 + 1  # from the 3rd failure on


def test_other_devices_wait_only_from_the_10th_failure(
    db: Session, clinic: Clinic, backend: str
) -> None:
    fail(db, "cara.couns", NOW, times=9)
    assert retry(db, "cara.couns", OWNER) is None
    tenth = NOW + timedelta(seconds=1)
    fail(db, "cara.couns", tenth)  # the 10th: 2**0 = 1 s for others
    assert retry(db, "cara.couns", OWNER, tenth) == tenth + timedelta(seconds=1)


def test_a_device_spraying_many_names_is_slowed_by_its_own_count(
    db: Session, clinic: Clinic, backend: str
) -> None:
    for n in range(20):  # two guesses each at ten names: no name reaches its own limit
        fail(db, f"name{n // 2}", NOW - timedelta(seconds=20 - n))
    # The 20th failure (at NOW - 1 s) starts this device's own wait of 2**0 = 1 s.
    half_a_second_later = NOW - timedelta(milliseconds=500)
    assert retry(db, "name10", ATTACKER, half_a_second_later) == NOW
    fail(db, "name11", NOW)  # the 21st failure from this device: 2**1 s
    assert retry(db, "a.new.name", ATTACKER, NOW) == NOW + timedelta(seconds=2)
    assert retry(db, "a.new.name", OWNER, NOW) is None


def test_a_refused_attempt_while_waiting_lengthens_nothing(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    until = fail(db, "cara.couns", NOW, times=5)
    for _ in range(20):
        auth.record_failed_login(
            db, "cara.couns", "waiting", client=ATTACKER, counted=False, now=NOW
        )
    assert retry(db, "cara.couns", ATTACKER) == until
    assert retry(db, "cara.couns", OWNER) is None
    assert len(audits(action="login_failed")) == 25  # every attempt is on record


def test_the_right_password_waits_too_while_the_device_must_wait(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    fail(db, "cara.couns", NOW, times=5)
    result = auth.begin_session(db, "cara.couns", limits=LIMITS, client=ATTACKER, now=NOW)
    assert result == "Too many failed sign-ins. Try again after 09:00:04 UTC."
    assert audits(action="login") == []


def test_an_admin_clears_a_names_failed_sign_ins_on_record(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    fail(db, "cara.couns", NOW, times=12)
    listed = auth.failed_sign_ins(db, clinic.admin, now=NOW)
    assert listed.to_dict("records")[0] | {"Latest": None} == {
        "Username": "cara.couns",
        "Failed sign-ins (15 min)": 12,
        "Devices": 1,
        "Latest": None,
    }
    with pytest.raises(AccessDenied):
        auth.unlock_sign_in(db, clinic.counselor, "cara.couns", now=NOW)
    assert auth.unlock_sign_in(db, clinic.admin, "cara.couns", now=NOW) == 12
    assert retry(db, "cara.couns", ATTACKER) is None
    refused, event = audits(action="unlock_sign_in")
    assert (refused.username, refused.success) == ("cara.couns", False)
    assert (event.username, event.detail) == ("admin", "cara.couns: 12 failed sign-ins cleared")


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
