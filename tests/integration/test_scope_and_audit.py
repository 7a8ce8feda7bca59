"""Scope and audit in the service layer, whatever a page does.

A counselor reaching for a colleague's couple or session is refused, learns nothing,
and the attempt is on record. Supervisors read their supervisees' couples but never
write; admins read everything; every access leaves an audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain.catalog import Role
from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.services import admin, audit_log, auth, couples, sessions
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied
from db.engine import begin_write
from db.models import Couple, CoupleSession, User
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)
MakeInput = Callable[..., SessionInput]


@pytest.fixture
def session_id(db: Session, clinic: Clinic, make_input: MakeInput) -> int:
    """One logged session on the counselor's couple (Alex & Blair)."""
    return sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)


Call = Callable[[Session, Actor, int, int, MakeInput], Any]

# (service, action recorded, entity refused, writes?) -> a call on (couple, session).
CALLS: dict[str, tuple[str, str, bool, Call]] = {
    "get_couple": (
        "view_couple",
        "couple",
        False,
        lambda db, actor, c, s, mk: couples.get_couple(db, actor, c),
    ),
    "update_couple": (
        "update_couple",
        "couple",
        True,
        lambda db, actor, c, s, mk: couples.update_couple(
            db,
            actor,
            c,
            CoupleInput("Hijacked", "Names", date(2026, 1, 5)),
            expected_version=1,
            today=TODAY,
        ),
    ),
    "change_status": (
        "change_status",
        "couple",
        True,
        lambda db, actor, c, s, mk: couples.change_status(
            db, actor, c, new_status="closed", closing_reason="other", note="x", expected_version=1
        ),
    ),
    "new_session_form": (
        "open_session_form",
        "couple",
        True,
        lambda db, actor, c, s, mk: sessions.new_session_form(db, actor, c),
    ),
    "session_form": (
        "view_session",
        "session",
        False,
        lambda db, actor, c, s, mk: sessions.session_form(db, actor, s, write=False),
    ),
    "log_session": (
        "create_session",
        "couple",
        True,
        lambda db, actor, c, s, mk: sessions.log_session(db, actor, c, mk(), today=TODAY),
    ),
    "update_session": (
        "update_session",
        "session",
        True,
        lambda db, actor, c, s, mk: sessions.update_session(
            db, actor, s, mk(note_data="Overwritten"), expected_version=1, today=TODAY
        ),
    ),
    "delete_session": (
        "delete_session",
        "session",
        True,
        lambda db, actor, c, s, mk: sessions.delete_session(db, actor, s),
    ),
}
WRITES = [name for name, (_, _, writes, _) in CALLS.items() if writes]
READS = [name for name, (_, _, writes, _) in CALLS.items() if not writes]


def assert_untouched(db: Session, clinic: Clinic, session_id: int) -> None:
    """The couple and its one session are exactly as the counselor left them."""
    db.rollback()
    couple = db.get_one(Couple, clinic.couple_id)
    assert (couple.partner_a_name, couple.status, couple.version) == ("Alex", "active", 1)
    row = db.get_one(CoupleSession, session_id)
    assert row.deleted_at is None and row.version == 1
    assert row.note_data == "They described a week of short answers."
    assert db.scalar(select(func.count()).select_from(CoupleSession)) == 1
    db.rollback()


@pytest.mark.parametrize("service", list(CALLS))
def test_counselor_cannot_reach_a_colleagues_couple(
    db: Session,
    clinic: Clinic,
    session_id: int,
    make_input: MakeInput,
    service: str,
    audits,
    backend: str,
) -> None:
    action, entity, _, call = CALLS[service]
    with pytest.raises(AccessDenied) as caught:
        call(db, clinic.other_counselor, clinic.couple_id, session_id, make_input)
    message = str(caught.value)
    for secret in ("Alex", "Blair", "C-2026-0001", "Cara"):
        assert secret not in message
    assert_untouched(db, clinic, session_id)

    [event] = audits(user_id=clinic.other_counselor.user_id, action=action)
    assert event.success is False
    assert event.username == "olly.other"
    assert event.entity == entity
    assert event.entity_id == (clinic.couple_id if entity == "couple" else session_id)


@pytest.mark.parametrize("service", list(CALLS))
def test_a_missing_record_is_refused_like_someone_elses(
    db: Session,
    clinic: Clinic,
    session_id: int,
    make_input: MakeInput,
    service: str,
    backend: str,
) -> None:
    """A guessed id tells nothing: missing and out-of-scope read the same."""
    _, _, _, call = CALLS[service]
    with pytest.raises(AccessDenied) as foreign:
        call(db, clinic.other_counselor, clinic.couple_id, session_id, make_input)
    with pytest.raises(AccessDenied) as missing:
        call(db, clinic.other_counselor, 9999, 9999, make_input)
    assert str(foreign.value) == str(missing.value)


