"""My caseload (counselors) / Caseload review (supervisors, admins): the couples in scope."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import STATUS_LABELS, CoupleStatus
from dashboard.domain.validation import CoupleInput
from dashboard.services import couples
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui.db import db_session, settings
from dashboard.ui.widgets import (
    COUPLE_PAGE,
    SESSION_PAGE,
    current_actor,
    field_error,
    first_view,
    flash,
    md_escape,
    table_height,
)

actor = current_actor()
OVERDUE_DAYS = settings().overdue_days
if actor.is_counselor:
    st.title("My caseload")
else:
    st.title("Couples")
    st.caption(
        "Couples of the counselors you supervise, read-only. Outcomes and the attention "
        "list are on the Caseload review page."
        if actor.is_supervisor
        else "Every couple in the clinic, read-only. Clinic numbers are on the Clinic overview."
    )

left, right = st.columns([2, 1])
search = left.text_input("Search", placeholder="Case code or partner name", key="caseload_search")
status_options = [s.value for s in CoupleStatus]
statuses = right.multiselect(
    "Status",
    status_options,
    default=[CoupleStatus.ACTIVE.value, CoupleStatus.PAUSED.value],
    format_func=lambda s: STATUS_LABELS[CoupleStatus(s)],
    key="caseload_status",
)

with db_session() as db:
    frame = couples.list_caseload(
        db,
        actor,
        search=search,
        statuses=statuses,
        overdue_days=OVERDUE_DAYS,
        record_view=first_view("caseload"),
    )

active = int((frame["status"] == STATUS_LABELS[CoupleStatus.ACTIVE]).sum())
overdue = int(frame["overdue"].sum())
m1, m2, m3 = st.columns(3)
m1.metric("Couples shown", len(frame))
m2.metric("Active", active)
m3.metric(
    f"Active, no session in {OVERDUE_DAYS}+ days",
    overdue,
    help="Counted from the last session held, or from intake for a couple not yet seen",
)

if frame.empty:
    st.info(
        "No couples match these filters."
        if (search or statuses != status_options)
        else "No couples yet. Open a new couple below."
    )
columns = [
    "case_code",
    "partners",
    "status",
    "stage",
    "sessions",
    "last_session",
    "days_since_last",
]
if not actor.is_counselor:
    columns.insert(2, "counselor")
event = st.dataframe(
    # As datetimes, a couple not yet seen shows an empty cell rather than "None".
    frame[columns].assign(last_session=pd.to_datetime(frame["last_session"])),
    hide_index=True,
    width="stretch",
    height=table_height(len(frame)),
    on_select="rerun",
    selection_mode="single-row",
    key="caseload_table",
    column_config={
        "case_code": st.column_config.TextColumn("Case"),
        "partners": st.column_config.TextColumn("Partners"),
        "counselor": st.column_config.TextColumn("Counselor"),
        "status": st.column_config.TextColumn("Status"),
        "stage": st.column_config.TextColumn("Current stage"),
        "sessions": st.column_config.NumberColumn("Sessions", help="Sessions held (attended)"),
        "last_session": st.column_config.DateColumn("Last session", format="D MMM YYYY"),
        "days_since_last": st.column_config.NumberColumn(
            "Days since", help=f"Days since the last session held; over {OVERDUE_DAYS} is overdue"
        ),
    },
)
rows = event.selection.rows if event else []
if rows:
    chosen = frame.iloc[rows[0]]
    couple_id = int(chosen["couple_id"])
    st.markdown(f"**{chosen['case_code']}** · {md_escape(chosen['partners'])}")
    b1, b2, _ = st.columns([1, 1, 4])
    if b1.button("Open couple", type="primary", icon=":material/open_in_new:"):
        st.switch_page(COUPLE_PAGE, query_params={"couple": str(couple_id)})
    can_log = actor.is_counselor and chosen["status"] != STATUS_LABELS[CoupleStatus.CLOSED]
    if can_log and b2.button("Log session", icon=":material/edit_note:"):
        st.switch_page(SESSION_PAGE, query_params={"couple": str(couple_id)})
else:
    st.caption("Select a row to open the couple.")

if actor.is_counselor:
    errors: dict[str, str] = st.session_state.get("new_couple_errors", {})
    with st.expander("Open a new couple", expanded=bool(errors), icon=":material/add:"):
        with st.form("new_couple"):
            c1, c2, c3 = st.columns(3)
            partner_a = c1.text_input("Partner A", max_chars=80, help="Display name or initials")
            with c1:
                field_error(errors, "partner_a_name")
            partner_b = c2.text_input("Partner B", max_chars=80, help="Display name or initials")
            with c2:
                field_error(errors, "partner_b_name")
            intake = c3.date_input("Intake date", value=date.today(), format="DD/MM/YYYY")
            with c3:
                field_error(errors, "intake_date")
            concerns = st.text_area("Presenting concerns", max_chars=2000)
            field_error(errors, "presenting_concerns")
            goals = st.text_area("Goals", max_chars=2000)
            field_error(errors, "goals")
            submitted = st.form_submit_button("Open couple", type="primary")
        if submitted:
            inp = CoupleInput(partner_a, partner_b, intake, concerns, goals)
            try:
                with db_session() as db:
                    new_id = couples.create_couple(db, actor, inp)
            except ValidationFailed as exc:
                st.session_state["new_couple_errors"] = exc.errors
                st.rerun()
            except ServiceError as exc:
                st.error(str(exc))
            else:
                st.session_state.pop("new_couple_errors", None)
                flash("The couple was opened. Log their first session when you have met them.")
                st.switch_page(COUPLE_PAGE, query_params={"couple": str(new_id)})
