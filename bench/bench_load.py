"""A whole clinic at once (issue 23, point 4): N counselors on one served app.

Drives the real `streamlit run` (on a copy of the 15k-session clinic) through its own
websocket protocol (bench/st_client.py), not with browsers: on this 2-core machine a
headless Chromium tab spends about as much CPU drawing a page as the server spends
building it (bench_server.py's `*_browser_task`: 0.44 s of main thread for a warm
timeline), so twenty browsers would take the cores from the server they measure. The
client parses what the server sends and sends what a tab sends; its own CPU is printed
against the server's (`load_driver_cpu_vs_server`).

Each simulated counselor (a different one of the clinic's, each signed in) does the
everyday loop, with think time between clicks: My caseload, a couple (a row of the
table), its timeline (the page link), Log session (the menu), the DAP note typed (three
boxes, each sent on leaving it), the stage chosen, Save session. Click-to-drawn: from
the message sent until the server has finished the run whose page shows the step's
content (the table, the timeline link, the chart, the Save button, the "saved" notice),
as bench_server.py judges a browser's step, less the browser's drawing.

Prints, at N = 1, 5, 10 and 20 counselors, p50 and p95 click-to-drawn of the five timed
steps pooled, each as a ratio to N = 1 (`BENCH name=load_p95_n10_vs_n1`, target <= 3);
the server's RSS per connected session (`rss_per_session_mb`, target <= 30) and after
every session has disconnected and the disconnected-session TTL has passed
(`rss_after_disconnect_vs_start`, target <= 1.1). Streamlit keeps a closed tab's
session for `server.disconnectedSessionTTL` seconds (default 120, streamlit/config.py)
so a reconnecting tab finds it; the bench sets it to TTL_S to wait less.

The start of `rss_after_disconnect_vs_start` is the RSS after a first counselor's loop
and after that session has gone (`rss_start_mb`): the imports, the warm-up thread
(dashboard/ui/warm.py: norms, plotly, Chromium for exports) and each page's code are
paid once per server, not by the sessions that come and go. A cold server (healthy, no
page drawn, the app's script not yet imported) is printed as `rss_cold_mb` (about 70 MB
against about 265 MB warm), and the ratio to it as `rss_after_disconnect_vs_cold` (about
4.2): it counts those one-time costs as growth.

What stays after twenty counselors have gone (issue 23, second pass: `--probe` runs on
7 Dec 2026) is 29-30 MB, and most of it is memory the allocators keep for reuse
after twenty sessions ran at once, not memory anything holds:
- live objects, 3-8 MB (pymalloc's blocks in use +2.7 to +7.7 MB after a full
  collection, glibc's +0.6 to +1.4 MB): the page cache's 83-88 entries (their frames,
  about 0.5 MB, and the couples' session lists), pandas' copy-on-write weak references
  to the cached frames (at most 500 dead ones a block). No session is kept but the two
  visitors' (`visit`). Garbage cycles wait for Python's own collections
  (`runner.postScriptGC` is off): a full collection found 26,338 objects and gave back
  no RSS.
- pymalloc's arenas: 16-17 more of 1 MiB, with 6-12 MB of free blocks in them (an arena
  goes back only once every block in it is free).
- glibc's heaps: 13-15 MB more, of which 12-14 MB free, with one heap per busy thread
  (each session's script runs in a thread of its own); malloc_trim(0) gives back only
  1.6-2.5 MB (the free chunks lie between used ones). With MALLOC_ARENA_MAX=2 in the
  server's environment glibc kept 6-7 MB free instead of 18-20 and the ratio was
  1.082-1.086 against 1.112-1.115. So the app caps glibc at two heaps at its first run
  (dashboard/ui/warm.py, `cap_malloc_arenas`): 12 MB free, 1.075-1.092 in three runs
  (the heaps made before the first run stay).
A second round of twenty sessions reuses what stayed (`rss_after_second_round_vs_first`
0.997-1.000), so it does not add up per session.

`--rss-only` runs only the four levels and the RSS lines (about five minutes here);
`--probe` also starts the server with bench/rss_probe/sitecustomize.py, which answers
at each reading with the RSS, glibc's and pymalloc's heaps, the page cache and
Streamlit's sessions, and `--tracemalloc N` adds a tracemalloc snapshot of N frames
(with 12 frames the server was too slow to finish the levels here: a save timed out). `make bench` runs it all, without the probe.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_server import _start_server, _stop  # noqa: E402
from bench.common import CLINIC_15K, db_path, ensure_size, report, report_ratio  # noqa: E402
from bench.rss_probe import PROBE_PATH, Probe  # noqa: E402
from bench.st_client import Page, StClient, choice, tab, table_row, text, trigger  # noqa: E402

PASSWORD = "bondline-demo"
LEVELS = (1, 5, 10, 20)
MIN_SAMPLES = 20  # timed steps at a level: N = 1 runs loops until it has these
LOOPS = 2  # loops each counselor does at N >= 5
THINK_S = (1.0, 3.0)  # between clicks, uniform: a busy counselor, faster than a real one
TYPING_S = 0.3  # between the boxes of the note
TTL_S = 10  # server.disconnectedSessionTTL for the bench (the default is 120 s)
STEPS = ("caseload", "couple", "timeline", "log_session", "save")
NOTE = {
    "Data": "Both on time; talked about the week's silences.",
    "Assessment": "Trust building; stress still high.",
    "Plan": "Ten minutes a day of empathic listening.",
}
STAGE_INDEX = 2  # the third stage of the radio
SEED = 23
# The page-cache phase: readers whose couples nobody changes, beside writers who save.
CACHE_READERS = 10
CACHE_WRITERS = 10
CACHE_ROWS = 2  # couples each reader opens, again each round
CACHE_ROUNDS = 3
STATS_SETTLE_S = 2.5  # the server writes its statistics within a second of a read
# Throughput, saturated: every demo counselor in a tab, no think time.
SATURATED_ROWS = 4
SATURATED_S = 30


def counselor(n: int) -> str:
    return f"c.{n:04d}"


@dataclass
class Run:
    """What one level measured."""

    n: int
    times: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    clicks: int = 0
    seconds: float = 0.0
    driver_cpu_s: float = 0.0
    server_cpu_s: float = 0.0

    def pooled(self) -> list[float]:
        return [t for step in STEPS for t in self.times[step]]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of at least one value."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


class Counselor:
    """One signed-in counselor in one tab, doing the everyday loop."""

    def __init__(
        self, base: str, username: str, rng: random.Random, *, cookie: str = "", think: bool = True
    ) -> None:
        self.client = StClient(base, cookie=cookie)
        self.username = username
        self.rng = rng
        self.thinking = think

    async def think(self, seconds: tuple[float, float] = THINK_S) -> None:
        if self.thinking:
            await asyncio.sleep(self.rng.uniform(*seconds))

    async def sign_in(self) -> None:
        await self.client.open()
        page = self.client.page
        user, password = page.find("text_input", "Username"), page.find("text_input", "Password")
        login = page.find("button", "Login")
        assert user and password and login, "no login form"
        await self.client.rerun(
            [text(user, self.username), text(password, PASSWORD), trigger(login)],
            until=lambda p: "My caseload" in self.client.pages and p.find("dataframe") is not None,
        )

    @staticmethod
    async def _timed(times: list[float], coro) -> Page:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        page = await coro
        times.append((time.perf_counter() - started) * 1000)
        return page

    async def _menu(self, times: list[float], title: str, kind: str, words: str = "") -> Page:
        """A click on `title` in the menu, timed until the page has its `kind` element."""
        c = self.client
        return await self._timed(
            times,
            c.rerun(
                page_hash=c.pages[title],
                query="",
                until=lambda p: p.find(kind, words or None) is not None,
            ),
        )

    async def read(self, run: Run, row: int) -> None:
        """My caseload, the couple on `row` of its table, that couple's timeline."""
        c = self.client
        page = await self._menu(run.times["caseload"], "My caseload", "dataframe")
        await self.think()
        grid = page.find("dataframe")
        assert grid is not None
        page = await self._timed(
            run.times["couple"],
            c.rerun(
                [table_row(grid, row)],
                until=lambda p: p.find("page_link", "Open the timeline") is not None,
            ),
        )
        await self.think()
        link = page.find("page_link", "Open the timeline")
        assert link is not None
        await self._timed(
            run.times["timeline"],
            c.rerun(
                page_hash=link.proto.page_script_hash,
                query=link.proto.query_string,
                until=lambda p: p.find("plotly_chart") is not None,
            ),
        )

    async def log_and_save(self, run: Run) -> None:
        """Log session for the couple last opened: the note, the stage, Save session."""
        c = self.client
        page = await self._menu(run.times["log_session"], "Log session", "button", "Save session")
        for label, words in NOTE.items():  # each box is sent when the counselor leaves it
            await self.think((TYPING_S, TYPING_S))
            box = page.find("text_area", label)
            assert box is not None, f"no {label} box"
            page = await c.rerun([text(box, words)])
        tabs = page.find("tab_container")
        assert tabs is not None
        page = await c.rerun([tab(tabs, "Stage & barriers")], until=lambda p: p.find("radio"))
        await self.think((TYPING_S, TYPING_S))
        stage = page.find("radio")
        assert stage is not None
        page = await c.rerun([choice(stage, STAGE_INDEX)])
        await self.think()
        save = page.find("button", "Save session")
        assert save is not None
        await self._timed(
            run.times["save"],
            c.rerun([trigger(save)], until=lambda p: p.find("alert", "Session of") is not None),
        )

    async def loop(self, run: Run, row: int) -> None:
        """The everyday loop: read a couple, then log and save a session for it."""
        await self.read(run, row)
        await self.think()
        await self.log_and_save(run)


