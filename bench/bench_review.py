"""The caseload review page's data and figures (issue 4).

Target: median under 300 ms for a clinic of 25 counselors, 600 couples and 15,000
sessions; under 1 s for 200 counselors, 5,000 couples and 150,000 sessions; the growth
ratio between the two is reported. One page load = a fresh SQLAlchemy session on an
engine created once (as the app does), `caseload_review` with the page's default
filters (active and paused couples, the last 365 days), the review status of the
attention list (`supervision.attention_with_reviews`), then every figure and table view
the page draws. The admin's clinic-wide view is the largest selection; the same load
with every status selected and a supervisor's view of their counselors are reported
beside it.

The clinic-wide intake norms behind reliable change are cached per database for ten
minutes and shared with the timeline; they are warm here, as on any page load but the
first after a start or their expiry; that first load is reported as review_150k_cold_norms.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CLINIC_15K,
    CLINIC_150K,
    ClinicSize,
    clinic_info,
    ensure_size,
    measure,
    measure_interleaved,
    peak_rss_mb,
    report,
    report_ratio,
)

RUNS = 15
WARMUP = 2


def draw(data: object) -> None:
    """Every figure and table view the review page shows (admins see all of them)."""
    from dashboard import charts

    charts.review_figures(data)
    charts.review_tables(data)


def page_load(
    size: ClinicSize,
    stack: contextlib.ExitStack,
    *,
    role: str = "admin",
    every_status: bool = False,
) -> Callable[[], None]:
    """One review page load in the clinic, as its admin or its first supervisor."""
    from sqlalchemy import select

    from dashboard.domain.catalog import CoupleStatus
    from dashboard.services import review, supervision
    from dashboard.services.auth import actor_of
    from db.engine import make_engine, make_sessionmaker
    from db.models import User

    engine = make_engine(ensure_size(size))
    stack.callback(engine.dispose)
    sessions = make_sessionmaker(engine)
    today = date.fromisoformat(clinic_info(size.name)["today"])
    with sessions() as db:
        user = db.scalars(select(User).where(User.role == role).order_by(User.id)).first()
        assert user is not None, role
        actor = actor_of(user)
    statuses = tuple(s.value for s in CoupleStatus) if every_status else review.DEFAULT_STATUSES
    filters = review.ReviewFilters(statuses=statuses)

    def load() -> None:
        with sessions() as db:
            data = review.caseload_review(db, actor, filters, today=today, record_view=False)
            supervision.attention_with_reviews(db, data.attention)
        draw(data)

    return load


def cold(load: Callable[[], None], runs: int = 3) -> list[float]:
    """The first page load after a server start or the norms' expiry (every 10 min)."""
    import time

    from dashboard.services import timeline

    samples = []
    for _ in range(runs):
        timeline.NORMS_CACHE.clear()
        started = time.perf_counter()
        load()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    with contextlib.ExitStack() as stack:
        loads = {
            "review_15k": page_load(CLINIC_15K, stack),
            "review_150k": page_load(CLINIC_150K, stack),
        }
        # Taking turns, so a busy moment on the machine slows both sides of the ratio.
        samples = measure_interleaved(loads, runs=RUNS, warmup=WARMUP)
        medians = {name: report(name, runs) for name, runs in samples.items()}
        report_ratio("review_growth", medians["review_150k"] / medians["review_15k"])
        every = page_load(CLINIC_150K, stack, every_status=True)
        report("review_150k_every_status", measure(every, runs=RUNS, warmup=1))
        report("review_150k_cold_norms", cold(loads["review_150k"]))
        supervisor = page_load(CLINIC_150K, stack, role="supervisor")
        report(
            "review_150k_supervisor",
            measure(supervisor, runs=RUNS, warmup=1),
            peak_rss_mb=peak_rss_mb(),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
