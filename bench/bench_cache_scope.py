"""The page cache while colleagues save, in one process (issue 23, point 1).

On a copy of the 15k-session clinic (25 counselors, 600 couples): 20 counselors read
their caseload (My caseload with its flags) and one of their couples' timelines, round
after round, while the 5 others each save a session per round. After each reader's
first (cold) visit, the share of those reads served from the page cache is the hit
rate for counselors whose couples did not change. The same rounds run twice, with the
engine's scoped invalidation (db/scopes.py) and with every save moving the clinic-wide
version, as before scopes: the two rates side by side.

Also, interleaved run by run: a reader's caseload and timeline cold (cache cleared) and
warm (what the hit saves); the version read (one query: clinic-wide + one scope)
against `SELECT 1` on the same connection (the floor); a save whose commit moves the
couple's scopes against one that moves the clinic-wide version.

Prints `BENCH name=cache_hit_rate_inprocess value=...` (target >= 0.8),
`BENCH name=cache_hit_rate_inprocess_clinic_wide value=...`, the cold and warm reads'
`median_ms` and `BENCH name=cache_warm_vs_cold ratio=...`,
`BENCH name=scope_version_read_vs_select1 ratio=...` and
`BENCH name=save_scoped_vs_clinic_wide ratio=...` and
`BENCH name=save_with_summary_vs_without ratio=...` (a save that recomputes the
couple's summary row in its write transaction against one that does not: what the row
adds to the time every other saver waits on SQLite's write lock).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    CLINIC_15K,
    clinic_info,
    db_path,
    ensure_size,
    measure_interleaved,
    report,
    report_ratio,
)

READERS = 20
WRITERS = 5
ROUNDS = 8
RUNS = 15


def value(name: str, number: float) -> None:
    print(f"BENCH name={name} value={number:.3f}", flush=True)


@contextmanager
def _replaced(module: object, name: str, stand_in: object) -> Iterator[None]:
    """`module.name` is `stand_in` inside the block, itself again after it."""
    kept = getattr(module, name)
    setattr(module, name, stand_in)
    try:
        yield
    finally:
        setattr(module, name, kept)


def saves_without_summary() -> AbstractContextManager[None]:
    """A save that leaves the couple's summary row alone, as before the rows (2e0d980)."""
    from dashboard.services import couple_summaries

    return _replaced(couple_summaries, "refresh", lambda *_args: None)


def clinic_wide_saves() -> AbstractContextManager[None]:
    """Every save moves the clinic-wide version, as before scoped invalidation."""
    from db import scopes

    return _replaced(scopes, "bump_touched", lambda *_args: False)


def main() -> None:
    ensure_size(CLINIC_15K)
    today = date.fromisoformat(clinic_info(CLINIC_15K.name)["today"])
    with tempfile.TemporaryDirectory(prefix="bondline-bench-cache-") as tmp:
        copy = Path(tmp) / "clinic.sqlite3"
        shutil.copy(db_path(CLINIC_15K.name), copy)  # the writers add sessions
        run(f"sqlite:///{copy}", today)


