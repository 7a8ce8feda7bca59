"""'Prepare the PDF' as a background job, so the page stays usable while it builds.

A report takes a second or more (charts drawn by Chromium, then the PDF laid out), and
on a busy server much longer. The button starts a thread with its own database session
and returns at once; a fragment polls the job once a second and offers the download when
it is done. Session state keeps only the job's id (a random token); the job itself lives
in this module's registry, readable only by the user who started it, and is forgotten
JOB_TTL_SECONDS after it finished.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from dashboard.services import reports
from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError
from dashboard.services.reports import ReportFile
from dashboard.ui.db import session_factory, settings
from dashboard.ui.exports import chart_renderer

log = logging.getLogger(__name__)
JOB_TTL_SECONDS = 600
POLL_SECONDS = 1.0

FULL_REPORT = "Full report"
ONE_PAGE = "One-page summary (status, timeline, questionnaires)"


@dataclass
class ReportJob:
    owner_id: int
    couple_id: int
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    report: ReportFile | None = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


_JOBS: dict[str, ReportJob] = {}
_LOCK = threading.Lock()


def _forget_old(now: float) -> None:
    with _LOCK:
        for job_id in [
            k
            for k, j in _JOBS.items()
            if j.finished is not None and now - j.finished > JOB_TTL_SECONDS
        ]:
            del _JOBS[job_id]


def start(actor: Actor, couple_id: int, *, include_notes: bool, summary_only: bool = False) -> str:
    """Start building the couple's report in the background; returns the job's id."""
    _forget_old(time.monotonic())
    job = ReportJob(owner_id=actor.user_id, couple_id=couple_id)
    job_id = secrets.token_urlsafe(16)
    factory, clinic_name = session_factory(), settings().clinic_name

    def build() -> None:
        try:
            with factory() as db:
                job.report = reports.couple_report(
                    db,
                    actor,
                    couple_id,
                    include_notes=include_notes,
                    renderer=chart_renderer(),
                    clinic_name=clinic_name,
                    summary_only=summary_only,
                )
        except ServiceError as exc:  # refused (and audited) by the service
            job.error = str(exc)
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("progress report failed (incident %s)", incident)
            job.error = f"The report could not be built. Incident {incident} is logged."
        finally:
            job.finished = time.monotonic()
            job.done.set()

    thread = threading.Thread(target=build, name=f"report-{couple_id}", daemon=True)
    with _LOCK:
        _JOBS[job_id] = job
    thread.start()
    return job_id


def find(actor: Actor, job_id: str | None) -> ReportJob | None:
    """The job, if it exists and this user started it."""
    if not job_id:
        return None
    with _LOCK:
        job = _JOBS.get(job_id)
    return job if job is not None and job.owner_id == actor.user_id else None


def report_panel(actor: Actor, couple_id: int, *, can_edit: bool) -> None:
    """The timeline's 'Progress report (PDF)' box: a button, then progress, then the file."""
    key = f"report_job:{couple_id}"
    job = find(actor, st.session_state.get(key))
    running = job is not None and not job.done.is_set()
    st.fragment(_panel, run_every=POLL_SECONDS if running else None)(
        actor, couple_id, key, can_edit
    )


def _panel(actor: Actor, couple_id: int, key: str, can_edit: bool) -> None:
    job = find(actor, st.session_state.get(key))
    if job is not None and not job.done.is_set():
        waited = time.monotonic() - job.started
        st.info(
            f"Building the report… {waited:.0f} s. You can go on reading the timeline; "
            "the download appears here when it is ready.",
            icon=":material/hourglass_top:",
        )
        return
    if job is not None and st.session_state.get(f"{key}:shown") != st.session_state.get(key):
        # It finished since the last full run: once more, to stop polling.
        st.session_state[f"{key}:shown"] = st.session_state.get(key)
        st.rerun()
    kind = st.radio(
        "Report",
        [FULL_REPORT, ONE_PAGE],
        horizontal=True,
        key=f"report_kind_{couple_id}",
        label_visibility="collapsed",
    )
    summary_only = kind == ONE_PAGE
    include_notes = (
        can_edit
        and not summary_only
        and st.checkbox("Include session notes (DAP)", key=f"report_notes_{couple_id}")
    )
    if st.button("Prepare the PDF", icon=":material/picture_as_pdf:", key="build_report"):
        st.session_state[key] = start(
            actor, couple_id, include_notes=include_notes, summary_only=summary_only
        )
        st.rerun()
    if job is None:
        return
    if job.error:
        st.error(job.error)
    elif job.report is not None:
        st.download_button(
            f"Download {job.report.filename}",
            data=job.report.data,
            file_name=job.report.filename,
            mime="application/pdf",
            on_click="ignore",
            type="primary",
            icon=":material/download:",
            key="download_report",
        )