async def level(base: str, n: int, loops: int) -> tuple[Run, list[Counselor]]:
    """N counselors signed in at once, each doing `loops` loops; still connected after."""
    rng = random.Random(SEED + n)
    people = [Counselor(base, counselor(i + 1), random.Random(rng.random())) for i in range(n)]
    await asyncio.gather(*(p.sign_in() for p in people))
    run = Run(n)

    async def work(person: Counselor) -> None:
        await asyncio.sleep(person.rng.uniform(0, THINK_S[1]))  # not all at the same moment
        for k in range(loops):
            await person.loop(run, row=k)

    before = sum(p.client.reruns for p in people)
    started = time.perf_counter()
    await asyncio.gather(*(work(p) for p in people))
    run.seconds = time.perf_counter() - started
    run.clicks = sum(p.client.reruns for p in people) - before
    return run, people


async def visit(base: str) -> None:
    """A next visitor's tab, opened and closed: the server keeps closed sessions in a
    TTL cache that drops expired ones only when it stores another."""
    for _ in range(2):
        client = StClient(base)
        await client.open()
        await client.close()


async def disconnect_all(base: str, people: list[Counselor]) -> None:
    for person in people:
        await person.client.close()
    await asyncio.sleep(TTL_S + 1)
    await visit(base)