def run(url: str, today: date) -> None:
    from sqlalchemy import select, text

    from dashboard.domain.catalog import Role
    from dashboard.domain.validation import SessionInput
    from dashboard.services import review, sessions, timeline
    from dashboard.services.actor import Actor
    from dashboard.services.memo import PAGES
    from db.engine import data_versions, make_engine, make_sessionmaker
    from db.models import Couple, User

    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    counselors = db.scalars(
        select(User).where(User.role == Role.COUNSELOR.value, User.active).order_by(User.id)
    ).all()
    actors = [Actor(u.id, u.username, u.display_name, Role.COUNSELOR) for u in counselors]
    first_couple = {
        a.user_id: db.scalar(
            select(Couple.id)
            .where(Couple.counselor_id == a.user_id, Couple.status == "active")
            .order_by(Couple.id)
            .limit(1)
        )
        for a in actors
    }
    db.rollback()
    actors = [a for a in actors if first_couple[a.user_id] is not None]
    readers, writers = actors[:READERS], actors[READERS : READERS + WRITERS]
    print(f"({len(readers)} readers, {len(writers)} writers, {ROUNDS} rounds)", flush=True)

    def read(actor: Actor) -> None:
        review.caseload_with_flags(db, actor, today=today, record_view=False)
        timeline.timeline_view(db, actor, first_couple[actor.user_id], record_view=False)

    day = [today]

    def save(actor: Actor) -> None:
        session = SessionInput(
            session_date=day[0],
            duration_minutes=50,
            format="in_person",
            attendance="both",
            note_data="They talked about the week.",
            note_assessment="Steadier than last time.",
            note_plan="Keep the evening check-in.",
            stage=2,
            barriers=[],
            ratings={},
            habits_assigned=[],
        )
        sessions.log_session(db, actor, first_couple[actor.user_id], session, today=today)

    def hit_rate() -> float:
        PAGES.clear()
        for actor in readers:  # each reader's first, cold visit
            read(actor)
        hits = misses = 0
        for _ in range(ROUNDS):
            for actor in writers:
                save(actor)
            before = (PAGES.hits, PAGES.misses)
            for actor in readers:
                read(actor)
            hits += PAGES.hits - before[0]
            misses += PAGES.misses - before[1]
        return hits / (hits + misses)

    value("cache_hit_rate_inprocess", hit_rate())
    with clinic_wide_saves():
        value("cache_hit_rate_inprocess_clinic_wide", hit_rate())

    reader = readers[0]

    def cold() -> None:
        PAGES.clear()
        read(reader)

    samples = measure_interleaved({"cold": cold, "warm": lambda: read(reader)}, runs=RUNS)
    cold_ms = report("cache_caseload_and_timeline_cold", samples["cold"])
    warm_ms = report("cache_caseload_and_timeline_warm", samples["warm"])
    report_ratio("cache_warm_vs_cold", warm_ms / cold_ms)

    scope = [f"caseload:{reader.user_id}"]

    def versions() -> None:
        for _ in range(100):
            data_versions(db, scope)
        db.rollback()

    def select1() -> None:
        for _ in range(100):
            db.execute(text("SELECT 1")).scalar()
        db.rollback()

    samples = measure_interleaved({"versions": versions, "floor": select1}, runs=RUNS)
    report("scope_version_read_x100", samples["versions"])
    report("select1_x100", samples["floor"])
    report_ratio(
        "scope_version_read_vs_select1",
        statistics.median(samples["versions"]) / statistics.median(samples["floor"]),
    )

    writer = writers[0]

    def next_day(fn: Callable[[], None]) -> Callable[[], None]:
        def saved() -> None:
            day[0] = day[0] - timedelta(days=1)
            fn()

        return saved

    def saves_against(
        name: str, mine: str, theirs: str, unlike: Callable[[], AbstractContextManager[None]]
    ) -> None:
        """The writer's save as it is (`mine`) against it inside `unlike` (`theirs`),
        taking turns, each on a day of its own."""

        def other() -> None:
            with unlike():
                save(writer)

        samples = measure_interleaved(
            {mine: next_day(lambda: save(writer)), theirs: next_day(other)}, runs=RUNS
        )
        mine_ms = report(f"save_{mine}", samples[mine])
        theirs_ms = report(f"save_{theirs}", samples[theirs])
        report_ratio(name, mine_ms / theirs_ms)

    saves_against("save_scoped_vs_clinic_wide", "scoped", "clinic_wide", clinic_wide_saves)
    saves_against(
        "save_with_summary_vs_without",
        "with_summary",
        "without_summary",
        saves_without_summary,
    )
    db.close()
    engine.dispose()


if __name__ == "__main__":
    main()