@pytest.mark.parametrize("service", WRITES)
@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_supervisors_and_admins_cannot_write(
    db: Session,
    clinic: Clinic,
    session_id: int,
    make_input: MakeInput,
    service: str,
    who: str,
    audits,
    backend: str,
) -> None:
    action, _, _, call = CALLS[service]
    actor = getattr(clinic, who)
    with pytest.raises(AccessDenied) as caught:
        call(db, actor, clinic.couple_id, session_id, make_input)
    assert "read" in str(caught.value)
    assert_untouched(db, clinic, session_id)
    [event] = audits(user_id=actor.user_id, action=action)
    assert (event.success, event.detail) == (False, "read-only")


@pytest.mark.parametrize("service", READS)
@pytest.mark.parametrize("who", ["counselor", "supervisor", "admin"])
def test_owner_supervisor_and_admin_read_the_record(
    db: Session,
    clinic: Clinic,
    session_id: int,
    make_input: MakeInput,
    service: str,
    who: str,
    audits,
    backend: str,
) -> None:
    action, entity, _, call = CALLS[service]
    actor = getattr(clinic, who)
    result = call(db, actor, clinic.couple_id, session_id, make_input)
    assert result.case_code == "C-2026-0001"
    assert result.can_edit is (who == "counselor")
    [event] = audits(user_id=actor.user_id, action=action)
    assert event.success is True
    assert event.entity == entity
    assert event.entity_id == (clinic.couple_id if entity == "couple" else session_id)


