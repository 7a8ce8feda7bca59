"""The session form: a new session or an edit, in sections a counselor moves through.

What the counselor types lives in a `FormDraft` (see form_state), so the form shows the
stored session each time it is opened, and keeps every word through a refused save or
a trip to another page. Each change, and the text fields while they are typed in, is
also kept server-side in versions (see session_drafts), so a closed browser loses
nothing: reopening offers to resume it. No st.form: every change reaches the server,
which is what makes the server-side draft possible.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import streamlit as st

from dashboard.domain.catalog import (
    INDICATORS,
    Attendance,
    SessionFormat,
)
from dashboard.domain.validation import (
    SESSION_TEXTS,
    BarrierTag,
    SessionInput,
)
from dashboard.services import sessions
from dashboard.services.actor import Actor
from dashboard.services.sessions import SessionForm
from dashboard.ui import session_drafts as kept
from dashboard.ui import session_sections as sections
from dashboard.ui.auth import verified_actor
from dashboard.ui.db import DbSession
from dashboard.ui.errors import guarded
from dashboard.ui.form_state import FormDraft, find_draft, save_from_draft
from dashboard.ui.session_sections import NOT_PRESENT, NOT_RECORDED
from dashboard.ui.session_view import amendments, back_link
from dashboard.ui.widgets import (
    CASELOAD_PAGE,
    SESSION_PAGE,
    couple_picker,
    fmt_date,
    md_text,
    plural,
)

NAME = sections.FORM_NAME
DONE_KEY = "sf_done"  # (couple id, message) after a save: the page moves to the couple
SECTION_KEY = "sf_section"
NOTE = "Attendance & note"
STAGE = "Stage & barriers"
RATINGS = "Ratings"
HABITS_TAB = "Habits & instruments"
SAFETY = "Safety"
SECTIONS = (NOTE, STAGE, RATINGS, HABITS_TAB, SAFETY)


def _section_of(field: str) -> str:
    """Which section holds the field an error is about (for the error summary)."""
    if field in {"stage", "barriers"} or field.startswith("barrier_"):
        return STAGE
    if field.startswith(("ratings_", "override_")):
        return RATINGS
    if field in {"habits_assigned"} or field.startswith(("instrument", "adherence_")):
        return HABITS_TAB
    if field == "safety_note":
        return SAFETY
    return NOTE


def section_of_key(key: str) -> str:
    """Which section draws the widget with this draft key (only the open one is drawn)."""
    if key == "sf_stage" or key.startswith("sf_bar_"):
        return STAGE
    if key.startswith(("sf_r_", "sf_override_")):
        return RATINGS
    if key == "sf_habits" or key.startswith(("sf_adh_", "sf_it_")):
        return HABITS_TAB
    if key in {"sf_safety", "sf_safety_note", "sf_clear_safety_note"}:
        return SAFETY
    return NOTE


def stored_values(form: SessionForm) -> dict[str, Any]:
    """The form's widget values for the stored session (or a new one's defaults)."""
    v = form.values or SessionInput(
        session_date=date.today(),
        duration_minutes=50,
        format=SessionFormat.IN_PERSON.value,
        attendance=Attendance.BOTH.value,
    )
    values: dict[str, Any] = {
        "sf_attendance": v.attendance,
        "sf_date": v.session_date,
        "sf_duration": v.duration_minutes,
        "sf_format": v.format,
        "sf_stage": v.stage,
        "sf_note_data": v.note_data,
        "sf_note_assessment": v.note_assessment,
        "sf_note_plan": v.note_plan,
        "sf_habits": list(v.habits_assigned),
        "sf_safety": v.safety_flag,
        "sf_safety_note": v.safety_note,
        "sf_private": v.private_note,
    }
    tags = {t.barrier_id: t for t in v.barriers}
    for b in form.barriers:
        tag = tags.get(b.barrier_id)
        values[f"sf_bar_sev_{b.barrier_id}"] = tag.severity if tag else NOT_PRESENT
        values[f"sf_bar_note_{b.barrier_id}"] = tag.note if tag else ""
    for p in ("A", "B"):
        # A new session starts from the partner's own check-in answers, when given.
        own = form.self_reports.get(p) if form.values is None else None
        for i in INDICATORS:
            values[f"sf_r_{p}_{i.key}"] = (
                own.ratings.get(i.key) if own else v.ratings.get(p, {}).get(i.key)
            )
        for inst in form.instruments:
            values[f"sf_it_{p}_{inst.key}"] = (
                own.totals.get(inst.key) if own else v.instrument_totals.get(p, {}).get(inst.key)
            )
        values[f"sf_override_{p}"] = False
        values[f"sf_override_reason_{p}"] = ""
    for h in form.open_habits:
        values[f"sf_adh_{h.assignment_id}"] = NOT_RECORDED if h.adherence is None else h.adherence
    for field in SESSION_TEXTS:
        values[f"sf_clear_{field}"] = False
    return values


def _whole(value: float | int | None) -> int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value  # type: ignore[return-value]


def collect(form: SessionForm, v: dict[str, Any]) -> SessionInput:
    """The SessionInput the values stand for (fields that do not apply left out)."""
    attendance = v["sf_attendance"]
    present = {p.value for p in Attendance(attendance).partners_present}
    adherence = {h.assignment_id: v[f"sf_adh_{h.assignment_id}"] for h in form.open_habits}
    return SessionInput(
        session_date=v["sf_date"],
        duration_minutes=v["sf_duration"],
        format=v["sf_format"],
        attendance=attendance,
        note_data=v["sf_note_data"] or "",
        note_assessment=v["sf_note_assessment"] or "",
        note_plan=v["sf_note_plan"] or "",
        stage=v["sf_stage"] if present else None,
        barriers=[
            BarrierTag(
                b.barrier_id,
                v[f"sf_bar_sev_{b.barrier_id}"],
                v[f"sf_bar_note_{b.barrier_id}"] or "",
            )
            for b in form.barriers
            if present and v[f"sf_bar_sev_{b.barrier_id}"] != NOT_PRESENT
        ],
        ratings={p: {i.key: _whole(v[f"sf_r_{p}_{i.key}"]) for i in INDICATORS} for p in present},
        habits_assigned=list(v["sf_habits"]) if present else [],
        instrument_totals={
            p: {i.key: v[f"sf_it_{p}_{i.key}"] for i in form.instruments} for p in present
        },
        adherence={k: None if a == NOT_RECORDED else a for k, a in adherence.items()},
        safety_flag=bool(v["sf_safety"]),
        safety_note=v["sf_safety_note"] or "",
        private_note=(v["sf_private"] or "") if len(present) == 1 else "",
        clear=frozenset(f for f in SESSION_TEXTS if v[f"sf_clear_{f}"]),
        self_reports={
            p: r.check_in_partner_id
            for p, r in form.self_reports.items()
            if r.check_in_partner_id is not None
        },
        overrides={p: v[f"sf_override_reason_{p}"] or "" for p in present if v[f"sf_override_{p}"]},
    )


@guarded
def _save(form: SessionForm) -> None:
    """Save button callback: one transaction; on success the page moves to the couple."""
    draft = find_draft(NAME)
    if draft is None:
        return
    draft.take_widgets()
    if form.session_id is not None and not draft.dirty:
        FormDraft.discard(NAME)
        st.session_state[DONE_KEY] = (
            form.couple_id,
            "No changes to save: the session is as stored.",
        )
        return
    inp = collect(form, draft.values)
    version = draft.version or 0

    def save(db: DbSession, actor: Actor) -> None:
        if form.session_id is None:
            sessions.log_session(db, actor, form.couple_id, inp)
        else:
            sessions.update_session(db, actor, form.session_id, inp, expected_version=version)

    if not save_from_draft(draft, save):
        return
    message = (
        f"Session of {fmt_date(inp.session_date)} saved."
        if form.session_id is None
        else f"Changes to the session of {fmt_date(inp.session_date)} saved; the earlier "
        "text is kept."
    )
    FormDraft.discard(NAME)
    live = verified_actor()
    if live is not None:
        kept.saved(form, live)
    st.session_state.pop(SECTION_KEY, None)
    st.session_state[DONE_KEY] = (form.couple_id, message)


def _go_to(section: str) -> None:
    st.session_state[SECTION_KEY] = section


@guarded
def _discard(form: SessionForm) -> None:
    """Throw the typed changes away; the drafts stay listed, restorable (session_drafts)."""
    FormDraft.discard(NAME)
    kept.discard(form)


def pick_couple(actor: Actor) -> None:
    """No couple chosen yet: a counselor picks one of their active couples here."""
    if not actor.is_counselor:
        st.info("Open a session from a couple's page.")
        st.page_link(CASELOAD_PAGE, label="Go to the caseload", icon=":material/groups:")
        return
    kept.unsaved_list(actor)
    couple_picker(SESSION_PAGE, statuses=("active",), label="Which couple is this session with?")


def _header(form: SessionForm, draft: FormDraft) -> None:
    editing = form.session_id is not None
    st.title("Edit session" if editing else "Log session")
    st.caption(
        f"{form.case_code} · {md_text(form.partner_a_name)} (A) & "
        f"{md_text(form.partner_b_name)} (B)"
    )
    back_link(form)
    if draft.conflict:
        st.error(draft.conflict, icon=":material/sync_problem:")
    elif editing and form.version != draft.version:
        st.warning(
            "Someone saved this session after you opened it. Saving now will be refused.",
            icon=":material/sync_problem:",
        )
        st.button(
            "Load the latest version (discards your changes)",
            key="sf_reload",
            on_click=FormDraft.discard,
            args=(NAME,),
        )


def _error_summary(errors: dict[str, str]) -> None:
    """What stops the save, each entry a button that opens the section of its field."""
    if not errors:
        return
    with st.container(border=True):
        st.error(
            f"Nothing was saved: {plural(len(errors), 'field')} "
            f"{'needs' if len(errors) == 1 else 'need'} attention. Everything you typed "
            "is still here.",
            icon=":material/error:",
        )
        ordered = sorted(errors.items(), key=lambda e: SECTIONS.index(_section_of(e[0])))
        for n, (field, message) in enumerate(ordered):
            section = _section_of(field)
            st.button(
                f"{section}: {message}",
                key=f"sf_goto_{n}",
                type="tertiary",
                on_click=_go_to,
                args=(section,),
                icon=":material/arrow_forward:",
            )


def _save_bar(form: SessionForm, draft: FormDraft, actor: Actor, where: str) -> None:
    """Save (and Discard once something changed), at their natural width: a row that
    wraps rather than columns that cut "Save session" short on a narrow window."""
    editing = form.session_id is not None
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.button(
            "Save changes" if editing else "Save session",
            type="primary",
            key=f"sf_save_{where}",
            on_click=_save,
            args=(form,),
            icon=":material/save:",
        )
        # Always drawn (disabled while nothing changed): the row keeps its shape, so the
        # draft keeper beside it is never drawn afresh (which would drop its messages).
        st.button(
            "Discard changes",
            key=f"sf_discard_{where}",
            on_click=_discard,
            args=(form,),
            icon=":material/undo:",
            disabled=not draft.dirty,
        )
        if where == "top":
            kept.live_keeper(form, actor)


def _section_steps(opened: str) -> None:
    """After a section's fields, the previous and next sections are a Tab away (the
    section tabs are above the long fields)."""
    at = SECTIONS.index(opened)
    with st.container(horizontal=True, gap="small"):
        if at > 0:
            st.button(
                f"Back to {SECTIONS[at - 1]}",
                key="sf_step_back",
                on_click=_go_to,
                args=(SECTIONS[at - 1],),
                icon=":material/arrow_back:",
            )
        if at < len(SECTIONS) - 1:
            st.button(
                f"Next: {SECTIONS[at + 1]}",
                key="sf_step_next",
                on_click=_go_to,
                args=(SECTIONS[at + 1],),
                icon=":material/arrow_forward:",
                icon_position="right",
            )


def _check_in_notice(form: SessionForm) -> None:
    """Said at the top of the form: the partners' own check-in answers are in it."""
    if not form.self_reports:
        return
    names = {"A": form.partner_a_name, "B": form.partner_b_name}
    who = " and ".join(md_text(names[p]) for p in sorted(form.self_reports))
    with st.container(horizontal=True, vertical_alignment="center"):
        st.info(
            f"Check-in answers: {who} answered the check-in; their ratings are filled in "
            "on the Ratings tab, locked unless you say why they change.",
            icon=":material/smartphone:",
        )
        st.button("Open Ratings", key="sf_to_ratings", on_click=_go_to, args=(RATINGS,))


