"""The audit trail is append-only and hash-chained: a changed, deleted, inserted or
cut-off row is found, and verify names the first row that does not hold."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dashboard.domain.validation import SessionInput
from dashboard.services import audit, couples, sessions
from db.engine import make_engine, make_sessionmaker
from db.migrate import alembic_config, upgrade_head
from db.models import AuditEvent
from tests.conftest import Clinic, writing
from tests.integration.conftest import TODAY
from tests.integration.test_cli import run_cli


@pytest.fixture
def busy_clinic(db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]) -> int:
    """A clinic with a morning's work on record; the number of audit rows."""
    sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    couples.get_couple(db, clinic.counselor, clinic.couple_id)
    couples.get_couple(db, clinic.supervisor, clinic.couple_id)
    with pytest.raises(Exception, match="not in your caseload"):
        couples.get_couple(db, clinic.other_counselor, clinic.couple_id)
    return len(db.scalars(select(AuditEvent.id)).all())


def _ids(db: Session) -> list[int]:
    db.rollback()
    return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _tamper(engine: Engine, backend: str, statement: str) -> None:
    """What someone with the database's owner rights could do: set the guard aside."""
    with writing(engine) as conn:
        if backend == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        conn.execute(text(statement))


def test_a_days_work_verifies(db_url: str, db: Session, busy_clinic: int, backend: str) -> None:
    report = audit.verify_chain(db)
    assert report.intact, report.describe()
    assert (report.rows_checked, report.before_chain) == (busy_clinic, 0)
    verified = run_cli(db_url, "audit", "verify")
    assert verified.returncode == 0, verified
    assert verified.stdout.strip() == f"Audit chain intact: {busy_clinic} rows verified."


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET detail = 'x'", "DELETE FROM audit_events"]
)
def test_the_database_refuses_to_change_an_audit_row(
    engine: Engine, busy_clinic: int, statement: str, backend: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), writing(engine) as conn:
        conn.execute(text(statement))


def test_an_edited_row_is_named(
    engine: Engine, db_url: str, db: Session, busy_clinic: int, backend: str
) -> None:
    target = _ids(db)[2]
    _tamper(engine, backend, f"UPDATE audit_events SET username = 'nobody' WHERE id = {target}")
    report = audit.verify_chain(db)
    assert (report.broken_id, report.rows_checked) == (target, 2)
    assert "changed" in report.problem
    # The command a clinic admin runs says the same, and fails.
    verified = run_cli(db_url, "audit", "verify")
    assert verified.returncode == 1, verified
    assert f"Audit chain BROKEN at row {target}: its content or hash was changed" in verified.stderr


def test_a_deleted_row_is_found_at_the_next(
    engine: Engine, db: Session, busy_clinic: int, backend: str
) -> None:
    ids = _ids(db)
    _tamper(engine, backend, f"DELETE FROM audit_events WHERE id = {ids[3]}")
    report = audit.verify_chain(db)
    assert report.broken_id == ids[4] and "deleted or inserted" in report.problem


def test_rows_cut_off_the_end_are_found(
    engine: Engine, db: Session, busy_clinic: int, backend: str
) -> None:
    ids = _ids(db)
    _tamper(engine, backend, f"DELETE FROM audit_events WHERE id >= {ids[-2]}")
    report = audit.verify_chain(db)
    assert not report.intact and report.broken_id is None
    assert (
        report.problem == f"the chain ends at link {busy_clinic - 2}, its head says {busy_clinic}"
    )


def test_a_forged_row_is_named(engine: Engine, db: Session, busy_clinic: int, backend: str) -> None:
    with writing(engine) as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (occurred_at, username, action, entity, success, detail)"
                " VALUES ('2026-11-02 09:00:00+00:00', 'cara.couns', 'view_couple', 'couple',"
                " true, '')"
            )
        )
    forged = _ids(db)[-1]
    report = audit.verify_chain(db)
    assert report.broken_id == forged and "no place in the chain" in report.problem


def test_writers_at_the_same_moment_never_fork_the_chain(
    engine: Engine, clinic: Clinic, db: Session, backend: str
) -> None:
    """The head row is locked while a transaction appends: two desks saving and viewing
    at once still leave one unbroken chain."""
    failures: list[BaseException] = []

    def desk(actor_couple: tuple[object, int]) -> None:
        actor, couple_id = actor_couple
        try:
            with make_sessionmaker(engine)() as mine:
                for _ in range(15):
                    couples.get_couple(mine, actor, couple_id)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    desks = [
        threading.Thread(target=desk, args=((clinic.counselor, clinic.couple_id),)),
        threading.Thread(target=desk, args=((clinic.other_counselor, clinic.other_couple_id),)),
    ]
    for t in desks:
        t.start()
    for t in desks:
        t.join()
    assert not failures, failures
    report = audit.verify_chain(db)
    assert report.intact, report.describe()
    assert report.rows_checked == len(_ids(db))


@pytest.mark.parametrize("with_key", [True, False])
def test_rows_from_before_the_chain(empty_url: str, backend: str, with_key: bool) -> None:
    """Migration 0008 links the rows already written when it is given the key; without
    it they are counted apart, and the chain starts after them."""
    command.upgrade(alembic_config(empty_url), "0007")
    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            for n in range(5):
                conn.execute(
                    text(
                        "INSERT INTO audit_events (occurred_at, username, action, entity,"
                        " success, detail) VALUES (:at, 'cara', 'login', 'user', true, :d)"
                    ),
                    {"at": f"2026-10-0{n + 1} 09:00:00.123456+00:00", "d": f"before {n}"},
                )
        upgrade_head(empty_url, audit.audit_key() if with_key else None)
        with make_sessionmaker(engine)() as db:
            audit.record_now(db, None, "login", entity="user", username="cara")
            report = audit.verify_chain(db)
    finally:
        engine.dispose()
    assert report.intact, report.describe()
    assert (report.rows_checked, report.before_chain) == ((6, 0) if with_key else (1, 5))
