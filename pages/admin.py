"""Admin: accounts and supervision, licences, clinic norms, the expected course, deleted
sessions (restore), audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import ROLE_LABELS, Role
from dashboard.services import admin, instruments, sessions
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui import admin_forms, audit_log, expected_section, norms_section
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import clinic_times
from dashboard.ui.db import db_session
from dashboard.ui.errors import guarded
from dashboard.ui.widgets import (
    current_actor,
    first_view,
    flash,
    md_text,
    table_height,
)

actor = current_actor()
st.title("Admin")
if not actor.is_admin:
    st.error("Only a clinic admin can open this page.")
    st.stop()


@guarded
def _switch_licence(key: str, name: str, licensed: bool) -> None:
    live = verified_actor()  # callbacks run before the page's own check
    if live is None:
        return
    try:
        with db_session() as db:
            instruments.set_licence(db, live, key, licensed=licensed)
    except ServiceError as exc:
        flash(str(exc))
    else:
        flash(f"{name} is {'on' if licensed else 'off'} the session form.")


opened = first_view("admin")
# Keyed: the tab stays open when a message above it (a publish's) moves the page.
users_tab, licences_tab, norms_tab, expected_tab, deleted_tab, audit_tab = st.tabs(
    [
        "Users",
        "Instrument licences",
        "Clinic norms",
        "Expected course",
        "Deleted sessions",
        "Audit log",
    ],
    key="admin_tab",
)

with users_tab:
    with db_session() as db:
        users = admin.list_users(db, actor, record_view=opened)
    hidden = ["user_id", "supervisor_id"]
    if not users["Single sign-on"].any():
        hidden.append("Single sign-on")  # nobody has signed in that way: no empty column
    st.dataframe(
        users.drop(columns=hidden).assign(**{"Last active": clinic_times(users["Last active"])}),
        hide_index=True,
        width="stretch",
        height=table_height(len(users)),
        column_config={
            "Role": st.column_config.SelectboxColumn(
                options=[r.value for r in Role], format_func=lambda r: ROLE_LABELS[Role(r)]
            ),
            "Last active": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
        },
    )
    names = dict(zip(users["user_id"], users["Name"] + " (" + users["Username"] + ")", strict=True))

    admin_forms.add_account_form()
    admin_forms.failed_sign_ins(actor)

    with st.expander("Change an account", icon=":material/manage_accounts:"):
        chosen = st.selectbox(
            "Account",
            list(names),
            format_func=names.get,
            index=None,
            placeholder="Choose an account",
        )
        if chosen is not None:
            row = users.set_index("user_id").loc[chosen]
            try:
                if row["Active"] and st.button("Deactivate (ends their sessions now)"):
                    with db_session() as db:
                        admin.set_active(db, actor, int(chosen), active=False)
                    flash(f"{md_text(row['Name'])} can no longer log in.")
                    st.rerun()
                if not row["Active"] and st.button("Reactivate", type="primary"):
                    with db_session() as db:
                        admin.set_active(db, actor, int(chosen), active=True)
                    flash(f"{md_text(row['Name'])} can log in again.")
                    st.rerun()
                if row["Single sign-on"] and st.button(
                    "Unlink single sign-on (the next sign-in links again by email)"
                ):
                    with db_session() as db:
                        admin.unlink_sso(db, actor, int(chosen))
                    flash(f"{md_text(row['Name'])} is no longer linked to a sign-in account.")
                    st.rerun()
                if row["Role"] == Role.COUNSELOR.value:
                    supervisors = {
                        int(i): names[i]
                        for i in users.loc[users["Role"] == Role.SUPERVISOR.value, "user_id"]
                    }
                    options = [None, *supervisors]
                    current = row["supervisor_id"]
                    new_supervisor = st.selectbox(
                        "Supervised by",
                        options,
                        index=options.index(int(current)) if pd.notna(current) else 0,
                        format_func=lambda i: "Nobody" if i is None else supervisors[i],
                    )
                    if st.button("Save supervisor"):
                        with db_session() as db:
                            admin.set_supervisor(db, actor, int(chosen), new_supervisor)
                        flash("Supervision updated.")
                        st.rerun()
            except ValidationFailed as exc:
                st.error(" ".join(exc.errors.values()))
            except ServiceError as exc:
                st.error(str(exc))

with licences_tab:
    st.caption(
        "Licensed instruments stay off the session form until you record here that the "
        "clinic holds the licence. Totals already recorded are kept if you switch one off."
    )
    with db_session() as db:
        statuses = instruments.licences(db, actor)
    for status in statuses:
        # The switch writes only when this admin flips it (on_change), and its key holds
        # the stored state, so another admin's later change is never written back.
        st.toggle(
            f"{status.name}: the clinic holds a licence",
            value=status.licensed,
            key=f"licence_{status.key}_{status.licensed}_{status.changed_at}",
            help=status.licence_note,
            on_change=_switch_licence,
            args=(status.key, status.name, not status.licensed),
        )
        if status.changed_by:
            st.caption(f"Last changed by {md_text(status.changed_by)} on {status.changed_at}")

with norms_tab:
    norms_section.draw(actor)

with expected_tab:
    expected_section.draw(actor)

with deleted_tab:
    with db_session() as db:
        deleted = admin.deleted_sessions(db, actor, record_view=opened)
    if deleted.empty:
        st.info("No deleted sessions. Anything a counselor deletes appears here for restore.")
    else:
        event = st.dataframe(
            deleted.drop(columns="session_id"),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key="deleted_table",
        )
        rows = event.selection.rows if event else []
        if rows and st.button("Restore selected session", type="primary"):
            session_id = int(deleted.iloc[rows[0]]["session_id"])
            try:
                with db_session() as db:
                    sessions.restore_session(db, actor, session_id)
            except ServiceError as exc:
                st.error(str(exc))
            else:
                flash("The session is back on its couple's record.")
                st.rerun()

with audit_tab:
    audit_log.draw(actor, opened=opened)
