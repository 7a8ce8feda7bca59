"""The couple page's edit parts: intake details, status, and History with restore.

Each form keeps what the counselor typed in a `FormDraft` (see form_state), so it shows
the stored record every time it is opened, unless there are unsaved edits, which it
says; a refused save and a trip to another page keep every word. Saves run as button
callbacks: one transaction, then the page draws once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import CLOSING_REASONS, STATUS_LABELS, CoupleStatus
from dashboard.domain.validation import (
    COUPLE_TEXTS,
    INTAKE_TEXT_MAX,
    NAME_MAX,
    STATUS_NOTE_MAX,
    CoupleInput,
)
from dashboard.services import couples
from dashboard.services.actor import Actor
from dashboard.services.couples import CoupleChange, CoupleDetail
from dashboard.services.errors import ServiceError
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import clinic_day, clinic_moment, clinic_time
from dashboard.ui.db import DbSession, db_session
from dashboard.ui.errors import guarded
from dashboard.ui.form_state import FormDraft, find_draft, fmt_time, save_from_draft
from dashboard.ui.widgets import COUPLE_PAGE, field_error, flash, md_text

INTAKE = "intake"
STATUS = "status"
# Intake text field -> (widget key, its "Clear" tick's key)
_TEXTS = {
    "presenting_concerns": ("cf_concerns", "cf_clear_concerns"),
    "goals": ("cf_goals", "cf_clear_goals"),
}
Save = Callable[[DbSession, Actor, dict[str, Any], int], None]
Success = str | Callable[[dict[str, Any]], str]


def _intake_values(detail: CoupleDetail) -> dict[str, object]:
    return {
        "cf_a": detail.partner_a_name,
        "cf_b": detail.partner_b_name,
        "cf_intake": detail.intake_date,
        "cf_concerns": detail.presenting_concerns,
        "cf_goals": detail.goals,
        "cf_clear_concerns": False,
        "cf_clear_goals": False,
    }


def _status_values(detail: CoupleDetail) -> dict[str, object]:
    return {
        "cf_status": detail.status,
        "cf_reason": detail.closing_reason,
        "cf_note": detail.status_note,
    }


@guarded
def _run_save(name: str, success: Success, save: Save) -> None:
    """A Save button's callback: save from the draft, or keep the errors beside it."""
    draft = find_draft(name)
    if draft is None:
        return
    draft.take_widgets()
    if not draft.dirty:  # a save of the record as it stands would only add noise to History
        draft.errors = {}
        flash("Nothing to save: the form shows the record as it is stored.")
        return
    values, version = draft.values, draft.version or 0
    if not save_from_draft(draft, lambda db, actor: save(db, actor, values, version)):
        return
    message = success if isinstance(success, str) else success(draft.values)
    # This form starts again from the saved record; the other one (disjoint fields of
    # the same record) keeps any unsaved edits, based on the record's new version.
    FormDraft.discard(name)
    FormDraft.rebase(STATUS if name == INTAKE else INTAKE)
    flash(message)


def _notices(draft: FormDraft, detail: CoupleDetail, name: str) -> None:
    """A conflict, a record changed under the edits, or unsaved edits kept from earlier."""
    if draft.conflict:
        st.error(draft.conflict, icon=":material/sync_problem:")
    if draft.version != detail.version:
        st.warning(
            "This couple's record was changed after you started these edits. Saving them "
            "now will be refused.",
            icon=":material/sync_problem:",
        )
        st.button(
            "Load the latest version (discards your unsaved edits)",
            key=f"reload_{name}",
            on_click=FormDraft.discard,
            args=(name,),
        )
    elif draft.dirty:
        when = f" since {fmt_time(draft.changed_at)}" if draft.changed_at else ""
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.caption(f"You have unsaved changes{when}.")
        right.button(
            "Discard my changes",
            key=f"discard_{name}",
            on_click=FormDraft.discard,
            args=(name,),
            icon=":material/undo:",
        )


def keep_drafts(detail: CoupleDetail, drawn: str) -> None:
    """Before the open tab is drawn: what was typed in either form goes into its draft,
    and only the form drawn this run (`drawn` is INTAKE, STATUS or neither) keeps its
    values in widget state.

    The page draws only the tab in view. A form left for another tab still has its
    widgets' last values in session state during this run: taken now, they wait in the
    draft; out of widget state, Streamlit cannot hand a stale one back later
    (FormDraft.draw_only).
    """
    if not detail.can_edit:
        return
    target = f"couple:{detail.couple_id}"
    for name, values in ((INTAKE, _intake_values(detail)), (STATUS, _status_values(detail))):
        draft = FormDraft.open(name, target, values, detail.version, put_back=False)
        draft.draw_only(lambda _key, name=name: name == drawn)


