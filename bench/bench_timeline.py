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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CLINIC_150K,
    DEMO,
    LONG_SESSIONS,
    ClinicSize,
    clinic_info,
    ensure_size,
    measure,
    report,
    report_ratio,
)

RUNS = 30
WARMUP = 3


def bench_size(size: ClinicSize, name: str) -> float:
    """Median ms of one timeline page load for the clinic's long couple."""
    from sqlalchemy import func, select

    from dashboard import charts
    from dashboard.services.auth import actor_of
    from dashboard.services.timeline import timeline_view
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple, CoupleSession, User

    url = ensure_size(size)
    case_code = clinic_info(size.name)["long_couples"][0]
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
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

        def page_load() -> None:
            with sessions() as db:
                view = timeline_view(db, actor, couple_id)
            charts.all_figures(view.data)
            charts.table_views(view.data)

        samples = measure(page_load, runs=RUNS, warmup=WARMUP)
    finally:
        engine.dispose()
    return report(name, samples)


def main() -> int:
    try:
        from dashboard import charts
        from dashboard.services.timeline import timeline_view  # noqa: F401

        charts.all_figures  # noqa: B018
        charts.table_views  # noqa: B018
    except (ImportError, AttributeError) as missing:
        print(
            "timeline benchmark: not available yet "
            "(needs dashboard.services.timeline.timeline_view, "
            f"dashboard.charts.all_figures and table_views: {missing})"
        )
        return 0
    demo_ms = bench_size(DEMO, "timeline_demo")
    large_ms = bench_size(CLINIC_150K, "timeline_150k")
    report_ratio("timeline_growth", large_ms / demo_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
