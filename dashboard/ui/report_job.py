"""'Prepare the PDF' as a background job, so the page stays usable while it builds.

A report takes a second or more (charts drawn by Chromium, then the PDF laid out), and
on a busy server much longer. The button starts a job (dashboard/ui/jobs.py: a thread
with its own database session, readable only by the user who started it) and returns at
once; a fragment polls the job once a second and offers the download when it is done.
"""

from __future__ import annotations

import streamlit as st

from dashboard.services import reports
from dashboard.services.actor import Actor
from dashboard.ui import jobs
from dashboard.ui.db import settings
from dashboard.ui.exports import chart_renderer

FULL_REPORT = "Full report"
ONE_PAGE = "One-page summary (status, timeline, questionnaires)"
find = jobs.find


def start(
    actor: Actor,
    couple_id: int,
    *,
    include_notes: bool,
    summary_only: bool = False,
    replaces: str | None = None,
) -> str:
    """Start building the couple's report in the background; returns the job's id
    (`replaces`: this tab's earlier report job of the couple, forgotten once finished)."""
    clinic_name = settings().clinic_name
    return jobs.start(
        actor,
        f"report-{couple_id}",
        lambda db, _job: reports.couple_report(
            db,
            actor,
            couple_id,
            include_notes=include_notes,
            renderer=chart_renderer(),  # in the job: a first start of Chromium waits there
            clinic_name=clinic_name,
            summary_only=summary_only,
        ),
        failure="The report could not be built.",
        replaces=replaces,
    )


def report_panel(actor: Actor, couple_id: int, *, can_edit: bool) -> None:
    """The timeline's 'Progress report (PDF)' box: a button, then progress, then the file."""
    key = f"report_job:{couple_id}"
    jobs.polled(actor, key, lambda job: _panel(job, actor, couple_id, key, can_edit))


def _panel(job: jobs.Job | None, actor: Actor, couple_id: int, key: str, can_edit: bool) -> None:
    if job is not None and job.running:
        st.info(
            f"Building the report… {job.waited():.0f} s. You can go on reading the timeline; "
            "the download appears here when it is ready.",
            icon=":material/hourglass_top:",
        )
        return
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
            actor,
            couple_id,
            include_notes=include_notes,
            summary_only=summary_only,
            replaces=st.session_state.get(key),
        )
        st.rerun()
    if job is None:
        return
    if job.error:
        st.error(job.error)
    elif job.file is not None:
        st.download_button(
            f"Download {job.file.filename}",
            data=job.file.data,
            file_name=job.file.filename,
            mime="application/pdf",
            on_click="ignore",
            type="primary",
            icon=":material/download:",
            key="download_report",
        )