def intake_form(detail: CoupleDetail) -> None:
    """Partners, intake date, presenting concerns and goals."""
    if not detail.can_edit:
        st.markdown(
            f"**Partner A:** {md_text(detail.partner_a_name)}  \n"
            f"**Partner B:** {md_text(detail.partner_b_name)}"
        )
        st.markdown("**Presenting concerns**")
        st.text(detail.presenting_concerns or "—")
        st.markdown("**Goals**")
        st.text(detail.goals or "—")
        return
    draft = FormDraft.open(
        INTAKE, f"couple:{detail.couple_id}", _intake_values(detail), detail.version
    )
    _notices(draft, detail, INTAKE)
    errors = draft.errors
    c1, c2, c3 = st.columns(3)
    with c1:
        st.text_input("Partner A", key="cf_a", max_chars=NAME_MAX)
        field_error(errors, "partner_a_name")
    with c2:
        st.text_input("Partner B", key="cf_b", max_chars=NAME_MAX)
        field_error(errors, "partner_b_name")
    with c3:
        st.date_input("Intake date", key="cf_intake", format="DD/MM/YYYY")
        field_error(errors, "intake_date")
    saved = {"presenting_concerns": detail.presenting_concerns, "goals": detail.goals}
    for field, (key, clear_key) in _TEXTS.items():
        label = COUPLE_TEXTS[field]
        st.text_area(label.capitalize(), key=key, max_chars=INTAKE_TEXT_MAX)
        if saved[field].strip():
            st.checkbox(
                f"Clear {label}",
                key=clear_key,
                help="Tick to empty this on purpose; the earlier text stays in History.",
            )
        field_error(errors, field)
    st.button(
        "Save intake details",
        type="primary",
        key="save_intake",
        on_click=_run_save,
        args=(INTAKE, "Intake details saved.", partial(_save_intake, detail.couple_id)),
    )


def _save_intake(
    couple_id: int, db: DbSession, actor: Actor, v: dict[str, Any], version: int
) -> None:
    couples.update_couple(
        db,
        actor,
        couple_id,
        CoupleInput(
            v["cf_a"],
            v["cf_b"],
            v["cf_intake"],
            v["cf_concerns"],
            v["cf_goals"],
            clear=frozenset(f for f, (_, clear_key) in _TEXTS.items() if v[clear_key]),
        ),
        expected_version=version,
    )


NEW_COUPLE = "new_couple"
NEW_DONE_KEY = "nc_done"  # the new couple's id after a save: the page opens it


def _new_couple_values() -> dict[str, object]:
    return {"nc_a": "", "nc_b": "", "nc_intake": date.today(), "nc_concerns": "", "nc_goals": ""}


@guarded
def _open_new_couple() -> None:
    draft = find_draft(NEW_COUPLE)
    if draft is None:
        return
    draft.take_widgets()
    v = draft.values
    created: list[int] = []

    def save(db: DbSession, actor: Actor) -> None:
        inp = CoupleInput(v["nc_a"], v["nc_b"], v["nc_intake"], v["nc_concerns"], v["nc_goals"])
        created.append(couples.create_couple(db, actor, inp))

    if save_from_draft(draft, save):
        FormDraft.discard(NEW_COUPLE)
        flash("The couple was opened. Log their first session when you have met them.")
        st.session_state[NEW_DONE_KEY] = created[0]


def new_couple_form() -> None:
    """Open a new case on the counselor's caseload; the page then opens the couple."""
    opened = st.session_state.pop(NEW_DONE_KEY, None)
    if opened is not None:
        st.switch_page(COUPLE_PAGE, query_params={"couple": str(opened)})
    draft = FormDraft.open(NEW_COUPLE, "new", _new_couple_values(), put_back=False)
    errors = draft.errors
    # Drawn only while open (the caseload runs on every filter change); what was typed
    # waits in the draft meanwhile, and the form opens by itself while it holds any.
    box = st.expander(
        "Open a new couple",
        expanded=bool(errors) or draft.dirty,
        icon=":material/add:",
        key="nc_box",
        on_change="rerun",
    )
    draft.draw_only(lambda _key: bool(box.open))
    if not box.open:
        return
    with box:
        if draft.conflict:
            st.error(draft.conflict)
        c1, c2, c3 = st.columns(3)
        with c1:
            st.text_input(
                "Partner A", key="nc_a", max_chars=NAME_MAX, help="Display name or initials"
            )
            field_error(errors, "partner_a_name")
        with c2:
            st.text_input(
                "Partner B", key="nc_b", max_chars=NAME_MAX, help="Display name or initials"
            )
            field_error(errors, "partner_b_name")
        with c3:
            st.date_input("Intake date", key="nc_intake", format="DD/MM/YYYY")
            field_error(errors, "intake_date")
        st.text_area("Presenting concerns", key="nc_concerns", max_chars=INTAKE_TEXT_MAX)
        field_error(errors, "presenting_concerns")
        st.text_area("Goals", key="nc_goals", max_chars=INTAKE_TEXT_MAX)
        field_error(errors, "goals")
        st.button("Open couple", type="primary", key="nc_open", on_click=_open_new_couple)


