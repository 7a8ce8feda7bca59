"""Exports: tables (CSV, Excel), progress reports in a batch (zip), the research extract.

Every export is built by a service, in the user's scope, and audited with what and how
many records. Each runs in the background (dashboard/ui/jobs.py): the page says how far
it got and offers the file when it is ready, also after a visit to another page; the
file lives in the job, never in the session.
"""

from __future__ import annotations

import streamlit as st

from dashboard.services import exports, reports, review
from dashboard.services.errors import AccessDenied
from dashboard.ui import jobs
from dashboard.ui.db import db_session
from dashboard.ui.exports import batch_zip, chart_renderer, export_status, start_export
from dashboard.ui.widgets import current_actor

TABLE_LABELS = {
    "caseload": "Caseload (one row per couple)",
    "sessions": "Sessions (one row per session)",
    "ratings": "Indicator ratings (one row per item rated)",
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel"}
TABLES_JOB, REPORTS_JOB, RESEARCH_JOB = "export_job:tables", "export_job:reports", "export_job:rx"

actor = current_actor()
st.title("Exports")
st.caption(
    "Everything here follows your access: "
    + (
        "your own couples."
        if actor.is_counselor
        else "the couples of the counselors you supervise."
        if actor.is_supervisor
        else "every couple in the clinic."
    )
    + " Each export is recorded in the audit log with what was exported and how many records."
)


sections = ["Tables", "Progress reports"] + (["Research extract"] if actor.is_admin else [])
tabs = dict(zip(sections, st.tabs(sections), strict=True))

with tabs["Tables"]:
    st.caption(
        "For your own analysis: no session notes. Cells that a spreadsheet would run as a "
        "formula are written with a leading apostrophe."
    )
    c1, c2 = st.columns([3, 1])
    table = c1.selectbox(
        "Table", list(exports.TABLES), format_func=TABLE_LABELS.get, key="export_table"
    )
    fmt = c2.radio(
        "Format", list(exports.FORMATS), format_func=FORMAT_LABELS.get, key="export_format"
    )
    busy = jobs.running(actor, TABLES_JOB)
    buttons = st.container(horizontal=True)  # side by side, wrapping on a narrow window
    if buttons.button(
        "Prepare the table", icon=":material/table:", key="build_table", disabled=busy
    ):
        start_export(
            actor,
            TABLES_JOB,
            lambda db, job: exports.table_export(db, actor, table, fmt, progress=job.progress),
        )
    if buttons.button(
        "All three in one Excel workbook",
        icon=":material/table_view:",
        key="build_workbook",
        disabled=busy,
    ):
        start_export(
            actor,
            TABLES_JOB,
            lambda db, job: exports.all_tables_xlsx(db, actor, progress=job.progress),
        )
    export_status(actor, TABLES_JOB, unit="rows", counted="row")

with tabs["Progress reports"]:
    st.caption(
        "One PDF per couple, in a zip: status in words, the timeline, radar and barrier "
        "charts, stage history, barriers, habits and a session table. Session notes are "
        "left out unless a counselor includes their own couples' notes."
    )
    counselor_id: int | None = None
    if not actor.is_counselor:
        try:
            with db_session() as db:
                counselors = review.review_choices(db, actor).counselors
        except AccessDenied as exc:
            st.error(str(exc))
            counselors = []
        names = dict(counselors)
        counselor_id = st.selectbox(
            "Counselor",
            [None, *names],
            format_func=lambda i: "Every counselor" if i is None else names[i],
            key="export_counselor",
        )
    include_notes = actor.is_counselor and st.checkbox(
        "Include session notes (DAP notes; private notes stay out)", key="export_notes"
    )
    with db_session() as db:
        couples = reports.report_couples(db, actor, counselor_id)
    if not couples:
        st.info("No couples to report on in this selection.")
    elif st.button(
        f"Build {len(couples)} progress report{'s' if len(couples) != 1 else ''}",
        icon=":material/picture_as_pdf:",
        key="build_reports",
        disabled=jobs.running(actor, REPORTS_JOB),
    ):
        ids = [couple_id for couple_id, _ in couples]
        start_export(actor, REPORTS_JOB, batch_zip(actor, ids, include_notes=include_notes))
    export_status(actor, REPORTS_JOB, unit="reports", counted="report")
    # Asked once the batch has finished (the job started the renderer by then): asked
    # while it runs, the page would wait on the chart browser's first start itself.
    batch = jobs.find(actor, st.session_state.get(REPORTS_JOB))
    if batch is not None and not batch.running and not chart_renderer().available:
        st.warning(chart_renderer().reason)

if "Research extract" in tabs:
    with tabs["Research extract"]:
        k = exports.research_k()
        st.markdown(
            "A de-identified extract for research: no names, no case codes, no free text "
            "and no dates. Each couple gets a random key for this export only; its "
            "scores come at a few measurement points, in bands of weeks since its intake. "
            f"Every couple shares what the extract shows about it (scores aside) with at "
            f"least {k - 1} others (k = {k}, set under [research] k): "
            "course length, sessions and status are given in bands, or withheld, and a "
            "couple that would still stand out is left out. A data dictionary and a "
            "README (what was generalised, how many were left out) come with it."
        )
        if st.button(
            "Build the research extract",
            icon=":material/science:",
            key="build_rx",
            disabled=jobs.running(actor, RESEARCH_JOB),
        ):
            start_export(
                actor,
                RESEARCH_JOB,
                lambda db, job: exports.research_extract(db, actor, progress=job.progress),
            )
        export_status(actor, RESEARCH_JOB, unit="steps", counted="couple")
