"""Export helpers shared by pages: the server's chart browser, the reports zip, and the
status of an export building in the background (progress, then the download)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session as DbSession

from dashboard.reports.chart_images import ChartRenderer
from dashboard.services import reports
from dashboard.services.actor import Actor
from dashboard.services.exports import ExportFile
from dashboard.services.reports import ReportFile
from dashboard.ui import jobs
from dashboard.ui.db import settings

EXPORT_FAILED = "The export could not be built."


@st.cache_resource(show_spinner="Starting the chart export…")
def chart_renderer() -> ChartRenderer:
    """One Chromium for chart images, started on first use and shared by every session.

    Starting it costs a couple of seconds; each chart after that about a tenth. When no
    browser is installed the renderer says so (`available`, `reason`) and reports are
    built without charts.
    """
    return ChartRenderer.start()


def zip_reports(files: Iterable[ReportFile]) -> ExportFile:
    """The reports of a batch in one zip, written as they arrive."""
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr(file.filename, file.data)
            count += 1
    return ExportFile(
        filename=f"bondline-progress-reports-{date.today().isoformat()}.zip",
        data=buffer.getvalue(),
        mime="application/zip",
        records=count,
    )


def batch_zip(
    actor: Actor, couple_ids: list[int], *, include_notes: bool
) -> Callable[[DbSession, jobs.Job], ExportFile]:
    """The work of a batch of progress reports in one zip, counting reports as they come."""
    clinic_name = settings().clinic_name

    def build(db: DbSession, job: jobs.Job) -> ExportFile:
        job.progress(0, len(couple_ids))
        return zip_reports(
            reports.batch_reports(
                db,
                actor,
                couple_ids,
                include_notes=include_notes,
                renderer=chart_renderer(),  # in the job: a first start of Chromium waits there
                clinic_name=clinic_name,
                progress=job.progress,
            )
        )

    return build


def start_export(actor: Actor, key: str, work: Callable[[DbSession, jobs.Job], Any]) -> None:
    """Start `work(db, job)` in the background for this user, kept under `key`, and draw
    the page again at once (its buttons wait while the export runs)."""
    st.session_state[key] = jobs.start(
        actor, key, work, failure=EXPORT_FAILED, replaces=st.session_state.get(key)
    )
    st.rerun()


def export_status(actor: Actor, key: str, *, unit: str, counted: str) -> None:
    """Where the export kept under `key` stands: 'Preparing… 3,000 of 15,000 rows' while
    it runs (also after a visit to another page), then the file to download and how many
    `counted` (singular: "row") it holds."""
    jobs.polled(actor, key, lambda job: _status(job, key, unit, counted))


def _status(job: jobs.Job | None, key: str, unit: str, counted: str) -> None:
    if job is None:
        return
    if job.running:
        fraction = job.done_count / job.total if job.total else 0.0
        st.progress(min(fraction, 1.0), text=jobs.progress_text(job, unit))
        st.caption(
            "You can go on working on other pages meanwhile: the download waits here "
            f"for {jobs.JOB_TTL_SECONDS // 60} minutes once it is ready."
        )
        return
    if job.error:
        st.error(job.error)
        return
    file: ExportFile = job.file
    noun = counted if file.records == 1 else f"{counted}s"
    st.success(f"{file.filename}: {file.records:,} {noun}. Ready in {job.waited():.1f} s.")
    if file.note:
        st.caption(file.note)
    st.download_button(
        f"Download {file.filename}",
        data=file.data,
        file_name=file.filename,
        mime=file.mime,
        on_click="ignore",  # no rerun on click, so it stays on the page
        type="primary",
        icon=":material/download:",
        key=f"download:{key}",
    )
