"""Reading the current clinic norms: a published row per measure, never the sessions.

Issue 21, point 6: at 150,000 sessions the norms used to be recomputed from every
intake (about 2.3 s cold). Now a read is the latest published row per measure, kept
per process and checked against the newest row at every read. In `clinic_150k`, on an
engine created once, each run in a fresh SQLAlchemy session (as a page load):

- cold: the cache emptied, then `clinic_norms(db)`: the version check, the row query
  and building the parameters;
- warm: `clinic_norms(db)` with the cache filled: the version check and a dict hit
  (what every page load pays).

Taking turns (`measure_interleaved`), 5 warm-ups, 60 runs each; medians.
Prints `BENCH name=norms_cold_150k`, `norms_warm_150k`, `norms_cold_vs_warm ratio=`
(target <= 2) and, for comparison, `norms_recompute_150k`: the old computation from
every intake (now only the admin's candidate, `norms.candidate`), 3 runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
    from dashboard.services import norms
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(ensure_size(CLINIC_150K))
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as db:
            assert norms.clinic_norms(db).version is not None, "the clinic has no norms v1"

        def cold() -> None:
            norms.NORMS_CACHE.clear()
            with sessions() as db:
                norms.clinic_norms(db)
                db.rollback()

        def warm() -> None:
            with sessions() as db:
                norms.clinic_norms(db)
                db.rollback()

        def recompute() -> None:
            with sessions() as db:
                norms.candidate(db)
                db.rollback()

        samples = measure_interleaved({"cold": cold, "warm": warm}, runs=RUNS, warmup=WARMUP)
        cold_ms = report("norms_cold_150k", samples["cold"])
        warm_ms = report("norms_warm_150k", samples["warm"])
        report_ratio("norms_cold_vs_warm", cold_ms / warm_ms)
        report("norms_recompute_150k", measure(recompute, runs=3, warmup=0))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
