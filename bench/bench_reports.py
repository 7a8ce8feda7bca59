"""Progress report PDFs (issue 5).

Targets: one couple's PDF with charts, browser already running, median under 1 s; a
batch of 600 couples' PDFs under 5 minutes with memory flat across the batch.

- report_one: the demo-sized clinic's 40-session couple, as its counselor, through
  `reports.couple_report` with one ChartRenderer started beforehand (as the server keeps
  one), audit included; fresh SQLAlchemy session per report.
- report_batch_600: every couple of the 25-counselor / 600-couple / 15,000-session clinic
  through `reports.batch_reports` as its admin, each PDF written to a folder as the
  command line does, one run; median_ms is the whole batch. Memory: resident size
  (VmRSS) after the first 50 reports and at the end, and the process's peak.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CLINIC_15K,
    DEMO,
    ClinicSize,
    clinic_info,
    ensure_size,
    measure,
    peak_rss_mb,
    report,
    report_ratio,
)

RUNS = 10
WARM_UP_REPORTS = 50


def rss_mb() -> float:
    """Resident size now (VmRSS), MiB: to see whether memory grows along a batch."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def actor_for(db, role: str, username: str | None = None):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from dashboard.services.auth import actor_of
    from db.models import User

    query = select(User).where(User.role == role).order_by(User.id)
    if username:
        query = query.where(User.username == username)
    user = db.scalars(query).first()
    assert user is not None, role
    return actor_of(user)


def one_report(size: ClinicSize, renderer) -> list[float]:  # type: ignore[no-untyped-def]
    from datetime import date

    from sqlalchemy import select

    from dashboard.services import reports
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple, User

    engine = make_engine(ensure_size(size))
    sessions = make_sessionmaker(engine)
    info = clinic_info(size.name)
    today = date.fromisoformat(info["today"])
    with sessions() as db:
        couple = db.scalar(select(Couple).where(Couple.case_code == info["long_couples"][0]))
        assert couple is not None
        username = db.scalar(select(User.username).where(User.id == couple.counselor_id))
        actor, couple_id = actor_for(db, "counselor", username), couple.id

    def load() -> None:
        with sessions() as db:
            file = reports.couple_report(db, actor, couple_id, renderer=renderer, today=today)
        assert file.records == 40 and file.data.startswith(b"%PDF")

    try:
        return measure(load, runs=RUNS, warmup=2)
    finally:
        engine.dispose()


def batch(size: ClinicSize, renderer) -> tuple[float, int, float, float]:  # type: ignore[no-untyped-def]
    """(seconds, reports, RSS after the first 50, RSS at the end)."""
    from datetime import date

    from dashboard.services import reports
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(ensure_size(size))
    today = date.fromisoformat(clinic_info(size.name)["today"])
    early = 0.0
    try:
        with make_sessionmaker(engine)() as db, tempfile.TemporaryDirectory() as out:
            actor = actor_for(db, "admin")
            couples = [couple_id for couple_id, _ in reports.report_couples(db, actor)]
            started = time.perf_counter()
            written = 0
            for file in reports.batch_reports(db, actor, couples, renderer=renderer, today=today):
                (Path(out) / file.filename).write_bytes(file.data)
                written += 1
                if written == WARM_UP_REPORTS:
                    early = rss_mb()
            seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return seconds, written, early, rss_mb()


def main() -> int:
    from dashboard.reports.chart_images import ChartRenderer

    with contextlib.ExitStack() as stack:
        renderer = stack.enter_context(ChartRenderer.start())
        if not renderer.available:
            print(f"no chart browser: {renderer.reason}", file=sys.stderr)
            return 1
        report("report_one", one_report(DEMO, renderer))
        seconds, written, early, late = batch(CLINIC_15K, renderer)
        assert written == 600, written
        report("report_batch_600", [seconds * 1000], peak_rss_mb=peak_rss_mb())
        report("report_batch_per_report", [seconds * 1000 / written])
        print(
            f"(resident memory after {WARM_UP_REPORTS} reports {early:.1f} MB, "
            f"after {written} {late:.1f} MB)",
            flush=True,
        )
        report_ratio("report_batch_rss_growth", late / early)
    return 0


if __name__ == "__main__":
    sys.exit(main())
