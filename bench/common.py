"""Shared benchmark helpers: clinic databases at standard sizes, timing, one-line reports.

A helper, not a benchmark: `make bench` runs every bench/*.py, and running this file
prints nothing and exits 0.

Databases are built once under data/bench/ (git-ignored) by a child process running
bench/build.py, so a benchmark's own peak RSS never includes the build, and each build's
time and peak RSS are measured on their own. A sidecar JSON beside each database records
the parameters it was built with (plus a fingerprint of the generator and the
migrations); a different parameter set, generator or schema rebuilds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/x.py`, as the Makefile does
    sys.path.insert(0, str(ROOT))

# The audit chain needs a key (secrets.toml on a server); a bench clinic gets its own,
# fixed so that clinics kept in data/bench verify across runs.
os.environ.setdefault("BONDLINE_AUDIT_KEY", "bench-audit-key-" + "b" * 32)

BENCH_DIR = ROOT / "data" / "bench"
DEFAULT_SEED = 7
LONG_COUPLES = 1
LONG_SESSIONS = 40  # the timeline benchmark's couple


@dataclass(frozen=True)
class ClinicSize:
    name: str
    counselors: int
    couples: int
    target_sessions: int

    def params(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "name"}


# Standard sizes. DEMO is the demo clinic's size when the benchmarks were set (60 couples;
# the demo now spreads its ~900 sessions over 100 couples, most of them short courses,
# and the benchmark keeps the old size so its figures stay comparable). load_demo has
# no 40-session couple, so the benchmark builds a demo-sized clinic with one; the others
# are the sizes the issues set targets for.
DEMO = ClinicSize("demo", counselors=6, couples=60, target_sessions=900)
CLINIC_15K = ClinicSize("clinic_15k", counselors=25, couples=600, target_sessions=15_000)
CLINIC_150K = ClinicSize("clinic_150k", counselors=200, couples=5_000, target_sessions=150_000)
SIZES: tuple[ClinicSize, ...] = (DEMO, CLINIC_15K, CLINIC_150K)


def db_path(name: str) -> Path:
    return BENCH_DIR / f"{name}.sqlite3"


def sidecar_path(name: str) -> Path:
    return BENCH_DIR / f"{name}.json"


def url_of(name: str) -> str:
    return f"sqlite:///{db_path(name)}"


def generator_fingerprint() -> str:
    """The demo generator and the migrations: a change to either rebuilds the databases."""
    digest = hashlib.sha256()
    sources = sorted((ROOT / "dashboard" / "demo").glob("*.py"))
    sources += sorted((ROOT / "db" / "migrations" / "versions").glob("*.py"))
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def wanted_params(
    *, counselors: int, couples: int, target_sessions: int, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    return {
        "counselors": counselors,
        "couples": couples,
        "target_sessions": target_sessions,
        "seed": seed,
        "long_couples": LONG_COUPLES,
        "long_sessions": LONG_SESSIONS,
        "generator": generator_fingerprint(),
    }


def clinic_info(name: str) -> dict[str, Any]:
    """What the build recorded: `today`, `long_couples` (case codes), counts, timings."""
    return json.loads(sidecar_path(name).read_text())["built"]


def _is_current(name: str, params: dict[str, Any]) -> bool:
    sidecar = sidecar_path(name)
    if not (db_path(name).exists() and sidecar.exists()):
        return False
    try:
        return json.loads(sidecar.read_text()).get("params") == params
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _build_lock(name: str) -> Iterator[None]:
    """Two benchmarks asking for the same clinic at once: the second waits, then reuses."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with open(BENCH_DIR / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_clinic(
    name: str, *, counselors: int, couples: int, target_sessions: int, seed: int = DEFAULT_SEED
) -> str:
    """The URL of data/bench/<name>.sqlite3, built first if missing or built otherwise.

    The build (migrate to head, then `dashboard.demo.load_clinic`) runs in a child
    process; see bench/build.py.
    """
    params = wanted_params(
        counselors=counselors, couples=couples, target_sessions=target_sessions, seed=seed
    )
    if _is_current(name, params):
        return url_of(name)
    with _build_lock(name):
        if not _is_current(name, params):
            print(
                f"(building {db_path(name).relative_to(ROOT)}, once)", file=sys.stderr, flush=True
            )
            done = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "build.py"),
                    "--one",
                    name,
                    json.dumps(params),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0 or not _is_current(name, params):
                raise RuntimeError(f"building {name} failed:\n{done.stdout}{done.stderr}")
    return url_of(name)


def ensure_size(size: ClinicSize, *, seed: int = DEFAULT_SEED) -> str:
    return ensure_clinic(size.name, seed=seed, **size.params())


def measure(fn: Callable[[], object], *, runs: int, warmup: int = 2) -> list[float]:
    """Wall time of `fn` in milliseconds, `runs` times after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure_interleaved(
    fns: dict[str, Callable[[], object]], *, runs: int, warmup: int = 2
) -> dict[str, list[float]]:
    """Like `measure` for several functions, taking turns run by run.

    For a growth ratio: whatever else the machine is doing then slows both sides alike,
    instead of only the one that happened to run during it.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            samples[name] += measure(fn, runs=1, warmup=0)
    return samples


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    Linux: VmHWM from /proc/self/status. ru_maxrss would do for a process that make or a
    shell started, but Linux carries it across exec, so a child started from a large
    Python process (a build started by a benchmark) would report its parent's size.
    Elsewhere ru_maxrss (KiB on Linux, bytes on macOS).
    """
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def report(name: str, samples_ms: list[float], *, peak_rss_mb: float | None = None) -> float:
    """Print `BENCH name=<name> median_ms=<float> runs=<n>` (and peak_rss_mb); the median."""
    median = statistics.median(samples_ms)
    line = f"BENCH name={name} median_ms={median:.2f} runs={len(samples_ms)}"
    if peak_rss_mb is not None:
        line += f" peak_rss_mb={peak_rss_mb:.1f}"
    print(line, flush=True)
    return median


def report_ratio(name: str, ratio: float) -> None:
    """Print `BENCH name=<name> ratio=<float>` (growth between two sizes)."""
    print(f"BENCH name={name} ratio={ratio:.3f}", flush=True)


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")
