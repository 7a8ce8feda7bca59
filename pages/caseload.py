"""My caseload (counselors) / Couples (supervisors, admins): the couples in scope, with
who needs attention first at hand."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.catalog import STATUS_LABELS, CoupleStatus
from dashboard.domain.need import (
    BY_NEED,
    CASELOAD_ORDERS,
    EXPECTED_FILTERS,
    at_expected,
    order_caseload,
)
from dashboard.domain.plain_words import EXPECTED_COURSE
from dashboard.services import expected, review
from dashboard.ui import couple_forms
from dashboard.ui.caseload_table import caseload_table, open_picker
from dashboard.ui.db import db_session, settings
from dashboard.ui.widgets import current_actor, first_view, md_text

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

# Two filters a row, the switch under them: at 800 px three columns cut the status
# chips to "Ac…" and the switch's label to "Needs …".
left, middle = st.columns([1, 1], vertical_alignment="bottom")
search = left.text_input("Search", placeholder="Case code or partner name", key="caseload_search")
status_options = [s.value for s in CoupleStatus]
statuses = middle.multiselect(
    "Status",
    status_options,
    default=[CoupleStatus.ACTIVE.value, CoupleStatus.PAUSED.value],
    format_func=lambda s: STATUS_LABELS[CoupleStatus(s)],
    key="caseload_status",
)
attention_only = st.toggle("Needs attention only", key="caseload_attention")
expected_only = st.pills(
    EXPECTED_COURSE,
    list(EXPECTED_FILTERS),
    selection_mode="multi",
    help="Only couples whose worse partner is at one of the alerts chosen; none chosen "
    "shows all. Below expected is a warning; well below is not on track",
    key="caseload_expected",
)

with db_session() as db:
    frame = review.caseload_with_flags(
        db,
        actor,
        search=search,
        statuses=statuses,
        overdue_days=OVERDUE_DAYS,
        record_view=first_view("caseload"),
    )
    expected_label = expected.expected_model(db).label

# The numbers count the couples shown: every filter first.
if attention_only:
    frame = frame[frame["needs_attention"]].reset_index(drop=True)
frame = at_expected(frame, expected_only).reset_index(drop=True)
active = int((frame["status"] == STATUS_LABELS[CoupleStatus.ACTIVE]).sum())
m1, m2, m3, m4 = st.columns(4)
m1.metric("Couples shown", len(frame))
m2.metric("Active", active)
m3.metric(
    "Overdue",
    int(frame["overdue"].sum()),
    help=f"Active, no session in {OVERDUE_DAYS}+ days: counted from the last session held, "
    "or from intake for a couple not yet seen",
)
m4.metric("Need attention", int(frame["needs_attention"].sum()))
order = st.segmented_control(
    "Order by",
    CASELOAD_ORDERS,
    default=BY_NEED,
    required=True,
    help="Need: a safety flag first, then not on track, then overdue, then the rest. "
    "Expected course: well below first, then below, on course, no data yet",
    key="caseload_order",
)
frame = order_caseload(frame, order or BY_NEED)
st.caption(md_text(f"The expected course is judged with {expected_label}."))

if frame.empty:
    st.info(
        "No couple needs attention among those shown."
        if attention_only and not expected_only
        else "No couple shown is " + " or ".join(expected_only) + "."
        if expected_only
        else "No couples match these filters."
        if (search or statuses != status_options)
        else "No couples yet. Open a new couple below."
    )
open_picker(frame)
caseload_table(frame, actor, OVERDUE_DAYS)

if actor.is_counselor:
    couple_forms.new_couple_form()