async def scenario(base: str, pid: int, probe: Probe) -> dict[str, object]:
    cold_rss = rss_mb(pid)  # healthy, no page drawn yet
    await probe.ask("cold")
    # Warm the server as a first counselor of the day would (imports, norms, page code).
    _warm, people = await level(base, 1, 1)
    await disconnect_all(base, people)
    start_rss = rss_mb(pid)
    await probe.ask("start")
    await probe.ask("start-trimmed", trim=True)  # what glibc gives back (malloc_trim)
    runs: list[Run] = []
    connected_rss: dict[int, float] = {}
    for n in LEVELS:
        loops = LOOPS if n > 1 else math.ceil(MIN_SAMPLES / len(STEPS))
        cpu_before, server_before = own_cpu_s(), cpu_s(pid)
        run, people = await level(base, n, loops)
        run.driver_cpu_s, run.server_cpu_s = own_cpu_s() - cpu_before, cpu_s(pid) - server_before
        connected_rss[n] = rss_mb(pid)
        runs.append(run)
        print(
            f"  N={n}: {run.clicks} clicks in {run.seconds:.0f} s, RSS {connected_rss[n]:.0f} MB "
            f"(start {start_rss:.0f}), driver CPU {run.driver_cpu_s:.1f} s, "
            f"server CPU {run.server_cpu_s:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        await disconnect_all(base, people)
        print(f"  N={n}: RSS {rss_mb(pid):.0f} MB once they had gone", file=sys.stderr, flush=True)
        await probe.ask(f"gone-n{n}")
    end_rss = rss_mb(pid)
    # The same twenty again: memory that stayed for good (the page cache, the allocator's
    # free lists) is used again, what each session leaked would add up.
    _again, people = await level(base, max(LEVELS), LOOPS)
    await disconnect_all(base, people)
    again_rss = rss_mb(pid)
    await probe.ask("again")
    await probe.ask("again-trimmed", collect=True, trim=True)
    return {
        "cold_rss": cold_rss,
        "start_rss": start_rss,
        "runs": runs,
        "connected": connected_rss,
        "end": end_rss,
        "again": again_rss,
    }


def cache_stats(path: Path) -> dict[int, tuple[int, int]] | None:
    """Page-cache hits and misses per user id, from the file the server writes
    (BONDLINE_CACHE_STATS, services/memo.py), or None when it writes none."""
    if not path.exists():
        return None
    counts: dict[int, tuple[int, int]] = {}
    for view in json.loads(path.read_text())["views"]:
        if view["user_id"] is not None:
            hits, misses = counts.get(view["user_id"], (0, 0))
            counts[view["user_id"]] = (hits + view["hits"], misses + view["misses"])
    return counts


def user_ids(url: str, usernames: list[str]) -> list[int]:
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sql("SELECT id, username FROM users")).all()
    engine.dispose()
    return [int(user_id) for user_id, name in rows if name in usernames]


