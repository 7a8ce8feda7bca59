"""Couple timeline: how emotional intimacy is changing, both partners side by side."""

from __future__ import annotations

import streamlit as st

from dashboard import charts
from dashboard.domain import workings
from dashboard.domain.expected_response import Alert
from dashboard.domain.plain_words import expected_lines, expected_workings, status_lines
from dashboard.domain.safety import flag_line
from dashboard.services import timeline
from dashboard.services.errors import AccessDenied
from dashboard.ui import report_job
from dashboard.ui.db import db_session
from dashboard.ui.figures import sent_once
from dashboard.ui.instrument_results import instrument_results
from dashboard.ui.widgets import (
    COUPLE_PAGE,
    SESSION_PAGE,
    TIMELINE_PAGE,
    chosen_couple_id,
    current_actor,
    md_text,
    refuse,
    remember_couple,
    visit,
)

actor = current_actor()
couple_id = chosen_couple_id("Timeline", TIMELINE_PAGE)
opening = visit(f"timeline:{couple_id}")
try:
    with db_session() as db:
        view = timeline.timeline_view(
            db,
            actor,
            couple_id,
            record_view=opening.record_view,
            audit_refusal=opening.audit_refusal,
        )
except AccessDenied as exc:
    refuse("Timeline", str(exc), opening)
remember_couple(view.couple_id)
data = view.data
trajectory = view.trajectory

# Partners' names were typed by a person: md_text, so no emoji, icon or colour forms.
st.title(f"{data.case_code} · {md_text(data.partner_a)} & {md_text(data.partner_b)}")
st.page_link(
    COUPLE_PAGE,
    label="Couple record and sessions",
    icon=":material/arrow_back:",
    query_params={"couple": str(view.couple_id)},
)
if view.case_status != "Active":  # a closed or paused couple must not look open
    st.caption(view.case_status)
if not view.can_edit:
    st.info("Read-only: you are reviewing this couple.", icon=":material/visibility:")

# The couple's status in words, before any chart: a safety flag anywhere in the course
# first, with its dates (dates only: the notes stay in the sessions).
flags = []
if view.safety:
    flags.append(":red-badge[:material/warning: Safety]")
if trajectory.not_on_track:
    flags.append(":red-badge[Not on track]")
if trajectory.diverging:
    flags.append(":orange-badge[Partners diverging]")
if view.alliance.flagged:
    flags.append(":orange-badge[Split alliance]")
# The expected course's warning (under the 25th percentile) is a badge, not a flag: well
# below it is already "Not on track".
if trajectory.expected is not None and trajectory.expected.alert == Alert.BELOW:
    flags.append(":orange-badge[Below expected course]")
if flags:
    st.markdown(" ".join(flags))
if view.safety:
    st.markdown(f"**{flag_line(view.safety)}**")
# The same sentences as the PDF report, in the counselor's words; the statistics behind
# them one click away. They carry the names as typed, so every mark is escaped (md_text).
st.markdown("  \n".join(md_text(line) for line in status_lines(data, trajectory, view.alliance)))
# Each partner against the course expected for partners who started where they did.
expected = expected_lines(data, trajectory, view.expected_model)
if expected:
    st.markdown("  \n".join(md_text(line) for line in expected))
# The statistics, by name: the page's words are plain; RCI, S_diff, SD, r and n are here.
name_a, name_b = charts.partner_labels(data)
with st.expander("How this was worked out", icon=":material/calculate:"):
    st.markdown(md_text(workings.named(trajectory.summary(), name_a, name_b) + "."))
    st.markdown(md_text(workings.method_line(view.norms.eii)))
    st.caption(md_text(workings.GLOSSARY))
    st.caption(md_text(workings.norms_line(view.norms.eii)))
    for line in expected_workings(data, trajectory, view.expected_model):
        st.caption(md_text(line))

if not view.has_sessions:
    st.info(
        "No sessions yet. Log the first session: the stage, barriers and both partners' "
        "ratings start this timeline, and the first ratings become the baseline."
    )
    if view.can_edit:
        st.page_link(
            SESSION_PAGE,
            label="Log the first session",
            icon=":material/add:",
            query_params={"couple": str(view.couple_id)},
        )
    st.stop()
jointly_rated = int(data.sessions["eii_couple"].notna().sum())
if jointly_rated == 0:
    st.info(
        "No session yet where both partners were rated: the couple's baseline starts at "
        "the first one."
    )
elif jointly_rated == 1:
    st.info(
        "One jointly rated session so far: it is the baseline. Change is judged from the "
        "next session on."
    )

SECTIONS = {
    "timeline": "Emotional Intimacy Index",
    "instruments": "Instrument totals",
    "radar": "Items: intake and latest",
    "barriers": "Barriers by session",
    "adherence": "Habit adherence",
}
# Only the tab in view is drawn: each chart costs tens of milliseconds to build.
tabs = st.tabs(list(SECTIONS.values()), key="timeline_tab", on_change="rerun")
for tab, key in zip(tabs, SECTIONS, strict=True):
    with tab:
        if not tab.open:
            continue
        if key == "instruments":
            instrument_results(view, name_a, name_b)
        if key not in view.charts:  # built once per data version (the view is cached)
            figure, table = charts.timeline_chart(data, key)
            view.charts[key] = (sent_once(figure), table)
        figure, table = view.charts[key]
        st.plotly_chart(figure, key=f"chart_{key}")
        # Drawn once opened: a table costs milliseconds on every run.
        box = st.expander(
            "Table view", icon=":material/table:", key=f"table_{key}", on_change="rerun"
        )
        if box.open:
            box.dataframe(table, hide_index=True, width="stretch")

# Drawn once opened (the report's panel asks the server about its job on every run).
report_box = st.expander(
    "Progress report (PDF)", icon=":material/picture_as_pdf:", key="report_box", on_change="rerun"
)
if report_box.open:
    report_box.caption(
        "The status in words, these charts, questionnaire results, stage history, "
        "barriers, habits and a session table, ready to send; or one page with the "
        "status, the timeline and the questionnaires. Private notes are never included."
    )
    with report_box:
        report_job.report_panel(actor, view.couple_id, can_edit=view.can_edit)
