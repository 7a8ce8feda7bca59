"""Exports: tables (CSV, Excel), progress reports in a batch (zip), the research extract.

Every export is built by a service, in the user's scope, and audited with what and how
many records; the file is offered for download once built, never kept in the session.
"""

from __future__ import annotations

import streamlit as st

from dashboard.services import exports, reports, review
from dashboard.services.errors import AccessDenied, ServiceError
from dashboard.ui.db import db_session, settings
from dashboard.ui.exports import chart_renderer, zip_reports
from dashboard.ui.widgets import current_actor

TABLE_LABELS = {
    "caseload": "Caseload (one row per couple)",
    "sessions": "Sessions (one row per session)",
    "ratings": "Indicator ratings (one row per item rated)",
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel"}

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


def offer(file: exports.ExportFile, label: str, key: str) -> None:
    """A built file, ready to download (no rerun on click, so it stays on the page)."""
    st.download_button(
        label,
        data=file.data,
        file_name=file.filename,
        mime=file.mime,
        on_click="ignore",
        type="primary",
        icon=":material/download:",
        key=key,
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
    b1, b2, _ = st.columns([1, 2, 2])
    one = b1.button("Prepare the table", icon=":material/table:", key="build_table")
    every = b2.button(
        "All three in one Excel workbook", icon=":material/table_view:", key="build_workbook"
    )
    if one or every:
        try:
            with db_session() as db:
                file = (
                    exports.all_tables_xlsx(db, actor)
                    if every
                    else exports.table_export(db, actor, table, fmt)
                )
        except ServiceError as exc:
            st.error(str(exc))
        else:
            st.success(f"{file.filename}: {file.records} rows.")
            offer(file, f"Download {file.filename}", "download_table")

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
    ):
        bar = st.progress(0.0, text="Starting the chart export…")
        renderer = chart_renderer()
        if not renderer.available:
            st.warning(renderer.reason)

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"{done} of {total} reports")

        try:
            with db_session() as db:
                file = zip_reports(
                    reports.batch_reports(
                        db,
                        actor,
                        [couple_id for couple_id, _ in couples],
                        include_notes=include_notes,
                        renderer=renderer,
                        clinic_name=settings().clinic_name,
                        progress=progress,
                    )
                )
        except ServiceError as exc:
            st.error(str(exc))
        else:
            bar.progress(1.0, text=f"{file.records} reports ready")
            offer(file, f"Download {file.filename}", "download_reports")

if "Research extract" in tabs:
    with tabs["Research extract"]:
        st.markdown(
            "A de-identified extract for research: no names, no case codes, no free text; "
            "each couple gets a random key for this export only, and all of a couple's dates "
            "move by the same random number of days, so intervals are kept. A data "
            "dictionary and a README come with it."
        )
        if st.button("Build the research extract", icon=":material/science:", key="build_rx"):
            try:
                with db_session() as db:
                    file = exports.research_extract(db, actor)
            except ServiceError as exc:
                st.error(str(exc))
            else:
                st.success(f"{file.filename}: {file.records} sessions.")
                offer(file, f"Download {file.filename}", "download_research")