async def cache_phase(base: str, url: str, stats: Path) -> float | None:
    """CACHE_READERS counselors read their couples again and again (caseload, couple,
    timeline) while CACHE_WRITERS others log and save sessions for theirs: the share of
    the readers' page reads served from the page cache. Counted after each reader's
    first pass over the couples it reads (a first view is built, whoever saves)."""
    rng = random.Random(SEED)
    names = [counselor(i + 1) for i in range(CACHE_READERS + CACHE_WRITERS)]
    people = [Counselor(base, name, random.Random(rng.random())) for name in names]
    readers, writers = people[:CACHE_READERS], people[CACHE_READERS:]
    await asyncio.gather(*(p.sign_in() for p in people))
    run = Run(len(people))

    async def read(person: Counselor, rounds: int) -> None:
        for _ in range(rounds):
            for row in range(CACHE_ROWS):
                await person.read(run, row)
                await person.think()

    async def write(person: Counselor) -> None:
        for k in range(LOOPS):
            await person.loop(run, row=k)
            await person.think()

    await asyncio.gather(*(read(p, 1) for p in readers))
    await asyncio.sleep(STATS_SETTLE_S)
    before = cache_stats(stats)
    await asyncio.gather(*(read(p, CACHE_ROUNDS) for p in readers), *(write(p) for p in writers))
    await asyncio.sleep(STATS_SETTLE_S)
    after = cache_stats(stats)
    await disconnect_all(base, people)
    if before is None or after is None:
        return None
    hits = misses = 0
    for user in user_ids(url, names[:CACHE_READERS]):
        h0, m0 = before.get(user, (0, 0))
        h1, m1 = after.get(user, (0, 0))
        hits, misses = hits + h1 - h0, misses + m1 - m0
    print(f"  cache, readers: {hits} hits, {misses} misses", file=sys.stderr)
    return hits / (hits + misses) if hits + misses else None


