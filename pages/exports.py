"""Exports: placeholder until the progress reports and clinic exports land."""

from __future__ import annotations

import streamlit as st

from dashboard.ui.widgets import current_actor

actor = current_actor()
st.title("Exports")
st.info(
    "Progress reports (PDF), caseload and session tables (CSV, Excel) and the "
    "de-identified research extract arrive with the exports release.",
    icon=":material/schedule:",
)