def status_form(detail: CoupleDetail) -> None:
    """Pause, close (with a reason) or reopen the case."""
    st.markdown(f"**Status:** {md_text(detail.status_text)}")
    if detail.status_changed_at:
        st.caption(f"Changed {clinic_day(detail.status_changed_at):%d %b %Y}")
    if not detail.can_edit:
        return
    draft = FormDraft.open(
        STATUS, f"couple:{detail.couple_id}", _status_values(detail), detail.version
    )
    _notices(draft, detail, STATUS)
    errors = draft.errors
    st.radio(
        "Status",
        [s.value for s in CoupleStatus],
        key="cf_status",
        format_func=lambda s: STATUS_LABELS[CoupleStatus(s)],
        horizontal=True,
    )
    field_error(errors, "status")
    st.selectbox(
        "Closing reason (when closing)",
        list(CLOSING_REASONS),
        key="cf_reason",
        index=None,
        format_func=CLOSING_REASONS.get,
        placeholder="Choose a reason",
    )
    field_error(errors, "closing_reason")
    st.text_input("Note", key="cf_note", max_chars=STATUS_NOTE_MAX, help="Why, in a few words")
    field_error(errors, "status_note")
    st.button(
        "Save status",
        key="save_status",
        on_click=_run_save,
        args=(STATUS, _status_saved, partial(_save_status, detail.couple_id)),
    )


def _status_saved(values: dict[str, Any]) -> str:
    return f"Status is now {STATUS_LABELS[CoupleStatus(values['cf_status'])].lower()}."


def _save_status(
    couple_id: int, db: DbSession, actor: Actor, v: dict[str, Any], version: int
) -> None:
    couples.change_status(
        db,
        actor,
        couple_id,
        new_status=v["cf_status"],
        closing_reason=v["cf_reason"],
        note=v["cf_note"] or "",
        expected_version=version,
    )


def history(detail: CoupleDetail) -> None:
    """Every earlier change to the record, with the full earlier text and a way back."""
    if not detail.history:
        st.caption("No changes since the couple was opened.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {"When": clinic_moment(c.when), "Who": c.who, "What changed": c.what}
                for c in detail.history
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"When": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
    )
    restore_error = st.session_state.pop("_restore_error", None)
    if restore_error:
        st.error(restore_error, icon=":material/sync_problem:")
    replaced = [c for c in detail.history if c.earlier_texts]
    if not replaced:
        return
    st.markdown("**Earlier text**")
    for change in replaced:
        with st.expander(
            f"Before the change of {clinic_time(change.when)} by {md_text(change.who)}"
        ):
            for field, text in change.earlier_texts:
                st.markdown(f"**{COUPLE_TEXTS[field].capitalize()}**")
                st.text(text or "(empty)")
                if detail.can_edit:
                    st.button(
                        f"Restore these {COUPLE_TEXTS[field]}",
                        key=f"restore_{change.amendment_id}_{field}",
                        on_click=_run_restore,
                        args=(detail, change, field),
                    )


@guarded
def _run_restore(detail: CoupleDetail, change: CoupleChange, field: str) -> None:
    actor = verified_actor()
    if actor is None:
        return
    try:
        with db_session() as db:
            couples.restore_couple_text(
                db,
                actor,
                detail.couple_id,
                amendment_id=change.amendment_id,
                field=field,
                expected_version=detail.version,
            )
    except ServiceError as exc:
        st.session_state["_restore_error"] = str(exc)
        return
    FormDraft.discard(INTAKE)  # the intake text changed: show it as stored
    FormDraft.rebase(STATUS)
    flash(f"The earlier {COUPLE_TEXTS[field]} are back; the text they replaced is in History.")
