"""Couple: intake details, status, and the couple's sessions newest first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import CoupleStatus
from dashboard.services import couples, sessions, supervision
from dashboard.services.couples import CoupleDetail
from dashboard.services.errors import AccessDenied, ServiceError
from dashboard.services.supervision import ReviewNote
from dashboard.ui import couple_forms
from dashboard.ui.auth import verified_actor
from dashboard.ui.db import db_session
from dashboard.ui.widgets import (
    SESSION_PAGE,
    TIMELINE_PAGE,
    chosen_couple_id,
    current_actor,
    first_view,
    flash,
    fmt_date,
    md_escape,
    md_text,
    plural,
    refuse,
    remember_couple,
    table_height,
)

actor = current_actor()
couple_id = chosen_couple_id("Couple")
try:
    with db_session() as db:
        detail = couples.get_couple(
            db, actor, couple_id, record_view=first_view(f"couple:{couple_id}")
        )
        reviews = supervision.reviews_for_couple(db, actor, couple_id)
except AccessDenied as exc:
    refuse("Couple", str(exc))
remember_couple(detail.couple_id)

st.title(f"{detail.case_code} · {md_escape(detail.partners)}")
badge = {"active": "green", "paused": "orange", "closed": "gray"}[detail.status]
st.markdown(
    f":{badge}-badge[{detail.status_label}] &nbsp; Counselor: **{md_escape(detail.counselor)}** · "
    f"Intake {fmt_date(detail.intake_date)} · {plural(len(detail.sessions), 'session')} logged"
)
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


def _review_day(note: ReviewNote) -> str:
    day = note.reviewed_at.date()
    return f"{day.day} {day:%b %Y}"


def _supervision_reviews(reviews: list[ReviewNote]) -> None:
    """The supervisor's latest review in a box, the earlier ones folded away."""
    if not reviews:
        return
    latest, *earlier = reviews
    st.info(
        f"Supervision review by **{md_escape(latest.reviewer)}** on {_review_day(latest)}: "
        f"{md_text(latest.comment)}",
        icon=":material/supervisor_account:",
    )
    if latest.reasons:
        st.caption(f"Reviewed for: {md_escape(latest.reasons)}")
    if not earlier:
        return
    with st.expander(f"Earlier supervision reviews ({len(earlier)})"):
        for note in earlier:
            st.markdown(
                f"**{md_escape(note.reviewer)}** on {_review_day(note)}: {md_text(note.comment)}"
            )
            if note.reasons:
                st.caption(f"Reviewed for: {md_escape(note.reasons)}")


_supervision_reviews(reviews)


def _session_table(detail: CoupleDetail) -> None:
    if detail.can_edit and detail.status != CoupleStatus.CLOSED:
        st.page_link(
            SESSION_PAGE,
            label="Log a session",
            icon=":material/add:",
            query_params={"couple": str(detail.couple_id)},
        )
    if not detail.sessions:
        st.info(
            "No sessions yet. Log the first session after you meet the couple: the stage, "
            "barriers and both partners' ratings start their timeline."
        )
        return
    frame = pd.DataFrame(
        [
            {
                "Date": s.session_date,
                "Attendance": s.attendance,
                "Format": s.format,
                "Stage": s.stage,
                "Minutes": str(s.duration_minutes) if s.duration_minutes else "—",
                "Safety": "⚠ flagged" if s.safety_flag else "",
                "Amended": "yes" if s.amended else "",
            }
            for s in detail.sessions
        ]
    )
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=table_height(len(frame)),
        on_select="rerun",
        selection_mode="single-row",
        key="couple_sessions",
        column_config={"Date": st.column_config.DateColumn(format="ddd D MMM YYYY")},
    )
    rows = event.selection.rows if event else []
    if not rows:
        st.caption("Select a session to open it.")
        return
    chosen = detail.sessions[rows[0]]
    b1, b2, _ = st.columns([1, 1, 4])
    label = "Edit session" if detail.can_edit else "Open session"
    if b1.button(label, type="primary", icon=":material/edit_note:"):
        st.switch_page(SESSION_PAGE, query_params={"session": str(chosen.session_id)})
    if detail.can_edit and b2.button("Delete", icon=":material/delete:"):
        _confirm_delete(chosen.session_id, fmt_date(chosen.session_date))


@st.dialog("Delete this session?")
def _confirm_delete(session_id: int, when: str) -> None:
    st.write(
        f"The session of **{when}** will disappear from this couple. Nothing is destroyed: "
        "a clinic admin can restore it."
    )
    if st.button("Delete session", type="primary"):
        live = verified_actor()  # a dialog reruns on its own, without the page's check
        if live is None:
            st.error("You were signed out, so nothing was deleted. Log in again.")
            return
        try:
            with db_session() as db:
                sessions.delete_session(db, live, session_id)
        except ServiceError as exc:
            st.error(str(exc))
            return
        flash(f"The session of {when} was deleted. An admin can restore it.")
        st.rerun()


sessions_tab, intake_tab, status_tab, history_tab = st.tabs(
    ["Sessions", "Intake details", "Status", "History"]
)
with sessions_tab:
    _session_table(detail)
with intake_tab:
    couple_forms.intake_form(detail)
with status_tab:
    couple_forms.status_form(detail)
with history_tab:
    couple_forms.history(detail)
