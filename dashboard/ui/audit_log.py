"""The Admin page's audit log: filters, the table, a CSV of it, the chain check."""

from __future__ import annotations

import streamlit as st

from dashboard.services import audit_log
from dashboard.services.actor import Actor
from dashboard.services.audit_log import LIMIT, AuditFilters
from dashboard.services.errors import ValidationFailed
from dashboard.ui.clinic_time import clinic_zone
from dashboard.ui.db import db_session


def _filters(choices: audit_log.AuditLogChoices) -> AuditFilters:
    who, couple, what = st.columns(3)
    username = who.selectbox(
        "User", ["", *choices.usernames], format_func=lambda u: u or "Anyone", key="audit_user"
    )
    case_code = couple.selectbox(
        "Couple",
        ["", *choices.case_codes],
        format_func=lambda c: c or "Any couple",
        key="audit_couple",
    )
    action = what.selectbox(
        "Action",
        ["", *choices.actions],
        format_func=lambda a: choices.actions.get(a, "Any action"),
        key="audit_action",
    )
    start_col, end_col, only_col = st.columns(3)
    start = start_col.date_input("From", value=None, key="audit_from", format="YYYY-MM-DD")
    end = end_col.date_input("To", value=None, key="audit_to", format="YYYY-MM-DD")
    only_col.write("")  # line the toggle up with the date fields
    failures = only_col.toggle("Refusals and failed logins only", key="audit_failures")
    return AuditFilters(username, case_code, action, start, end, failures)


def draw(actor: Actor, *, opened: bool) -> None:
    """The log as the admin filtered it; `opened` audits the first look of a visit."""
    with db_session() as db:
        choices = audit_log.choices(db, actor)
    filters = _filters(choices)
    zone = clinic_zone()
    try:
        with db_session() as db:
            log = audit_log.search(db, actor, filters, timezone=zone, record_view=opened)
    except ValidationFailed as exc:
        for message in exc.errors.values():
            st.error(message)
        return
    # The When column (and the CSV's) names the zone; the menu says it for the page.
    st.caption(f"{len(log)} events, newest first (at most {LIMIT}).")
    st.dataframe(log, hide_index=True, width="stretch")

    def csv() -> bytes:
        with db_session() as db:
            return audit_log.export_csv(db, actor, filters, timezone=zone)

    download, check = st.columns(2)
    download.download_button(
        "Download these events (CSV)",
        data=csv,
        file_name="bondline-audit-log.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    if check.button("Verify the audit chain", icon=":material/verified:"):
        with db_session() as db:
            report = audit_log.verify(db, actor)
        (st.success if report.intact else st.error)(report.describe())
