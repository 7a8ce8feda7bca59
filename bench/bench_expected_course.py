"""Reading the published expected course: a stored row per measure, never a refit.

Issue 22, point 1: every alert (My caseload, the attention list, the timeline, the PDF)
reads the expected course in use. Fitting it reads every rating of every couple (the
admin's preview and publish, v1 at migrate); a page load only reads the latest published
row per measure, kept per process and checked against the newest row at every read. In
`clinic_150k`, on an engine created once, each run in a fresh SQLAlchemy session (as a
page load):

- warm: `expected_courses(db)` with the cache filled: the version check (with the clinic
  norms' own, since a measure missing from a version follows them) and a dict hit;
- cold: the cache emptied first: the version check, the row query and parsing each
  measure's model;
- the floor: `clinic_norms(db)` warm, the one-row version check every page already pays.

Taking turns (`measure_interleaved`), 5 warm-ups, 60 runs each; medians. Prints
`BENCH name=expected_read_warm_150k`, `expected_read_cold_150k`,
`expected_read_warm_vs_norms ratio=` (against the floor; measured 1.14 on 6 Dec 2026:
0.35 ms against 0.31) and, 3 runs each, `expected_candidate_150k` (the fit of every
measure from every rating: what a page would pay without stored versions; 3.5 s) and
`expected_preview_150k` (the admin's preview: the fit and every couple's alert twice;
4.0 s). Cold: 2.3 ms.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CLINIC_150K,
    ensure_size,
    measure,
    measure_interleaved,
    report,
    report_ratio,
)

RUNS = 60
WARMUP = 5


def main() -> int:
    from sqlalchemy import select

    from dashboard.services import auth, expected, norms
    from db.engine import make_engine, make_sessionmaker
    from db.models import User

    engine = make_engine(ensure_size(CLINIC_150K))
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as db:
            assert expected.expected_courses(db).version is not None, "no expected course v1"
            admin = auth.actor_of(db.scalars(select(User).where(User.role == "admin")).first())
            db.rollback()

        def read(fn: Callable[[Session], object], *, clear: bool = False) -> Callable[[], None]:
            """One page load's read in a fresh session (the cache emptied first: `clear`)."""

            def run() -> None:
                if clear:
                    expected.COURSES_CACHE.clear()
                with sessions() as db:
                    fn(db)
                    db.rollback()

            return run

        samples = measure_interleaved(
            {
                "warm": read(expected.expected_courses),
                "cold": read(expected.expected_courses, clear=True),
                "floor": read(norms.clinic_norms),
            },
            runs=RUNS,
            warmup=WARMUP,
        )
        warm_ms = report("expected_read_warm_150k", samples["warm"])
        report("expected_read_cold_150k", samples["cold"])
        floor_ms = report("expected_norms_floor_150k", samples["floor"])
        report_ratio("expected_read_warm_vs_norms", warm_ms / floor_ms)
        report("expected_candidate_150k", measure(read(expected.candidate), runs=3, warmup=0))
        report(
            "expected_preview_150k",
            measure(read(lambda db: expected.preview(db, admin)), runs=3, warmup=0),
        )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
