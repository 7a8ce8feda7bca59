"""Couple: intake details, status, and the couple's sessions newest first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import CLOSING_REASONS, STATUS_LABELS, CoupleStatus
from dashboard.domain.validation import CoupleInput
from dashboard.services import couples, sessions
from dashboard.services.couples import CoupleDetail
from dashboard.services.errors import AccessDenied, EditConflict, ServiceError, ValidationFailed
from dashboard.ui.db import db_session
from dashboard.ui.widgets import (
    CASELOAD_PAGE,
    SESSION_PAGE,
    current_actor,
    field_error,
    flash,
    fmt_date,
    md_escape,
    query_int,
    table_height,
)

actor = current_actor()
couple_id = query_int("couple") or st.session_state.get("couple_id")
if couple_id is None:
    st.title("Couple")
    st.info("Choose a couple on the caseload page first.")
    st.page_link(CASELOAD_PAGE, label="Go to the caseload", icon=":material/groups:")
    st.stop()

try:
    with db_session() as db:
        detail = couples.get_couple(db, actor, int(couple_id))
except AccessDenied as exc:
    st.session_state.pop("couple_id", None)
    st.title("Couple")
    st.error(str(exc))
    st.page_link(CASELOAD_PAGE, label="Back to the caseload", icon=":material/groups:")
    st.stop()

st.session_state["couple_id"] = detail.couple_id
st.query_params["couple"] = str(detail.couple_id)

st.title(f"{detail.case_code} · {md_escape(detail.partners)}")
badge = {"active": "green", "paused": "orange", "closed": "gray"}[detail.status]
st.markdown(
    f":{badge}-badge[{detail.status_label}] &nbsp; Counselor: **{md_escape(detail.counselor)}** · "
    f"Intake {fmt_date(detail.intake_date)} · {len(detail.sessions)} sessions logged"
)
if not detail.can_edit:
    st.info(
        "Read-only: only the assigned counselor changes this record.", icon=":material/visibility:"
    )


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
                "Minutes": s.duration_minutes,
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
        try:
            with db_session() as db:
                sessions.delete_session(db, actor, session_id)
        except ServiceError as exc:
            st.error(str(exc))
            return
        flash(f"The session of {when} was deleted. An admin can restore it.")
        st.rerun()


def _intake(detail: CoupleDetail) -> None:
    if not detail.can_edit:
        st.markdown(
            f"**Partner A:** {md_escape(detail.partner_a_name)}  \n"
            f"**Partner B:** {md_escape(detail.partner_b_name)}"
        )
        st.markdown("**Presenting concerns**")
        st.text(detail.presenting_concerns or "—")
        st.markdown("**Goals**")
        st.text(detail.goals or "—")
        return
    errors: dict[str, str] = st.session_state.get("intake_errors", {})
    with st.form("intake"):
        c1, c2, c3 = st.columns(3)
        a = c1.text_input("Partner A", value=detail.partner_a_name, max_chars=80)
        with c1:
            field_error(errors, "partner_a_name")
        b = c2.text_input("Partner B", value=detail.partner_b_name, max_chars=80)
        with c2:
            field_error(errors, "partner_b_name")
        intake = c3.date_input("Intake date", value=detail.intake_date, format="DD/MM/YYYY")
        with c3:
            field_error(errors, "intake_date")
        concerns = st.text_area(
            "Presenting concerns", value=detail.presenting_concerns, max_chars=2000
        )
        field_error(errors, "presenting_concerns")
        goals = st.text_area("Goals", value=detail.goals, max_chars=2000)
        field_error(errors, "goals")
        saved = st.form_submit_button("Save intake details", type="primary")
    if saved:
        try:
            with db_session() as db:
                couples.update_couple(
                    db,
                    actor,
                    detail.couple_id,
                    CoupleInput(a, b, intake, concerns, goals),
                    expected_version=detail.version,
                )
        except ValidationFailed as exc:
            st.session_state["intake_errors"] = exc.errors
            st.rerun()
        except (EditConflict, ServiceError) as exc:
            st.error(str(exc))
        else:
            st.session_state.pop("intake_errors", None)
            flash("Intake details saved.")
            st.rerun()


def _status(detail: CoupleDetail) -> None:
    st.markdown(f"**Status:** {detail.status_text}")
    if detail.status_changed_at:
        st.caption(f"Changed {fmt_date(detail.status_changed_at.date())}")
    if not detail.can_edit:
        return
    errors: dict[str, str] = st.session_state.get("status_errors", {})
    options = [s.value for s in CoupleStatus if s.value != detail.status]
    with st.form("status"):
        new_status = st.radio(
            "Change status to",
            options,
            format_func=lambda s: (
                {"active": "Active (reopen)", "paused": "Paused", "closed": "Closed"}[s]
                if detail.status != "active"
                else STATUS_LABELS[CoupleStatus(s)]
            ),
            horizontal=True,
        )
        reason = st.selectbox(
            "Closing reason (when closing)",
            list(CLOSING_REASONS),
            index=None,
            format_func=CLOSING_REASONS.get,
            placeholder="Choose a reason",
        )
        field_error(errors, "closing_reason")
        note = st.text_input("Note", max_chars=500, help="Why, in a few words")
        field_error(errors, "status_note")
        changed = st.form_submit_button("Change status")
    if changed:
        try:
            with db_session() as db:
                couples.change_status(
                    db,
                    actor,
                    detail.couple_id,
                    new_status=new_status,
                    closing_reason=reason,
                    note=note,
                    expected_version=detail.version,
                )
        except ValidationFailed as exc:
            st.session_state["status_errors"] = exc.errors
            st.rerun()
        except ServiceError as exc:
            st.error(str(exc))
        else:
            st.session_state.pop("status_errors", None)
            flash(f"Status changed to {STATUS_LABELS[CoupleStatus(new_status)].lower()}.")
            st.rerun()


sessions_tab, intake_tab, status_tab = st.tabs(["Sessions", "Intake details", "Status"])
with sessions_tab:
    _session_table(detail)
with intake_tab:
    _intake(detail)
with status_tab:
    _status(detail)