def test_supervisor_cannot_read_a_counselor_they_do_not_supervise(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    with pytest.raises(AccessDenied):
        couples.get_couple(db, clinic.supervisor, clinic.other_couple_id)
    [event] = audits(user_id=clinic.supervisor.user_id, action="view_couple")
    assert (event.success, event.entity_id) == (False, clinic.other_couple_id)


def test_admin_reads_every_couple(db: Session, clinic: Clinic, audits, backend: str) -> None:
    seen = [
        couples.get_couple(db, clinic.admin, couple_id).case_code
        for couple_id in (clinic.couple_id, clinic.other_couple_id)
    ]
    assert seen == ["C-2026-0001", "C-2026-0002"]
    assert [e.entity_id for e in audits(user_id=clinic.admin.user_id, action="view_couple")] == [
        clinic.couple_id,
        clinic.other_couple_id,
    ]


def test_audit_event_says_who_when_what_which_and_whether(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    before = datetime.now(UTC)
    couples.get_couple(db, clinic.counselor, clinic.couple_id)
    [event] = audits(action="view_couple")
    assert event.user_id == clinic.counselor.user_id
    assert event.username == "cara.couns"
    assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)
    assert event.occurred_at.tzinfo is not None
    assert (event.action, event.entity, event.entity_id) == (
        "view_couple",
        "couple",
        clinic.couple_id,
    )
    assert event.success is True


def test_create_update_and_delete_are_each_audited(
    db: Session, clinic: Clinic, make_input: MakeInput, audits, backend: str
) -> None:
    session_id = sessions.log_session(
        db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY
    )
    sessions.update_session(
        db, clinic.counselor, session_id, make_input(), expected_version=1, today=TODAY
    )
    sessions.delete_session(db, clinic.counselor, session_id)
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("Alex", "Blair", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
        expected_version=1,
        today=TODAY,
    )
    trail = [
        (e.action, e.entity, e.entity_id, e.success)
        for e in audits(user_id=clinic.counselor.user_id)
        if e.action != "create_couple"
    ]
    assert trail == [
        ("create_session", "session", session_id, True),
        ("update_session", "session", session_id, True),
        ("delete_session", "session", session_id, True),
        ("update_couple", "couple", clinic.couple_id, True),
    ]


# --- an account switched off while its request was in flight ------------------------


def switch_off(db: Session, actor: Actor) -> None:
    """What an admin does at another desk: the actor's page has not rerun since."""
    begin_write(db)
    db.get_one(User, actor.user_id).active = False
    db.commit()


@pytest.mark.parametrize("service", list(CALLS))
def test_a_deactivated_counselors_stale_request_is_refused_and_audited(
    db: Session,
    clinic: Clinic,
    session_id: int,
    make_input: MakeInput,
    service: str,
    audits,
    backend: str,
) -> None:
    action, entity, _, call = CALLS[service]
    switch_off(db, clinic.counselor)
    with pytest.raises(AccessDenied) as caught:
        call(db, clinic.counselor, clinic.couple_id, session_id, make_input)
    assert str(caught.value) == "This account is no longer active. Ask your clinic admin."
    assert_untouched(db, clinic, session_id)
    [event] = audits(user_id=clinic.counselor.user_id, action=action, success=False)
    assert event.detail == "account inactive"
    assert (event.entity, event.entity_id) == (
        entity,
        clinic.couple_id if entity == "couple" else session_id,
    )


def test_a_deactivated_counselor_can_neither_list_nor_open_cases(
    db: Session, clinic: Clinic, rows, audits, backend: str
) -> None:
    switch_off(db, clinic.counselor)
    with pytest.raises(AccessDenied):
        couples.list_caseload(db, clinic.counselor, today=TODAY)
    with pytest.raises(AccessDenied):
        couples.create_couple(
            db, clinic.counselor, CoupleInput("Jo", "Kim", date(2026, 3, 1)), today=TODAY
        )
    assert rows(Couple) == 2
    refused = audits(user_id=clinic.counselor.user_id, success=False)
    assert [(e.action, e.detail) for e in refused] == [
        ("view_caseload", "account inactive"),
        ("create_couple", "account inactive"),
    ]


def test_a_deactivated_admin_can_no_longer_administer(
    db: Session, clinic: Clinic, session_id: int, rows, audits, backend: str
) -> None:
    sessions.delete_session(db, clinic.counselor, session_id)
    switch_off(db, clinic.admin)
    for call in (
        lambda: admin.list_users(db, clinic.admin),
        lambda: audit_log.search(db, clinic.admin, audit_log.AuditFilters()),
        lambda: admin.set_active(db, clinic.admin, clinic.other_counselor.user_id, active=False),
        lambda: admin.set_supervisor(db, clinic.admin, clinic.other_counselor.user_id, None),
        lambda: sessions.restore_session(db, clinic.admin, session_id),
        lambda: auth.create_user(
            db,
            clinic.admin,
            username="late.hire",
            display_name="Late Hire",
            role="admin",
            password="a-long-first-password",
            bcrypt_rounds=4,
        ),
    ):
        with pytest.raises(AccessDenied):
            call()
    db.rollback()
    assert db.get_one(User, clinic.other_counselor.user_id).active is True
    assert db.get_one(CoupleSession, session_id).deleted_at is not None
    db.rollback()
    assert rows(User) == 4
    refused = audits(user_id=clinic.admin.user_id, success=False)
    assert [e.detail for e in refused] == ["account inactive"] * 6


def test_a_removed_account_reaches_nothing(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    """An actor whose user row is gone (an id from a stale session) is refused, not trusted."""
    ghost = Actor(9999, "ghost", "Ghost", Role.ADMIN)
    with pytest.raises(AccessDenied):
        couples.get_couple(db, ghost, clinic.couple_id)
    with pytest.raises(AccessDenied):
        admin.list_users(db, ghost)
    refused = audits(username="ghost")
    assert [(e.user_id, e.action, e.success, e.detail) for e in refused] == [
        (None, "view_couple", False, "account inactive"),
        (None, "view_users", False, "account inactive"),
    ]


# --- clinic admin screens -----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (admin.list_users, "view_users"),
        (lambda db, a: audit_log.search(db, a, audit_log.AuditFilters()), "view_audit_log"),
        (admin.deleted_sessions, "view_deleted_sessions"),
    ],
)
@pytest.mark.parametrize("who", ["counselor", "supervisor"])
def test_admin_screens_are_for_admins_only(
    db: Session, clinic: Clinic, call: Callable, action: str, who: str, audits, backend: str
) -> None:
    actor = getattr(clinic, who)
    with pytest.raises(AccessDenied):
        call(db, actor)
    [event] = audits(user_id=actor.user_id, action=action)
    assert event.success is False
    assert call(db, clinic.admin) is not None
    assert [e.success for e in audits(user_id=clinic.admin.user_id, action=action)] == [True]


def test_admin_sees_refusals_in_the_audit_log(db: Session, clinic: Clinic, backend: str) -> None:
    with pytest.raises(AccessDenied):
        couples.get_couple(db, clinic.other_counselor, clinic.couple_id)
    log = audit_log.search(db, clinic.admin, audit_log.AuditFilters(failures_only=True))
    assert list(log["User"]) == ["olly.other"]
    assert list(log["Action"]) == ["Opened couple"]
    assert list(log["Record"]) == [
        db.get_one(Couple, clinic.couple_id).case_code
    ]  # a case code, not a bare id
    assert list(log["Allowed"]) == ["No"]


def test_admin_lists_deleted_sessions_to_restore(
    db: Session, clinic: Clinic, session_id: int, backend: str
) -> None:
    assert admin.deleted_sessions(db, clinic.admin).empty
    sessions.delete_session(db, clinic.counselor, session_id)
    listed = admin.deleted_sessions(db, clinic.admin)
    assert list(listed["session_id"]) == [session_id]
    assert list(listed["Deleted by"]) == ["Cara Couns"]
    sessions.restore_session(db, clinic.admin, session_id)
    assert admin.deleted_sessions(db, clinic.admin).empty
