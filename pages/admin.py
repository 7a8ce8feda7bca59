"""Admin: users, deleted sessions (restore), audit log. User management arrives later."""

from __future__ import annotations

import streamlit as st

from dashboard.services import admin, sessions
from dashboard.services.errors import ServiceError
from dashboard.ui.db import db_session
from dashboard.ui.widgets import current_actor, flash

actor = current_actor()
st.title("Admin")
if not actor.is_admin:
    st.error("Only a clinic admin can open this page.")
    st.stop()

users_tab, deleted_tab, audit_tab = st.tabs(["Users", "Deleted sessions", "Audit log"])

with users_tab:
    st.caption(
        "Accounts and supervision links. Creating and deactivating accounts from this page "
        "arrives with the admin tools; until then use `python -m dashboard create-user`."
    )
    with db_session() as db:
        st.dataframe(admin.list_users(db, actor), hide_index=True, width="stretch")

with deleted_tab:
    with db_session() as db:
        deleted = admin.deleted_sessions(db, actor)
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
    failures = st.toggle("Refusals and failed logins only", key="audit_failures")
    with db_session() as db:
        log = admin.audit_log(db, actor, failures_only=failures)
    st.dataframe(log, hide_index=True, width="stretch")
