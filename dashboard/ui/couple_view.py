"""The couple page's read parts: supervision reviews and the session list.

The session list opens a session for editing (or reading) and soft-deletes one behind
a confirmation; nothing is destroyed (an admin restores).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import CoupleStatus
from dashboard.services import sessions
from dashboard.services.couples import CoupleDetail
from dashboard.services.errors import ServiceError
from dashboard.services.supervision import ReviewNote
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import clinic_day
from dashboard.ui.db import db_session
from dashboard.ui.widgets import SESSION_PAGE, flash, fmt_date, md_text, table_height


def _review_day(note: ReviewNote) -> str:
    day = clinic_day(note.reviewed_at)
    return f"{day.day} {day:%b %Y}"


def supervision_reviews(reviews: list[ReviewNote]) -> None:
    """The supervisor's latest review in a box, the earlier ones folded away."""
    if not reviews:
        return
    latest, *earlier = reviews
    st.info(
        f"Supervision review by **{md_text(latest.reviewer)}** on {_review_day(latest)}: "
        f"{md_text(latest.comment)}",
        icon=":material/supervisor_account:",
    )
    if latest.reasons:
        st.caption(f"Reviewed for: {md_text(latest.reasons)}")
    if not earlier:
        return
    with st.expander(f"Earlier supervision reviews ({len(earlier)})"):
        for note in earlier:
            st.markdown(
                f"**{md_text(note.reviewer)}** on {_review_day(note)}: {md_text(note.comment)}"
            )
            if note.reasons:
                st.caption(f"Reviewed for: {md_text(note.reasons)}")


def session_table(detail: CoupleDetail) -> None:
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
                # Beside the date: on screen at 800 px, where the later columns are not.
                "Safety": "⚠ flagged" if s.safety_flag else "",
                "Attendance": s.attendance,
                "Format": s.format,
                "Stage": s.stage,
                "Minutes": str(s.duration_minutes) if s.duration_minutes else "—",
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
