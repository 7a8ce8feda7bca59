"""Table exports: Excel against CSV, and the workbook of all three tables (issue 20).

Targets: the same table as Excel costs no more than 3x its CSV; the workbook of a
clinic of about 15,000 rows, median reported (it took 23-70 s with openpyxl).

On a copy of a clinic built for the purpose (6 counselors, 65 couples, ~980 sessions:
caseload + sessions + ratings come to about 15,000 rows; an export writes an audit row,
so the shared database is never touched), as its admin, warm, taking turns run by run
(`measure_interleaved`), so a busy moment on the machine slows both sides alike:

- xlsx_vs_csv: the ratings table (~14,000 rows, the largest) written as a workbook over
  the same frame written as CSV: the builders alone (dashboard/reports/tables.py).
- xlsx_vs_csv_service: the same through `exports.table_export`, what a user waits for
  (one snapshot read, the file, the audit row); `export_ratings_csv`/`_xlsx` its medians.
- export_workbook_15k: `exports.all_tables_xlsx`, the three tables in one workbook
  (read, build, audit); `export_workbook_15k_vs_csv` over the three tables as CSV.
- export_workbook_clinic_15k: once, the workbook of the 15,000-session clinic (~230,000
  rows), with the process's peak memory.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_reports import actor_for  # noqa: E402
from bench.common import (  # noqa: E402
    CLINIC_15K,
    clinic_info,
    db_path,
    ensure_clinic,
    ensure_size,
    measure,
    measure_interleaved,
    peak_rss_mb,
    report,
    report_ratio,
)

RUNS = 15
WORKBOOK_CLINIC = {"counselors": 6, "couples": 65, "target_sessions": 980}
WORKBOOK_NAME = "exports_15k_rows"


def _copy(name: str, tmp: Path) -> str:
    copy = tmp / f"{name}.sqlite3"
    shutil.copy(db_path(name), copy)  # each export writes an audit row
    return f"sqlite:///{copy}"


def small_clinic(url: str, today: date) -> None:
    from dashboard.reports import tables
    from dashboard.services import exports
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as db:
            actor = actor_for(db, "admin")
            frames = exports._read_tables(db, actor, exports.TABLES, today)
        rows = {name: len(frame) for name, frame in frames.items()}
        print(f"(workbook clinic: {rows}, {sum(rows.values()):,} rows)", flush=True)
        ratings = frames["ratings"]
        built = measure_interleaved(
            {
                "csv": lambda: tables.to_csv_bytes(ratings),
                "xlsx": lambda: tables.to_xlsx_bytes({"ratings": ratings}),
            },
            runs=RUNS,
        )
        report("export_ratings_build_csv", built["csv"])
        report("export_ratings_build_xlsx", built["xlsx"])
        report_ratio("xlsx_vs_csv", median(built["xlsx"]) / median(built["csv"]))

        def export(table: str, fmt: str) -> None:
            with sessions() as db:
                exports.table_export(db, actor, table, fmt, today=today)

        def workbook() -> None:
            with sessions() as db:
                exports.all_tables_xlsx(db, actor, today=today)

        def three_csv() -> None:
            for table in exports.TABLES:
                export(table, "csv")

        served = measure_interleaved(
            {
                "csv": lambda: export("ratings", "csv"),
                "xlsx": lambda: export("ratings", "xlsx"),
                "workbook": workbook,
                "three_csv": three_csv,
            },
            runs=RUNS,
        )
        report("export_ratings_csv", served["csv"])
        report("export_ratings_xlsx", served["xlsx"])
        report_ratio("xlsx_vs_csv_service", median(served["xlsx"]) / median(served["csv"]))
        report("export_workbook_15k", served["workbook"])
        report_ratio(
            "export_workbook_15k_vs_csv", median(served["workbook"]) / median(served["three_csv"])
        )
    finally:
        engine.dispose()


def large_clinic(url: str, today: date) -> None:
    from dashboard.services import exports
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            actor = actor_for(db, "admin")
            records: list[int] = []
            samples = measure(
                lambda: records.append(exports.all_tables_xlsx(db, actor, today=today).records),
                runs=1,
                warmup=0,
            )
        print(f"(clinic_15k workbook: {records[0]:,} rows)", flush=True)
        report("export_workbook_clinic_15k", samples, peak_rss_mb=peak_rss_mb())
    finally:
        engine.dispose()


def main() -> int:
    ensure_clinic(WORKBOOK_NAME, **WORKBOOK_CLINIC)
    ensure_size(CLINIC_15K)
    with tempfile.TemporaryDirectory(prefix="bondline-bench-exports-") as tmp_name:
        tmp = Path(tmp_name)
        small_clinic(
            _copy(WORKBOOK_NAME, tmp), date.fromisoformat(clinic_info(WORKBOOK_NAME)["today"])
        )
        large_clinic(
            _copy(CLINIC_15K.name, tmp), date.fromisoformat(clinic_info(CLINIC_15K.name)["today"])
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
