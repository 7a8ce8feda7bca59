"""A counselor's save during the summary rows' repair or rebuild (review findings 1, 2).

On PostgreSQL, begin_write locks nothing: the repair and the rebuild take the lock every
save holds (the audit chain's head row) before they read what they will write, so a save
made meanwhile waits for them and its row is the one kept. SQLite's write transaction
locks the whole database, so there the race cannot happen and these tests do not run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from dashboard.services import couple_summaries, sessions
from db.engine import begin_write, make_sessionmaker
from db.summary_models import CoupleSummary
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)
FIRST = date(2026, 3, 2)
SAVED_MEANWHILE = date(2026, 4, 6)
WAIT_AT_MOST_S = 60  # a failure guard only: the save is seen waiting, or done, at once


@contextmanager
def _save_while_writing(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, save: Callable[[Session], None]
) -> Iterator[list[BaseException]]:
    """Just before the rows are written (couple_summaries._write, in the test's session),
    `save` runs in another session and thread; the write goes on once that save has
    committed or is waiting on a lock the writer holds. Its errors are yielded."""
    errors: list[BaseException] = []
    threads: list[threading.Thread] = []
    write = couple_summaries._write

    def save_in_other_session() -> None:
        try:
            with make_sessionmaker(engine)() as other:
                save(other)
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    def hooked(db: Session, rows: dict[int, dict[str, object]]) -> None:
        if not threads and threading.current_thread() is threading.main_thread():
            writer = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
            thread = threading.Thread(target=save_in_other_session)
            threads.append(thread)
            thread.start()
            _until_done_or_waiting_on(engine, thread, writer)
        write(db, rows)

    monkeypatch.setattr(couple_summaries, "_write", hooked)
    yield errors
    assert threads, "the rows were never written"
    threads[0].join(WAIT_AT_MOST_S)
    assert not threads[0].is_alive()


def _until_done_or_waiting_on(engine: Engine, thread: threading.Thread, writer: int) -> None:
    """Return when `thread` has finished or its backend waits on the backend `writer`."""
    deadline = time.monotonic() + WAIT_AT_MOST_S
    with engine.connect() as watch:
        while thread.is_alive():
            waiting = watch.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE :w = ANY(pg_blocking_pids(pid))"),
                {"w": writer},
            ).scalar_one()
            watch.rollback()
            if waiting:
                return
            assert time.monotonic() < deadline, "the save neither finished nor waited"
            thread.join(0.01)


def _row(db: Session, couple_id: int) -> CoupleSummary:
    row = db.scalars(select(CoupleSummary).where(CoupleSummary.couple_id == couple_id)).one()
    db.rollback()
    return row


def _second_session(clinic: Clinic, make_input) -> Callable[[Session], None]:
    """The counselor logs the couple's second session (6 Apr), in the session given."""

    def save(other: Session) -> None:
        session = make_input(session_date=SAVED_MEANWHILE)
        sessions.log_session(other, clinic.counselor, clinic.couple_id, session, today=TODAY)

    return save


@pytest.fixture
def on_postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's write transaction locks the whole database: no such race")


@pytest.mark.parametrize("job", ["repair", "rebuild"])
def test_a_save_during_the_repair_or_the_rebuild_succeeds_and_its_row_is_kept(
    on_postgresql: None,
    job: str,
    db: Session,
    engine: Engine,
    clinic: Clinic,
    make_input,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Repair: a damaged row, rewritten while the counselor saves. Rebuild (start-up,
    after a publish): a missing row, built while the counselor saves."""
    sessions.log_session(
        db, clinic.counselor, clinic.couple_id, make_input(session_date=FIRST), today=TODAY
    )
    row = CoupleSummary.couple_id == clinic.couple_id
    begin_write(db)
    if job == "repair":
        db.execute(update(CoupleSummary).where(row).values(sessions_held=999))
    else:
        db.execute(delete(CoupleSummary).where(row))
    db.commit()

    with _save_while_writing(monkeypatch, engine, _second_session(clinic, make_input)) as errors:
        if job == "repair":
            found = couple_summaries.repair(db, clinic.admin)
            assert [d.fields for d in found] == [("sessions_held",)]
        else:
            assert couple_summaries.ensure_built(db) == 1
    assert errors == []  # the save did not fail (on the row's key, or at all)
    # The row is the save's: two sessions held (2 Mar and 6 Apr), the latest 6 Apr.
    kept = _row(db, clinic.couple_id)
    assert (kept.sessions_held, kept.latest_session) == (2, SAVED_MEANWHILE)
    assert couple_summaries.compare(db)[0] == []
    db.rollback()
