"""The supervisor's "Mark reviewed" form: the comment survives a refusal and a trip.

One draft per couple (see form_state): a comment half-written for one couple stays with
that couple while the supervisor reads another, and comes back after a visit to a
timeline.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard.services import supervision
from dashboard.services.actor import Actor
from dashboard.ui.db import DbSession
from dashboard.ui.errors import guarded
from dashboard.ui.form_state import FormDraft, find_draft, save_from_draft
from dashboard.ui.widgets import field_error, flash

DONE_KEY = "review_done"  # set after a review: the couple choice clears on the next run


def _name(couple_id: int) -> str:
    return f"review:{couple_id}"


def _key(couple_id: int) -> str:
    """The comment box's key: one per couple, so two couples' drafts never mix."""
    return f"review_comment_{couple_id}"


@guarded
def _mark_reviewed(couple_id: int, case_code: str, shown_key: str, today: date) -> None:
    draft = find_draft(_name(couple_id))
    if draft is None:
        return
    draft.take_widgets()
    comment = str(draft.values[_key(couple_id)] or "")

    def save(db: DbSession, actor: Actor) -> None:
        supervision.mark_reviewed(db, actor, couple_id, comment, today=today, shown_key=shown_key)

    if save_from_draft(draft, save):
        FormDraft.discard(_name(couple_id))
        st.session_state[DONE_KEY] = True
        flash(f"{case_code} marked reviewed. The counselor sees your comment on the couple's page.")


def review_form(couple_id: int, case_code: str, shown_key: str, today: date) -> None:
    """The comment box and the button, for one couple on the attention list."""
    draft = FormDraft.open(_name(couple_id), f"couple:{couple_id}", {_key(couple_id): ""})
    if draft.conflict:
        st.error(draft.conflict)
    st.text_area(
        "Comment for the counselor",
        key=_key(couple_id),
        max_chars=supervision.REVIEW_COMMENT_MAX,
        placeholder="What you discussed or what to try next",
    )
    field_error(draft.errors, "comment")
    st.button(
        "Mark reviewed",
        type="primary",
        key="review_submit",
        on_click=_mark_reviewed,
        args=(couple_id, case_code, shown_key, today),
    )