def render(form: SessionForm, actor: Actor) -> None:
    """The whole editable form for `form` (the page has checked it may be edited)."""
    target = kept.form_target(form)
    draft = FormDraft.open(NAME, target, stored_values(form), form.version, put_back=False)
    if draft.changed_now:  # kept server-side: what a closed browser would lose
        kept.keep(form, draft, actor, draft.changed_at or datetime.now(UTC))
    _header(form, draft)
    _check_in_notice(form)
    kept.offer_and_list(form, draft, actor)
    errors = draft.errors
    _error_summary(errors)
    _save_bar(form, draft, actor, "top")
    # Only the open section is drawn (a tab switch reruns anyway): a run costs one
    # section's widgets, not the whole form's. A section not drawn loses nothing: its
    # values live in the draft, which puts them back when the section is opened.
    tabs = st.tabs(list(SECTIONS), key=SECTION_KEY, on_change="rerun")
    attendance = Attendance(draft.values["sf_attendance"])
    draw = {
        NOTE: lambda: sections.note_section(form, attendance, errors),
        STAGE: lambda: sections.stage_section(form, attendance, errors),
        RATINGS: lambda: sections.ratings_section(form, attendance, errors),
        HABITS_TAB: lambda: sections.habits_section(form, attendance, errors),
        SAFETY: lambda: sections.safety_section(form, errors),
    }
    opened = next(s for tab, s in zip(tabs, SECTIONS, strict=True) if tab.open)
    draft.draw_only(lambda key: section_of_key(key) == opened)
    with tabs[SECTIONS.index(opened)]:
        draw[opened]()
        _section_steps(opened)
    _save_bar(form, draft, actor, "bottom")
    if form.session_id is not None:
        amendments(form)
