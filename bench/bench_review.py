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

Issue 23 (point 2): the review reads each couple's summary row instead of every session.
`review_150k_cold_vs_onthefly_floor` is the review's data at 150k sessions with every
cache cold (page cache, norms, expected course), against a hand-written SQL floor that
reads the couples and all their sessions the way the review did before the summary rows
(target <= 0.25). `review_growth_same_scope` is the review of 600 couples in the 15k
clinic against the same number of couples (the first 24 counselors' ~600) in the 150k
clinic (target <= 1.5). Both interleaved run by run, cold.
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


def _cold_caches() -> None:
    from dashboard.services import expected, timeline
    from dashboard.services.memo import PAGES

    PAGES.clear()
    timeline.NORMS_CACHE.clear()
    expected.COURSES_CACHE.clear()


def cold_review(
    size: ClinicSize, stack: contextlib.ExitStack, *, counselors: int | None = None
) -> tuple[Callable[[], None], Callable[[], None]]:
    """(the review's data with every cache cold, the on-the-fly SQL floor) for the
    admin's default view; with `counselors`, only the first that many counselors' couples
    (by id), for a scope of a given size."""
    from sqlalchemy import select, text

    from dashboard.services import review
    from dashboard.services.auth import actor_of
    from db.engine import make_engine, make_sessionmaker
    from db.models import User

    engine = make_engine(ensure_size(size))
    stack.callback(engine.dispose)
    sessions = make_sessionmaker(engine)
    today = date.fromisoformat(clinic_info(size.name)["today"])
    with sessions() as db:
        admin = db.scalars(select(User).where(User.role == "admin").order_by(User.id)).first()
        assert admin is not None
        actor = actor_of(admin)
        ids = db.scalars(
            select(User.id).where(User.role == "counselor").order_by(User.id).limit(counselors)
        ).all()
    chosen = tuple(ids) if counselors else ()
    filters = review.ReviewFilters(counselor_ids=chosen)
    in_scope = ",".join(str(i) for i in ids)
    # The sessions and couples the review read before the summary rows, as one query each:
    # what the database must hand over at least to judge every couple on the fly.
    floor_sql = text(
        "SELECT s.couple_id, s.id, s.session_date, s.attendance, s.stage, s.eii_a, s.eii_b,"
        " s.safety_flag, s.source_a, s.source_b FROM sessions s JOIN couples c"
        " ON c.id = s.couple_id WHERE s.deleted_at IS NULL AND c.deleted_at IS NULL"
        f" AND c.counselor_id IN ({in_scope}) ORDER BY s.couple_id, s.session_date, s.id"
    )
    couples_sql = text(
        "SELECT id, case_code, counselor_id, status, intake_date, status_changed_at"
        f" FROM couples WHERE deleted_at IS NULL AND counselor_id IN ({in_scope})"
    )

    def load() -> None:
        _cold_caches()
        with sessions() as db:
            review.caseload_review(db, actor, filters, today=today, record_view=False)

    def floor() -> None:
        with engine.connect() as conn:
            conn.execute(couples_sql).fetchall()
            conn.execute(floor_sql).fetchall()

    return load, floor


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
        review_cold, floor = cold_review(CLINIC_150K, stack)
        same_15k, _ = cold_review(CLINIC_15K, stack)
        same_150k, _ = cold_review(CLINIC_150K, stack, counselors=24)
        cold_runs = measure_interleaved(
            {
                "150k_cold": review_cold,
                "150k_onthefly_floor": floor,
                "same_scope_15k": same_15k,
                "same_scope_150k": same_150k,
            },
            runs=7,
            warmup=1,
        )
        medians = {name: report(f"review_{name}", runs) for name, runs in cold_runs.items()}
        report_ratio(
            "review_150k_cold_vs_onthefly_floor",
            medians["150k_cold"] / medians["150k_onthefly_floor"],
        )
        report_ratio(
            "review_growth_same_scope", medians["same_scope_150k"] / medians["same_scope_15k"]
        )
        supervisor = page_load(CLINIC_150K, stack, role="supervisor")
        report(
            "review_150k_supervisor",
            measure(supervisor, runs=RUNS, warmup=1),
            peak_rss_mb=peak_rss_mb(),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
