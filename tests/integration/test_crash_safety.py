"""Power cut in the middle of a save: SIGKILL a process writing sessions, 50 times.

Afterwards the SQLite file passes integrity_check, every save that was acknowledged
is there with what it said, no session is half written (each has its 16 ratings and
its barrier tag, all saved in one transaction), and the audit chain holds. SQLite runs
with synchronous=FULL (db/engine.py). The kill moments come from a seeded generator:
the seed is printed, and BONDLINE_CRASH_SEED replays a failure.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dashboard.services import audit
from tests.conftest import Clinic

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50
pytestmark = pytest.mark.crash


def _writer(url: str, clinic: Clinic, barrier_id: int) -> subprocess.Popen[str]:
    args = [str(clinic.couple_id), str(clinic.counselor.user_id), str(barrier_id)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.crash_writer", url, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )


def test_fifty_kills_mid_save_lose_no_acknowledged_save_and_leave_no_half_session(
    db_url: str, db: Session, clinic: Clinic, barrier_ids: dict[str, int]
) -> None:
    seed = int(os.environ.get("BONDLINE_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash seed {seed} (BONDLINE_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    acknowledged: dict[int, str] = {}
    for _ in range(KILLS):
        child = _writer(db_url, clinic, barrier_ids["stress_distraction"])
        assert child.stdout is not None
        for _ in range(rng.randrange(1, 4)):  # let a few saves through, then kill mid-way
            line = child.stdout.readline()
            assert line.startswith("ACK "), (line, child.poll())
            _, session_id, marker = line.rstrip("\n").split(" ", 2)
            acknowledged[int(session_id)] = marker
        time.sleep(rng.uniform(0, 0.03))  # somewhere inside the next save
        child.send_signal(signal.SIGKILL)
        child.wait()
        for line in child.stdout:  # acknowledged before the kill, read after it
            _, session_id, marker = line.rstrip("\n").split(" ", 2)
            acknowledged[int(session_id)] = marker
        child.stdout.close()

    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(raw.execute("SELECT id, note_data FROM sessions"))
        ratings = dict(
            raw.execute("SELECT session_id, count(*) FROM indicator_ratings GROUP BY session_id")
        )
        tags = dict(
            raw.execute("SELECT session_id, count(*) FROM session_barriers GROUP BY session_id")
        )
    for session_id, marker in acknowledged.items():
        assert stored.get(session_id) == marker, f"acknowledged save {session_id} lost"
    half = [s for s in stored if ratings.get(s) != 16 or tags.get(s) != 1]
    assert not half, f"sessions half written: {half}"
    assert len(stored) >= len(acknowledged) >= KILLS
    report = audit.verify_chain(db)
    assert report.intact, report.describe()
    print(f"{KILLS} kills, {len(acknowledged)} acknowledged saves, {len(stored)} sessions")
