"""Build the benchmark clinics under data/bench/ (a helper; not a benchmark).

    python bench/build.py            build each standard clinic that is missing or stale
    python bench/build.py --force    rebuild them all
    python bench/build.py --report   the recorded build figures of every built clinic

A clinic is built only when missing or when its parameters, the generator or the
migrations changed, so under `make bench` (which runs every bench/*.py) this prints
nothing and exits 0 once the clinics exist; it prints one `BUILD name=...` line per
clinic it does build. `python bench/build.py --one NAME PARAMS_JSON` is the child
process `bench.common.ensure_clinic` starts: it builds into a temporary file, moves it
into place, and writes the sidecar JSON with the build's time, peak RSS and size.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    SIZES,
    clinic_info,
    db_path,
    ensure_size,
    peak_rss_mb,
    remove_database,
    sidecar_path,
    wanted_params,
)


def build_one(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Migrate a fresh SQLite file to head and load the clinic into it; returns the figures."""
    from dashboard.demo import load_clinic
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade_head

    final = db_path(name)
    final.parent.mkdir(parents=True, exist_ok=True)
    building = final.with_name(final.name + ".building")
    remove_database(building)
    started = time.perf_counter()
    url = f"sqlite:///{building}"
    upgrade_head(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            summary = load_clinic(
                db,
                seed=params["seed"],
                counselors=params["counselors"],
                couples=params["couples"],
                target_sessions=params["target_sessions"],
                long_couples=params["long_couples"],
                long_sessions=params["long_sessions"],
            )
    finally:
        engine.dispose()
    with sqlite3.connect(building) as raw:  # fold the WAL into the file before moving it
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    seconds = time.perf_counter() - started
    sidecar_path(name).unlink(missing_ok=True)
    remove_database(final)
    os.replace(building, final)
    remove_database(building)  # an empty -wal / -shm left by the checkpoint
    built = {
        "today": summary.today.isoformat(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 2),
        "load_seconds": round(summary.seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "size_mb": round(final.stat().st_size / 1e6, 1),
        "users": summary.users,
        "couples": summary.couples,
        "sessions": summary.sessions,
        "held_sessions": summary.held_sessions,
        "indicator_ratings": summary.indicator_ratings,
        "history_days": summary.history_days,
        "long_couples": list(summary.long_couples),
        "showcase": summary.showcase,
    }
    tmp = sidecar_path(name).with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"params": params, "built": built}, indent=2) + "\n")
    os.replace(tmp, sidecar_path(name))
    return built


def build_line(name: str, built: dict[str, Any]) -> str:
    keys = ("seconds", "peak_rss_mb", "size_mb", "sessions", "couples", "users", "history_days")
    return f"BUILD name={name} " + " ".join(f"{k}={built[k]}" for k in keys)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        build_one(argv[1], json.loads(argv[2]))
        return 0
    if argv[:1] == ["--report"]:
        for size in SIZES:
            if sidecar_path(size.name).exists():
                print(build_line(size.name, clinic_info(size.name)))
        return 0
    force = argv[:1] == ["--force"]
    for size in SIZES:
        current = False
        if sidecar_path(size.name).exists() and db_path(size.name).exists():
            stored = json.loads(sidecar_path(size.name).read_text()).get("params")
            current = stored == wanted_params(**size.params()) and not force
        if current:
            continue
        if force:
            sidecar_path(size.name).unlink(missing_ok=True)
        ensure_size(size)
        print(build_line(size.name, clinic_info(size.name)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
