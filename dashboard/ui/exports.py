"""Export helpers shared by pages: the server's chart browser and the reports zip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date

import streamlit as st

from dashboard.reports.chart_images import ChartRenderer
from dashboard.services.exports import ExportFile
from dashboard.services.reports import ReportFile


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
