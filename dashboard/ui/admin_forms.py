"""Admin's "Add an account" form: what the admin typed survives a refusal and a trip.

The typed fields live in a `FormDraft` (see form_state); the first password is never
kept in it: after a trip away it must be typed again.
"""

from __future__ import annotations

import streamlit as st

from dashboard.domain.catalog import ROLE_LABELS, Role
from dashboard.services import auth
from dashboard.services.actor import Actor
from dashboard.ui.clinic_time import clinic_times
from dashboard.ui.db import DbSession, db_session
from dashboard.ui.errors import guarded
from dashboard.ui.form_state import FormDraft, find_draft, save_from_draft
from dashboard.ui.widgets import field_error, flash, md_text

ACCOUNT = "account"
_EMPTY = {"acct_username": "", "acct_name": "", "acct_role": Role.COUNSELOR.value, "acct_email": ""}


@guarded
def _add_account() -> None:
    """Add account callback: one transaction; errors stay beside their fields."""
    draft = find_draft(ACCOUNT)
    if draft is None:
        return
    draft.take_widgets()
    v = draft.values
    password = st.session_state.get("acct_password") or ""

    def save(db: DbSession, actor: Actor) -> None:
        auth.create_user(
            db,
            actor,
            username=v["acct_username"],
            display_name=v["acct_name"],
            role=v["acct_role"],
            password=password,
            email=v["acct_email"],
        )

    if not save_from_draft(draft, save):
        return
    FormDraft.discard(ACCOUNT)
    st.session_state["acct_password"] = ""
    flash(f"Account '{str(v['acct_username']).strip().lower()}' added.")


def add_account_form() -> None:
    draft = FormDraft.open(ACCOUNT, "new", _EMPTY)
    errors = draft.errors
    with st.expander(
        "Add an account", icon=":material/person_add:", expanded=bool(errors) or draft.dirty
    ):
        if draft.conflict:
            st.error(draft.conflict)
        c1, c2 = st.columns(2)
        with c1:
            st.text_input("Username", key="acct_username", max_chars=32)
            field_error(errors, "username")
            st.selectbox(
                "Role",
                [r.value for r in Role],
                key="acct_role",
                format_func=lambda r: ROLE_LABELS[Role(r)],
            )
        with c2:
            st.text_input("Name", key="acct_name", max_chars=120)
            field_error(errors, "display_name")
            st.text_input("Email (optional)", key="acct_email", max_chars=254)
            field_error(errors, "email")
        st.text_input(
            "First password",
            type="password",
            key="acct_password",
            help=f"At least {auth.PASSWORD_MIN} characters; give it to the person in private.",
        )
        field_error(errors, "password")
        st.button("Add account", type="primary", key="acct_add", on_click=_add_account)


def failed_sign_ins(actor: Actor) -> None:
    """Names with failed sign-ins in the last 15 minutes, and the unlock for an owner
    who should not wait (the waits never last long for their own device: see
    dashboard/domain/sign_in.py)."""
    with db_session() as db:
        failures = auth.failed_sign_ins(db, actor)
    with st.expander(
        f"Failed sign-ins ({len(failures)} names in the last 15 minutes)",
        icon=":material/lock_clock:",
    ):
        if failures.empty:
            st.caption("No failed sign-ins in the last 15 minutes.")
            return
        st.dataframe(
            failures.assign(Latest=clinic_times(failures["Latest"])),
            hide_index=True,
            width="stretch",
            column_config={"Latest": st.column_config.DatetimeColumn(format="HH:mm:ss")},
        )
        name = st.selectbox(
            "Clear the failed sign-ins of",
            list(failures["Username"]),
            index=None,
            placeholder="Choose a name",
            key="unlock_name",
        )
        if name and st.button("Clear: no device waits for this name", key="unlock_button"):
            with db_session() as db:
                cleared = auth.unlock_sign_in(db, actor, name)
            flash(f"Cleared {cleared} failed sign-ins of {md_text(name)}.")
            st.rerun()
