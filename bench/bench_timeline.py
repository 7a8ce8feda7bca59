"""The couple timeline page's data and figures, for a couple with 40 sessions.

Issue 3: median under 150 ms on this machine, and no more than 1.3 times slower in a
clinic of 150,000 sessions than in the demo-sized one (the page's cost must not grow
with the clinic). One page load = a fresh SQLAlchemy session (the app opens one per page
load) on an engine created once, `timeline_view` for the couple as its own counselor,
then every figure and table view the page draws (`charts.all_figures` and
`charts.table_views` on `view.data`).

Prints `BENCH name=timeline_demo ...`, `BENCH name=timeline_150k ...` and
`BENCH name=timeline_growth ratio=<150k / demo>`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CLINIC_150K,
    DEMO,
    LONG_SESSIONS,
    ClinicSize,
    clinic_info,
    ensure_size,
    measure_interleaved,
    report,
    report_ratio,
)

RUNS = 40
WARMUP = 3


def page_load(size: ClinicSize, stack: contextlib.ExitStack) -> Callable[[], None]:
    """One timeline page load for the clinic's long couple, as its counselor."""
    from sqlalchemy import func, select

    from dashboard import charts
    from dashboard.services.auth import actor_of
    from dashboard.services.timeline import timeline_view
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple, CoupleSession, User

    url = ensure_size(size)
    case_code = clinic_info(size.name)["long_couples"][0]
    engine = make_engine(url)  # once, as the app's cached engine
    stack.callback(engine.dispose)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        couple = db.scalar(select(Couple).where(Couple.case_code == case_code))
        assert couple is not None, case_code
        held = db.scalar(
            select(func.count())
            .select_from(CoupleSession)
            .where(CoupleSession.couple_id == couple.id)
        )
        assert held == LONG_SESSIONS, (case_code, held)
        user = db.get(User, couple.counselor_id)
        assert user is not None
        actor, couple_id = actor_of(user), couple.id

    def load() -> None:
        with sessions() as db:  # a fresh session per page load, as the app opens one
            view = timeline_view(db, actor, couple_id)
        charts.all_figures(view.data)
        charts.table_views(view.data)

    return load


def norms_cold(size: ClinicSize) -> list[float]:
    """The clinic's current norms read with an empty cache, as after a server start:
    the published version's rows (services/norms.py), not a scan of the intakes.
    Reported apart so the first load's cost is not hidden (bench_norms.py compares it
    with the warm read).
    """
    import time

    from dashboard.services import timeline
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(ensure_size(size))
    samples = []
    try:
        for _ in range(3):
            timeline.NORMS_CACHE.clear()
            with make_sessionmaker(engine)() as db:
                start = time.perf_counter()
                timeline.clinic_norms(db)
                samples.append((time.perf_counter() - start) * 1000)
    finally:
        engine.dispose()
    return samples


def main() -> int:
    with contextlib.ExitStack() as stack:
        loads = {
            "timeline_demo": page_load(DEMO, stack),
            "timeline_150k": page_load(CLINIC_150K, stack),
        }
        # Taking turns, so a busy moment on the machine slows both sides of the ratio.
        samples = measure_interleaved(loads, runs=RUNS, warmup=WARMUP)
    medians = {name: report(name, runs) for name, runs in samples.items()}
    report_ratio("timeline_growth", medians["timeline_150k"] / medians["timeline_demo"])
    report("clinic_norms_cold_demo", norms_cold(DEMO))
    report("clinic_norms_cold_150k", norms_cold(CLINIC_150K))
    return 0


if __name__ == "__main__":
    sys.exit(main())
