"""Couple: the record of one couple: sessions newest first, intake, status, history."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.safety import day, safety_line
from dashboard.services import couples, supervision
from dashboard.services.errors import AccessDenied
from dashboard.ui import caseload_table, check_in_panel, couple_forms, couple_view
from dashboard.ui.db import db_session
from dashboard.ui.widgets import (
    COUPLE_PAGE,
    TIMELINE_PAGE,
    chosen_couple_id,
    current_actor,
    fmt_date,
    md_text,
    plural,
    refuse,
    remember_couple,
    visit,
)

actor = current_actor()
couple_id = chosen_couple_id("Couple", COUPLE_PAGE)
opening = visit(f"couple:{couple_id}")
try:
    with db_session() as db:
        detail = couples.get_couple(
            db,
            actor,
            couple_id,
            record_view=opening.record_view,
            audit_refusal=opening.audit_refusal,
        )
        reviews = supervision.reviews_for_couple(db, actor, couple_id)
except AccessDenied as exc:
    refuse("Couple", str(exc), opening)
remember_couple(detail.couple_id)
if opening.record_view:
    st.session_state.pop(check_in_panel.SEEN, None)

st.title(f"{detail.case_code} · {md_text(detail.partners)}")
badge = {"active": "green", "paused": "orange", "closed": "gray"}[detail.status]
st.markdown(
    f":{badge}-badge[{detail.status_label}] &nbsp; Counselor: **{md_text(detail.counselor)}** · "
    f"Intake {fmt_date(detail.intake_date)} · {plural(len(detail.sessions), 'session')} logged"
)
# Safety over the whole course, whatever came after: dates only (no typed text here).
flagged = sorted(s.session_date for s in detail.sessions if s.safety_flag)
if flagged:
    st.markdown(f":red-badge[:material/warning: Safety] {safety_line([day(d) for d in flagged])}")
caseload_table.focus_heading_once()
if not detail.can_edit:
    st.info(
        "Read-only: only the assigned counselor changes this record.", icon=":material/visibility:"
    )
st.page_link(
    TIMELINE_PAGE,
    label="Open the timeline",
    icon=":material/timeline:",
    query_params={"couple": str(detail.couple_id)},
)


couple_view.supervision_reviews(reviews)
# Only the tab in view is drawn (each form costs milliseconds on every run); what was
# typed in a form whose tab was left waits in its draft.
SECTIONS = {
    "Sessions": (couple_view.session_table, None),
    "Intake details": (couple_forms.intake_form, couple_forms.INTAKE),
    "Status": (couple_forms.status_form, couple_forms.STATUS),
    "Check-ins": (check_in_panel.panel, None),
    "History": (couple_forms.history, None),
}
tabs = st.tabs(list(SECTIONS), key="couple_tab", on_change="rerun")
opened = next((s for s, tab in zip(SECTIONS, tabs, strict=True) if tab.open), "Sessions")
couple_forms.keep_drafts(detail, drawn=SECTIONS[opened][1] or "")
for tab, (draw, _form) in zip(tabs, SECTIONS.values(), strict=True):
    with tab:
        if tab.open:
            draw(detail)
