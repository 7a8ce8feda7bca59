"""Log session: the session form of DOMAIN.md, for a new session or an edit.

The form itself lives in dashboard/ui/session_form.py (editable) and
dashboard/ui/session_view.py (read-only); this script finds which session or couple
the page is about and who may do what with it.
"""

from __future__ import annotations

import streamlit as st

from dashboard.services import sessions
from dashboard.services.errors import AccessDenied, ValidationFailed
from dashboard.ui import session_form, session_view
from dashboard.ui.db import db_session
from dashboard.ui.widgets import (
    COUPLE_PAGE,
    current_actor,
    flash,
    query_int,
    refuse,
    visit,
)

actor = current_actor()
state = st.session_state

done = state.pop(session_form.DONE_KEY, None)
if done:  # saved by the form's callback: show the couple, once
    couple_id_done, message = done
    flash(message)
    st.switch_page(COUPLE_PAGE, query_params={"couple": str(couple_id_done)})

session_id = query_int("session")
couple_id = query_int("couple")
if couple_id is None and session_id is None:
    couple_id = state.get("couple_id")
form = None
opening = visit(f"session:{session_id}" if session_id is not None else f"new-session:{couple_id}")
try:
    with db_session() as db:
        if session_id is not None:
            form = sessions.session_form(
                db,
                actor,
                session_id,
                write=False,
                record_view=opening.record_view,
                audit_refusal=opening.audit_refusal,
            )
        elif couple_id is not None and actor.is_counselor:
            form = sessions.new_session_form(
                db,
                actor,
                int(couple_id),
                record_view=opening.record_view,
                audit_refusal=opening.audit_refusal,
            )
except ValidationFailed as exc:  # a closed case takes no new sessions
    st.title("Log session")
    st.info(" ".join(exc.errors.values()))
    st.page_link(
        COUPLE_PAGE,
        label="Open the couple",
        icon=":material/diversity_1:",
        query_params={"couple": str(couple_id)},
    )
    st.stop()
except AccessDenied as exc:
    refuse("Session", str(exc), opening)

if form is None:
    st.title("Log session")
    session_form.pick_couple(actor)
    st.stop()

state["couple_id"] = form.couple_id
if form.can_edit:
    session_form.render(form, actor)
else:
    session_view.read_only(form)