async def saturate(
    front: str, routes: list[str], names: list[str], pids: list[int]
) -> tuple[float, list[float], float]:
    """Clicks per second the clinic serves with every counselor clicking as fast as it
    answers (no think time), each tab kept on its replica by the proxy's route cookie;
    with the cores the replicas (`pids`) and this driver used meanwhile."""
    rng = random.Random(SEED)
    people = [
        Counselor(front, name, random.Random(rng.random()), cookie=route, think=False)
        for name, route in zip(names, routes, strict=True)
    ]
    await asyncio.gather(*(p.sign_in() for p in people))
    warm = Run(len(people))
    await asyncio.gather(*(p.loop(warm, row=0) for p in people))  # every page built once

    async def work(person: Counselor, k: int) -> None:
        while True:
            await person.loop(Run(1), row=k % SATURATED_ROWS)
            k += 1

    tasks = [asyncio.create_task(work(p, k)) for k, p in enumerate(people)]
    before = sum(p.client.reruns for p in people)
    server_before, driver_before = [cpu_s(pid) for pid in pids], own_cpu_s()
    await asyncio.sleep(SATURATED_S)
    done = sum(p.client.reruns for p in people) - before
    server = [(cpu_s(pid) - b) / SATURATED_S for pid, b in zip(pids, server_before, strict=True)]
    driver = (own_cpu_s() - driver_before) / SATURATED_S
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for person in people:
        await person.client.close()
    return done / SATURATED_S, server, driver


def replica_throughput(tmp: Path) -> dict[int, float] | None:
    """Clicks per second saturated, behind the README's nginx, with 1 and then 2
    replicas on PostgreSQL (tests/e2e/cluster.py starts them with the demo clinic, in
    TEST_DATABASE_URL or, without it, on a private PostgreSQL server of its own)."""
    from dashboard.demo.people import DEMO_USERS
    from dashboard.domain.catalog import Role
    from tests.e2e.cluster import ROUTE_COOKIE, ClusterError, start_cluster
    from tests.e2e.pg_server import PostgresError

    names = [u.username for u in DEMO_USERS if u.role == Role.COUNSELOR]
    clicks: dict[int, float] = {}
    cores: dict[int, float] = {}
    for replicas in (1, 2):
        try:
            with start_cluster(tmp / f"cluster-{replicas}", replicas=replicas) as clinic:
                # An even split: the README's route cookie names its replica, so the
                # bench hands out one cookie per replica in turn (cluster.route_to).
                routes = [
                    f"{ROUTE_COOKIE}={clinic.route_to(i % replicas)}" for i in range(len(names))
                ]
                pids = [replica.proc.pid for replica in clinic.replicas]
                clicks[replicas], server, driver = asyncio.run(
                    saturate(clinic.url, routes, names, pids)
                )
        except (ClusterError, PostgresError) as exc:  # no nginx or PostgreSQL: said
            print(f"  replicas: not measured: {str(exc).splitlines()[0]}", file=sys.stderr)
            return None
        cores[replicas] = sum(server)
        print(
            f"  {replicas} replica(s): {clicks[replicas]:.2f} clicks/s; the replicas used "
            f"{' + '.join(f'{c:.2f}' for c in server)} cores, the driver {driver:.2f}; "
            f"load average "
            f"{os.getloadavg()[0]:.1f}",
            file=sys.stderr,
        )
        print(f"BENCH name=replicas_{replicas}_cores_used value={sum(server):.3f}")
    # What a replica does with the CPU it gets: on a busy machine two replicas may get no
    # more CPU than one did, and then cannot serve more.
    report_ratio("replicas_2_vs_1_per_core", clicks[2] / cores[2] / (clicks[1] / cores[1]))
    return clicks


def verdict(name: str, figure: float, target: float, *, at_least: bool = False) -> None:
    met = figure >= target if at_least else figure <= target
    sign = ">=" if at_least else "<="
    print(f"  {name}: {figure:.3f} (target {sign} {target:g}): {'met' if met else 'MISSED'}",
          file=sys.stderr)  # fmt: skip


