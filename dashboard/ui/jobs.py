"""Long work for one user as a background job: the page stays usable, says how far the
job got ("Preparing… 3,000 of 15,000 rows"), and offers the file when it is ready, also
after the user went to another page and came back.

A job runs in a thread with its own database session; the services it calls read one
snapshot in a plain read transaction and build the file outside any transaction. Session
state keeps only the job's id (a random token, under a key no widget owns, so it
survives pages that do not draw it); the job itself lives in this module's registry,
readable only by the user who started it, and is forgotten JOB_TTL_SECONDS after it
finished. A fragment polls it once a second while it runs, and reruns the page once when
it has finished, which stops the polling and gives the buttons back.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session as DbSession

from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError
from dashboard.ui.db import session_factory

log = logging.getLogger(__name__)
JOB_TTL_SECONDS = 600
POLL_SECONDS = 1.0


@dataclass
class Job:
    owner_id: int
    name: str  # the thread's name, for the log
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    done_count: int = 0  # rows written, reports built...
    total: int = 0  # ...of so many; 0 while still reading
    file: Any = None  # an ExportFile or a ReportFile once built
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        """Told by the service as it goes (its `progress` argument)."""
        self.done_count, self.total = done, total

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def waited(self) -> float:
        return (self.finished or time.monotonic()) - self.started


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def _forget_old(now: float) -> None:
    with _LOCK:
        for job_id in [
            k
            for k, j in _JOBS.items()
            if j.finished is not None and now - j.finished > JOB_TTL_SECONDS
        ]:
            del _JOBS[job_id]


def start(
    actor: Actor,
    name: str,
    work: Callable[[DbSession, Job], Any],
    *,
    failure: str,
    replaces: str | None = None,
) -> str:
    """Run `work(db, job)` in the background for `actor`; returns the job's id.

    `replaces` is the id of this user's earlier job of the same kind: once finished, its
    file is forgotten now rather than held in memory until it expires.
    A refusal (ServiceError, already audited by the service) becomes the job's one-line
    error; anything else is logged with an incident id and `failure` is shown with it."""
    _forget_old(time.monotonic())
    earlier = find(actor, replaces)
    if earlier is not None and not earlier.running:
        with _LOCK:
            _JOBS.pop(str(replaces), None)
    job = Job(owner_id=actor.user_id, name=name)
    job_id = secrets.token_urlsafe(16)
    factory = session_factory()

    def run() -> None:
        try:
            with factory() as db:
                job.file = work(db, job)
        except ServiceError as exc:
            job.error = str(exc)
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("%s failed (incident %s)", name, incident)
            job.error = f"{failure} Incident {incident} is logged."
        finally:
            job.finished = time.monotonic()
            job.done.set()

    with _LOCK:
        _JOBS[job_id] = job
    threading.Thread(target=run, name=name, daemon=True).start()
    return job_id


def find(actor: Actor, job_id: str | None) -> Job | None:
    """The job, if it exists and this user started it."""
    if not job_id:
        return None
    _forget_old(time.monotonic())  # an expired file leaves memory even if no job starts
    with _LOCK:
        job = _JOBS.get(job_id)
    return job if job is not None and job.owner_id == actor.user_id else None


def running(actor: Actor, key: str) -> bool:
    """Whether the job whose id is kept under `key` is still at work."""
    job = find(actor, st.session_state.get(key))
    return job is not None and job.running


def progress_text(job: Job, unit: str) -> str:
    """'Preparing… 3,000 of 15,000 rows', or what it is doing before it knows the total."""
    if job.total:
        return f"Preparing… {job.done_count:,} of {job.total:,} {unit}"
    return f"Preparing… reading the records ({job.waited():.0f} s)"


def polled(actor: Actor, key: str, draw: Callable[[Job | None], None]) -> None:
    """`draw(job)` in a fragment that reruns every POLL_SECONDS while the job kept under
    `key` runs; once it has finished, the whole page runs once more (to stop polling)."""
    st.fragment(_poll, run_every=POLL_SECONDS if running(actor, key) else None)(actor, key, draw)


def _poll(actor: Actor, key: str, draw: Callable[[Job | None], None]) -> None:
    job_id = st.session_state.get(key)
    job = find(actor, job_id)
    finished_since_last_run = st.session_state.get(f"{key}:shown") != job_id
    if job is not None and not job.running and finished_since_last_run:
        st.session_state[f"{key}:shown"] = job_id
        st.rerun()
    draw(job)
