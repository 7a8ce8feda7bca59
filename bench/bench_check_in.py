"""A partner's check-in: the submit's service time and the partner's page, against the floor.

Issue 12. On a copy of the 15k-session clinic (its audit log and tables at clinic size),
each measurement is interleaved run by run with the page benchmark's trivial one-widget
AppTest page (bench/bench_pages.py), the floor measured in the same run:

- `check_in_submit`: `check_ins.submit_check_in` for a fresh link each run (the digest
  look-up, the guess-rate check, validation, the single-use UPDATE, the audit row);
- `check_in_page`: the partner's page run whole through AppTest with the real entrypoint
  (no sign-in; the question page with its eight 0-10 rows, once the link is open).

Target: the page <= 4x the trivial page. Prints `BENCH name=check_in_submit ...`,
`BENCH name=check_in_page ...` and their `..._vs_floor` ratios.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pages import app_environment, ids, trivial_page  # noqa: E402
from bench.common import (  # noqa: E402
    CLINIC_15K,
    db_path,
    ensure_size,
    measure_interleaved,
    report,
    report_ratio,
)

RUNS = 25
WARMUP = 3
PAGE_TARGET = 4.0


def submitter(url: str, couple_id: int, counselor: str) -> Callable[[], None]:
    """One timed submit per call; the link is made (untimed) by `prepare`."""
    import time

    from sqlalchemy import select

    from dashboard.domain.catalog import INDICATORS
    from dashboard.domain.check_in import Answers
    from dashboard.services import check_ins
    from dashboard.services.auth import actor_of
    from dashboard.services.check_ins import Credential
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple, User

    factory = make_sessionmaker(make_engine(url))
    with factory() as db:
        user = db.scalars(select(User).where(User.username == counselor)).one()
        actor = actor_of(user)
        # Another of the counselor's open couples: the page benchmark holds this one's.
        couple_id = db.scalars(
            select(Couple.id).where(
                Couple.counselor_id == user.id, Couple.status != "closed", Couple.id != couple_id
            )
        ).first()
        assert couple_id is not None, "the counselor has no second open couple"
    answers = Answers({i.key: 6 for i in INDICATORS}, {}, "A note for the counselor.")
    state: dict[str, float] = {}

    def run() -> None:
        with factory() as db:
            made = check_ins.create_check_in(
                db, actor, couple_id, partners={"A"}, initials={"A": "A", "B": "B"}
            )
        with factory() as db:
            started = time.perf_counter()
            check_ins.submit_check_in(
                db, Credential("link", made.tokens["A"]), answers, client="192.0.2.1"
            )
            state["last"] = (time.perf_counter() - started) * 1000
        with factory() as db:
            check_ins.cancel_check_in(db, actor, made.check_in_id)

    run.state = state  # type: ignore[attr-defined]
    return run


def partner_page(url: str, couple_id: int, counselor: str) -> Callable[[], None]:
    """The partner's page, opened from a link once, then rerun whole (a warm page load:
    the question page as a partner's phone draws it after each tap)."""
    from sqlalchemy import select
    from streamlit.testing.v1 import AppTest

    from dashboard.services import check_ins
    from dashboard.services.auth import actor_of
    from db.engine import make_engine, make_sessionmaker
    from db.models import User

    factory = make_sessionmaker(make_engine(url))
    with factory() as db:
        actor = actor_of(db.scalars(select(User).where(User.username == counselor)).one())
        made = check_ins.create_check_in(
            db, actor, couple_id, partners={"B"}, initials={"A": "A", "B": "B"}
        )
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/check_in.py")
    at.query_params["t"] = made.tokens["B"]
    at.run()
    assert len(at.radio) == 8, "the check-in page did not open"

    def run() -> None:
        at.run()
        assert len(at.radio) == 8 and not at.exception

    return run


def main() -> None:
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )
    ensure_size(CLINIC_15K)
    with tempfile.TemporaryDirectory(prefix="bondline-bench-check-in-") as tmp_name:
        tmp = Path(tmp_name)
        copy = tmp / "clinic.sqlite3"
        shutil.copy(db_path(CLINIC_15K.name), copy)  # the benchmark writes check-ins
        url = f"sqlite:///{copy}"
        who = ids(url)
        couple_id, counselor = int(who["couple_id"]), str(who["counselor"])  # type: ignore[arg-type]
        with app_environment(url, warm_up=False):
            submit = submitter(url, couple_id, counselor)
            floor_for_submit = trivial_page(tmp)
            submits: list[float] = []
            floor_runs: list[float] = []

            def paired() -> None:
                submit()
                submits.append(submit.state["last"])  # type: ignore[attr-defined]

            samples = measure_interleaved(
                {"floor": trivial_page(tmp), "page": partner_page(url, couple_id, counselor)},
                runs=RUNS,
                warmup=WARMUP,
            )
            submit_floor = measure_interleaved(
                {"floor": floor_for_submit, "submit": paired}, runs=RUNS, warmup=WARMUP
            )
            floor_runs = submit_floor["floor"]
        floor = report("check_in_floor_trivial", samples["floor"])
        page = report("check_in_page", samples["page"])
        submit_ms = report("check_in_submit", submits[-RUNS:])
        floor2 = report("check_in_submit_floor_trivial", floor_runs)
        report_ratio("check_in_page_vs_floor", page / floor)
        report_ratio("check_in_submit_vs_floor", submit_ms / floor2)
        verdict = "met" if page / floor <= PAGE_TARGET else "MISSED"
        print(
            f"  check_in_page: {page / floor:.2f}x the trivial page "
            f"(target <= {PAGE_TARGET:g}x): {verdict}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
