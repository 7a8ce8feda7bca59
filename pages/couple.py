"""Couple: intake details, status, and the couple's sessions newest first."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import CLOSING_REASONS, STATUS_LABELS, CoupleStatus
from dashboard.domain.validation import CoupleInput
from dashboard.services import couples, sessions, supervision
from dashboard.services.couples import CoupleDetail
from dashboard.services.errors import AccessDenied, ServiceError, ValidationFailed
from dashboard.services.supervision import ReviewNote
from dashboard.ui.auth import verified_actor
from dashboard.ui.db import DbSession, db_session
from dashboard.ui.widgets import (
    SESSION_PAGE,
    TIMELINE_PAGE,
    chosen_couple_id,
    current_actor,
    field_error,
    first_view,
    flash,
    fmt_date,
    md_escape,
    md_text,
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
    f"Intake {fmt_date(detail.intake_date)} · {len(detail.sessions)} sessions logged"
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
        c1.text_input("Partner A", key="cf_a", max_chars=80)
        with c1:
            field_error(errors, "partner_a_name")
        c2.text_input("Partner B", key="cf_b", max_chars=80)
        with c2:
            field_error(errors, "partner_b_name")
        c3.date_input("Intake date", key="cf_intake", format="DD/MM/YYYY")
        with c3:
            field_error(errors, "intake_date")
        st.text_area("Presenting concerns", key="cf_concerns", max_chars=2000)
        field_error(errors, "presenting_concerns")
        st.text_area("Goals", key="cf_goals", max_chars=2000)
        field_error(errors, "goals")
        saved = st.form_submit_button("Save intake details", type="primary")
    if saved:
        state = st.session_state
        inp = CoupleInput(
            state["cf_a"],
            state["cf_b"],
            state["cf_intake"],
            state["cf_concerns"],
            state["cf_goals"],
        )
        _save_couple(
            "intake_errors",
            "Intake details saved.",
            lambda db: couples.update_couple(
                db, actor, detail.couple_id, inp, expected_version=state["cf_version"]
            ),
        )


def _save_couple(errors_key: str, success: str, save: Callable[[DbSession], None]) -> None:
    """Run a couple save; keep the typed values on refusal, start afresh on success."""
    try:
        with db_session() as db:
            save(db)
    except ValidationFailed as exc:
        st.session_state[errors_key] = exc.errors
        st.rerun()
    except ServiceError as exc:
        st.session_state[errors_key] = {}
        st.session_state["cf_conflict"] = str(exc)
        st.rerun()
    st.session_state.pop(errors_key, None)
    st.session_state["cf_target"] = None  # reload the form from the saved record
    flash(success)
    st.rerun()


def _status(detail: CoupleDetail) -> None:
    st.markdown(f"**Status:** {md_escape(detail.status_text)}")
    if detail.status_changed_at:
        st.caption(f"Changed {fmt_date(detail.status_changed_at.date())}")
    if not detail.can_edit:
        return
    errors: dict[str, str] = st.session_state.get("status_errors", {})
    with st.form("status"):
        st.radio(
            "Status",
            [s.value for s in CoupleStatus],
            key="cf_status",
            format_func=lambda s: STATUS_LABELS[CoupleStatus(s)],
            horizontal=True,
        )
        st.selectbox(
            "Closing reason (when closing)",
            list(CLOSING_REASONS),
            key="cf_reason",
            index=None,
            format_func=CLOSING_REASONS.get,
            placeholder="Choose a reason",
        )
        field_error(errors, "closing_reason")
        st.text_input("Note", key="cf_note", max_chars=500, help="Why, in a few words")
        field_error(errors, "status_note")
        changed = st.form_submit_button("Save status")
    if changed:
        state = st.session_state
        new_status = state["cf_status"]
        _save_couple(
            "status_errors",
            f"Status is now {STATUS_LABELS[CoupleStatus(new_status)].lower()}.",
            lambda db: couples.change_status(
                db,
                actor,
                detail.couple_id,
                new_status=new_status,
                closing_reason=state["cf_reason"],
                note=state["cf_note"],
                expected_version=state["cf_version"],
            ),
        )


def _init_forms(detail: CoupleDetail) -> None:
    """Fill the intake and status forms from the record, once per couple.

    The version read here is the one the counselor's edits are based on, so a save
    after someone else's is refused rather than silently overwriting it.
    """
    state = st.session_state
    state["cf_target"] = detail.couple_id
    state["cf_version"] = detail.version
    state["cf_a"] = detail.partner_a_name
    state["cf_b"] = detail.partner_b_name
    state["cf_intake"] = detail.intake_date
    state["cf_concerns"] = detail.presenting_concerns
    state["cf_goals"] = detail.goals
    state["cf_status"] = detail.status
    state["cf_reason"] = detail.closing_reason
    state["cf_note"] = detail.status_note
    state["cf_conflict"] = ""
    state.pop("intake_errors", None)
    state.pop("status_errors", None)


if st.session_state.get("cf_target") != detail.couple_id:
    _init_forms(detail)
stale = detail.version != st.session_state.get("cf_version")
if detail.can_edit and st.session_state.get("cf_conflict"):
    st.error(st.session_state["cf_conflict"], icon=":material/sync_problem:")
elif detail.can_edit and stale:
    st.warning(
        "This couple's record was changed after you opened it. Saving your edits now "
        "will be refused.",
        icon=":material/sync_problem:",
    )
reload = "Load the latest version (discards your unsaved edits)"
if detail.can_edit and stale and st.button(reload):
    st.session_state["cf_target"] = None
    st.rerun()


def _history(detail: CoupleDetail) -> None:
    """Every earlier change to the record: who, when, what (nothing is overwritten)."""
    if not detail.history:
        st.caption("No changes since the couple was opened.")
        return
    st.dataframe(
        pd.DataFrame(
            [{"When (UTC)": c.when, "Who": c.who, "What changed": c.what} for c in detail.history]
        ),
        hide_index=True,
        width="stretch",
        column_config={"When (UTC)": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
    )


sessions_tab, intake_tab, status_tab, history_tab = st.tabs(
    ["Sessions", "Intake details", "Status", "History"]
)
with sessions_tab:
    _session_table(detail)
with intake_tab:
    _intake(detail)
with status_tab:
    _status(detail)
with history_tab:
    _history(detail)
