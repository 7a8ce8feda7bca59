"""Reads never hold the write lock: an export beside a colleague's page loads and saves.

Before, every SQLite transaction began IMMEDIATE, so a four-minute export held the lock
and every other user's page failed with "database is locked". Now a read (an export's
snapshot included) is a plain transaction, and only a save or an audit row takes the
lock, for a moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard import demo
from dashboard.domain.validation import SessionInput
from dashboard.services import couples, exports, sessions, timeline
from dashboard.services.auth import actor_of
from db.engine import SQLITE_BUSY_TIMEOUT_MS, begin_snapshot, make_sessionmaker
from db.models import AuditEvent, Couple, CoupleSession, User
from tests.conftest import Clinic
from tests.integration.conftest import TODAY

# A colleague's page load or save while the export runs: well under the busy timeout
# (10 s), which is how long it waited, then failed, while an export held the lock.
QUICK_S = 2.0
LATER = date(2026, 11, 30)  # the colleague's sessions come after the demo's last


def test_a_snapshot_open_blocks_no_save_and_keeps_its_moment(
    backend: str,
    engine: Engine,
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
) -> None:
    live = select(func.count()).select_from(CoupleSession)
    begin_snapshot(db)  # what an export does first
    before = db.scalar(live)

    with make_sessionmaker(engine)() as colleague:
        started = time.perf_counter()
        couples.get_couple(colleague, clinic.counselor, clinic.couple_id)  # audited view
        sessions.log_session(colleague, clinic.counselor, clinic.couple_id, make_input())
        took = time.perf_counter() - started
    assert took < QUICK_S, f"a save beside an open export took {took:.1f} s"

    assert db.scalar(live) == before  # the export still reads its own moment
    db.commit()
    assert db.scalar(live) == before + 1  # and the next read sees the save


def test_exports_in_a_thread_beside_page_loads_and_saves(
    backend: str, engine: Engine, make_input: Callable[..., SessionInput]
) -> None:
    with make_sessionmaker(engine)() as db:
        demo.load_clinic(db, seed=7, today=TODAY, counselors=3, couples=20, target_sessions=300)
        admin = actor_of(db.scalars(select(User).where(User.role == "admin")).one())
        counselor_user, couple_id = db.execute(
            select(User, Couple.id)
            .join(Couple, Couple.counselor_id == User.id)
            .where(Couple.status == "active")
            .order_by(Couple.id)
            .limit(1)
        ).one()
        counselor = actor_of(counselor_user)

    exported: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def export_again_and_again() -> None:
        try:
            with make_sessionmaker(engine)() as export_db:
                while not stop.is_set():
                    exported.append(exports.all_tables_xlsx(export_db, admin).filename)
                    exported.append(exports.research_extract(export_db, admin).filename)
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            failures.append(exc)

    worker = threading.Thread(target=export_again_and_again)
    worker.start()
    waits: list[float] = []
    try:
        for day in range(2, 14):
            with make_sessionmaker(engine)() as page:
                started = time.perf_counter()
                couples.list_caseload(page, counselor, today=LATER)
                couples.get_couple(page, counselor, couple_id)
                timeline.timeline_view(page, counselor, couple_id)
                sessions.new_session_form(page, counselor, couple_id)
                inp = make_input(session_date=date(2026, 11, day), barriers=[])
                sessions.log_session(page, counselor, couple_id, inp, today=LATER)
                waits.append(time.perf_counter() - started)
    finally:
        stop.set()
        worker.join()

    assert not failures, failures
    assert exported, "no export finished while the pages were used"
    assert max(waits) < SQLITE_BUSY_TIMEOUT_MS / 1000, max(waits)
    with make_sessionmaker(engine)() as check:
        saved = check.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
        )
    assert saved == len(exported)  # each export finished is on record, once