def report_levels(result: dict[str, object]) -> None:
    runs: list[Run] = result["runs"]  # type: ignore[assignment]
    p50_1 = statistics.median(runs[0].pooled())
    p95_1 = percentile(runs[0].pooled(), 95)
    for run in runs:
        pooled = run.pooled()
        report(f"load_n{run.n}", pooled)
        print(f"BENCH name=load_p95_n{run.n}_ms value={percentile(pooled, 95):.2f}")
        if run.n > 1:
            report_ratio(f"load_p50_n{run.n}_vs_n1", statistics.median(pooled) / p50_1)
            report_ratio(f"load_p95_n{run.n}_vs_n1", percentile(pooled, 95) / p95_1)
        print(f"BENCH name=load_clicks_per_s_n{run.n} value={run.clicks / run.seconds:.3f}")
        report_ratio(f"load_driver_cpu_vs_server_n{run.n}", run.driver_cpu_s / run.server_cpu_s)
    start = float(result["start_rss"])  # type: ignore[arg-type]
    connected: dict[int, float] = result["connected"]  # type: ignore[assignment]
    most = max(connected)
    per_session = (connected[most] - start) / most
    after = float(result["end"]) / start  # type: ignore[arg-type]
    print(f"BENCH name=rss_cold_mb value={float(result['cold_rss']):.1f}")  # type: ignore[arg-type]
    print(f"BENCH name=rss_start_mb value={start:.1f}")
    print(f"BENCH name=rss_per_session_mb value={per_session:.2f}")
    report_ratio("rss_after_disconnect_vs_start", after)
    print(f"BENCH name=rss_after_disconnect_mb value={float(result['end']):.1f}")  # type: ignore[arg-type]
    # Against a server that has drawn no page yet: one-time imports and caches count too.
    report_ratio("rss_after_disconnect_vs_cold", float(result["end"]) / float(result["cold_rss"]))  # type: ignore[arg-type]
    report_ratio("rss_after_second_round_vs_first", float(result["again"]) / float(result["end"]))  # type: ignore[arg-type]
    n10 = next(r for r in runs if r.n == 10)
    verdict("load_p95_n10_vs_n1", percentile(n10.pooled(), 95) / p95_1, 3)
    verdict("rss_per_session_mb", per_session, 30)
    verdict("rss_after_disconnect_vs_start", after, 1.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rss-only",
        action="store_true",
        help="only the four levels and the RSS lines (no cache phase, no replicas)",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="ask the server what its memory holds at each reading (bench/rss_probe)",
    )
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="FRAMES",
        help="with --probe: the server traces allocations, a snapshot at each reading",
    )
    args = parser.parse_args()
    ensure_size(CLINIC_15K)
    with tempfile.TemporaryDirectory(prefix="bondline-bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        copy = tmp / "clinic.sqlite3"
        shutil.copy(db_path(CLINIC_15K.name), copy)  # the counselors save sessions
        url = f"sqlite:///{copy}"
        stats = tmp / "cache-stats.json"
        env = {
            "DATABASE_URL": url,
            "BONDLINE_COOKIE_KEY": secrets.token_urlsafe(48),
            "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S),
            "BONDLINE_CACHE_STATS": str(stats),
        }
        probe = Probe(None)
        if args.probe:
            folder = Path(os.environ.get("BONDLINE_RSS_PROBE_OUT") or tmp / "probe")
            folder.mkdir(parents=True, exist_ok=True)
            probe = Probe(folder)
            env["BONDLINE_RSS_PROBE"] = str(folder)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(PROBE_PATH), os.environ.get("PYTHONPATH", "")) if p
            )
            if args.tracemalloc:
                env["PYTHONTRACEMALLOC"] = str(args.tracemalloc)
        proc, base = _start_server("streamlit_app.py", tmp / "streamlit.log", env)
        hit_rate = None
        try:
            result = asyncio.run(scenario(base, proc.pid, probe))
            report_levels(result)
            if not args.rss_only:
                hit_rate = asyncio.run(cache_phase(base, url, stats))
        finally:
            _stop(proc)
        if args.rss_only:
            return
        if hit_rate is None:
            print("  cache_hit_rate_load: the server wrote no cache statistics", file=sys.stderr)
        else:
            print(f"BENCH name=cache_hit_rate_load value={hit_rate:.3f}")
            verdict("cache_hit_rate_load", hit_rate, 0.8, at_least=True)
        clicks = replica_throughput(tmp)
    if clicks is not None:
        print(f"BENCH name=replicas_1_clicks_per_s value={clicks[1]:.3f}")
        print(f"BENCH name=replicas_2_clicks_per_s value={clicks[2]:.3f}")
        report_ratio("replicas_2_vs_1", clicks[2] / clicks[1])
        verdict("replicas_2_vs_1", clicks[2] / clicks[1], 1.6, at_least=True)


if __name__ == "__main__":
    main()
