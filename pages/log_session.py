"""Log session: the full session form of DOMAIN.md, for a new session or an edit.

Attendance sits above the form because it decides what the form asks for (whose
ratings, whether a stage or a private note applies). Every other field is in one
st.form, keyed, so what the counselor typed survives a refused save.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import (
    ADHERENCE,
    ATTENDANCE_LABELS,
    FORMAT_LABELS,
    FRAMEWORK_NOTE,
    HABIT_BY_KEY,
    HABITS,
    INDICATORS,
    SEVERITIES,
    STAGES,
    Attendance,
    IndicatorKind,
    SessionFormat,
    stage_label,
)
from dashboard.domain.validation import (
    BARRIER_NOTE_MAX,
    NOTE_SECTION_MAX,
    PRIVATE_NOTE_MAX,
    SAFETY_NOTE_MAX,
    BarrierTag,
    SessionInput,
)
from dashboard.services import couples, sessions
from dashboard.services.errors import AccessDenied, EditConflict, ServiceError, ValidationFailed
from dashboard.services.sessions import SessionForm
from dashboard.ui.auth import verified_actor
from dashboard.ui.db import db_session
from dashboard.ui.widgets import (
    CASELOAD_PAGE,
    COUPLE_PAGE,
    current_actor,
    field_error,
    first_view,
    flash,
    fmt_date,
    md_escape,
    query_int,
    refuse,
)

PREFIX = "sf_"
NOT_PRESENT = 0  # severity choice meaning "this barrier is not tagged"
NOT_RECORDED = -1  # adherence choice meaning "not asked about this time"
actor = current_actor()
state = st.session_state

done = state.pop("sf_done", None)
if done:
    couple_id_done, message = done
    flash(message)
    st.switch_page(COUPLE_PAGE, query_params={"couple": str(couple_id_done)})

session_id = query_int("session")
couple_id = query_int("couple") or state.get("couple_id")


def _pick_couple() -> None:
    """No couple chosen yet: let a counselor pick one of their active couples."""
    st.title("Log session")
    if not actor.is_counselor:
        st.info("Open a session from a couple's page.")
        st.page_link(CASELOAD_PAGE, label="Go to the caseload", icon=":material/groups:")
        st.stop()
    with db_session() as db:
        frame = couples.list_caseload(
            db, actor, statuses=["active"], record_view=first_view("pick-couple")
        )
    if frame.empty:
        st.info("You have no active couples. Open a couple on My caseload first.")
        st.stop()
    labels = dict(
        zip(frame["couple_id"], frame["case_code"] + " · " + frame["partners"], strict=True)
    )
    chosen = st.selectbox(
        "Couple", list(labels), format_func=labels.get, index=None, placeholder="Choose a couple"
    )
    if chosen is not None:
        st.switch_page("pages/log_session.py", query_params={"couple": str(chosen)})
    st.stop()


try:
    with db_session() as db:
        if session_id is not None:
            form = sessions.session_form(
                db, actor, session_id, write=False, record_view=first_view(f"session:{session_id}")
            )
        elif couple_id is not None and actor.is_counselor:
            form = sessions.new_session_form(
                db, actor, int(couple_id), record_view=first_view(f"new-session:{couple_id}")
            )
        else:
            form = None
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
    refuse("Session", str(exc))

if form is None:
    _pick_couple()
    st.stop()

state["couple_id"] = form.couple_id
partners = {"A": form.partner_a_name, "B": form.partner_b_name}


def _back_link() -> None:
    st.page_link(
        COUPLE_PAGE,
        label=f"Back to {form.case_code}",
        icon=":material/arrow_back:",
        query_params={"couple": str(form.couple_id)},
    )


def _read_only(form: SessionForm) -> None:
    """A supervisor's or admin's view of a session: everything, nothing editable."""
    v = form.values
    assert v is not None
    st.title(f"Session of {fmt_date(v.session_date)}")
    st.caption(
        f"{form.case_code} · {md_escape(form.partner_a_name)} & {md_escape(form.partner_b_name)}"
    )
    st.info(
        "Read-only: only the assigned counselor changes this session.", icon=":material/visibility:"
    )
    _back_link()
    st.markdown(
        f"**Attendance:** {ATTENDANCE_LABELS[Attendance(v.attendance)]} · "
        f"**Format:** {FORMAT_LABELS[SessionFormat(v.format)]} · "
        f"**Length:** {v.duration_minutes or '—'} min · **Stage:** {stage_label(v.stage)}"
    )
    for label, text in (
        ("Data", v.note_data),
        ("Assessment", v.note_assessment),
        ("Plan", v.note_plan),
    ):
        st.markdown(f"**{label}**")
        st.text(text or "—")
    names = {b.barrier_id: b.name for b in form.barriers}
    if v.barriers:
        st.markdown("**Barriers**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Barrier": names.get(t.barrier_id, "?"),
                        "Severity": SEVERITIES[t.severity or 1],
                        "Note": t.note,
                    }
                    for t in v.barriers
                ]
            ),
            hide_index=True,
        )
    st.markdown("**Indicator ratings**")
    st.dataframe(_ratings_frame(v), hide_index=True)
    st.markdown(
        "**Habits assigned:** "
        + (", ".join(HABIT_BY_KEY[h].label for h in v.habits_assigned) or "none")
    )
    if v.safety_flag:
        st.error(f"Safety flag: {md_escape(v.safety_note)}", icon=":material/warning:")
    if v.private_note:
        st.markdown("**Private note (individual session)**")
        st.text(v.private_note)
    _amendments(form)


def _ratings_frame(v: SessionInput) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Indicator": i.label,
                "Kind": "Warning sign" if i.kind is IndicatorKind.WARNING else "Sign",
                f"A · {form.partner_a_name}": v.ratings.get("A", {}).get(i.key),
                f"B · {form.partner_b_name}": v.ratings.get("B", {}).get(i.key),
            }
            for i in INDICATORS
        ]
    ).astype({f"A · {form.partner_a_name}": "Int64", f"B · {form.partner_b_name}": "Int64"})


def _amendments(form: SessionForm) -> None:
    if not form.amendments:
        return
    with st.expander(
        f"Earlier versions of this note ({len(form.amendments)})", icon=":material/history:"
    ):
        for a in form.amendments:
            st.markdown(
                f"**Version {a.version}**, replaced {a.amended_at:%d %b %Y %H:%M} UTC by {md_escape(a.amended_by)}"
            )
            st.text(f"Data: {a.note_data}\nAssessment: {a.note_assessment}\nPlan: {a.note_plan}")
            if a.private_note:
                st.text(f"Private note: {a.private_note}")


if not form.can_edit:
    _read_only(form)
    st.stop()


def _init_state(form: SessionForm) -> None:
    """Fill the form's keys from the stored session (or defaults) once per form target."""
    for key in [k for k in state if isinstance(k, str) and k.startswith(PREFIX)]:
        del state[key]
    v = form.values or SessionInput(
        session_date=date.today(),
        duration_minutes=50,
        format=SessionFormat.IN_PERSON.value,
        attendance=Attendance.BOTH.value,
    )
    state["sf_attendance"] = v.attendance
    state["sf_date"] = v.session_date
    state["sf_duration"] = v.duration_minutes
    state["sf_format"] = v.format
    state["sf_stage"] = v.stage
    state["sf_note_data"] = v.note_data
    state["sf_note_assessment"] = v.note_assessment
    state["sf_note_plan"] = v.note_plan
    tags = {t.barrier_id: t for t in v.barriers}
    for b in form.barriers:
        tag = tags.get(b.barrier_id)
        state[f"sf_bar_sev_{b.barrier_id}"] = tag.severity if tag else NOT_PRESENT
        state[f"sf_bar_note_{b.barrier_id}"] = tag.note if tag else ""
    for p in ("A", "B"):
        for i in INDICATORS:
            state[f"sf_r_{p}_{i.key}"] = v.ratings.get(p, {}).get(i.key)
    for inst in form.instruments:
        for p in ("A", "B"):
            state[f"sf_it_{p}_{inst.key}"] = v.instrument_totals.get(p, {}).get(inst.key)
    state["sf_habits"] = list(v.habits_assigned)
    for h in form.open_habits:
        state[f"sf_adh_{h.assignment_id}"] = NOT_RECORDED if h.adherence is None else h.adherence
    state["sf_safety"] = v.safety_flag
    state["sf_safety_note"] = v.safety_note
    state["sf_private"] = v.private_note
    state["sf_errors"] = {}
    state["sf_version"] = form.version  # the version this form's edits are based on


def _collect(form: SessionForm) -> SessionInput:
    attendance = state["sf_attendance"]
    present = {p.value for p in Attendance(attendance).partners_present}
    return SessionInput(
        session_date=state.get("sf_date"),
        duration_minutes=state.get("sf_duration"),
        format=state.get("sf_format"),
        attendance=attendance,
        note_data=state.get("sf_note_data", ""),
        note_assessment=state.get("sf_note_assessment", ""),
        note_plan=state.get("sf_note_plan", ""),
        stage=state.get("sf_stage") if present else None,
        barriers=[
            BarrierTag(
                b.barrier_id,
                state[f"sf_bar_sev_{b.barrier_id}"],
                state.get(f"sf_bar_note_{b.barrier_id}", ""),
            )
            for b in form.barriers
            if present and state.get(f"sf_bar_sev_{b.barrier_id}", NOT_PRESENT) != NOT_PRESENT
        ],
        ratings={
            p: {i.key: _whole(state.get(f"sf_r_{p}_{i.key}")) for i in INDICATORS} for p in present
        },
        habits_assigned=list(state.get("sf_habits", [])) if present else [],
        instrument_totals={
            p: {i.key: state.get(f"sf_it_{p}_{i.key}") for i in form.instruments} for p in present
        },
        adherence={
            h.assignment_id: _recorded(state.get(f"sf_adh_{h.assignment_id}", NOT_RECORDED))
            for h in form.open_habits
        },
        safety_flag=bool(state.get("sf_safety")),
        safety_note=state.get("sf_safety_note", ""),
        private_note=state.get("sf_private", "") if len(present) == 1 else "",
    )


def _recorded(adherence: int) -> int | None:
    return None if adherence == NOT_RECORDED else adherence


def _whole(value: float | int | None) -> int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value  # type: ignore[return-value]


def _save(form: SessionForm) -> None:
    """Form callback: validate and save, or keep the errors for the next draw.

    Callbacks run before the script, so the session is re-checked here: a user
    deactivated or signed out since the form was drawn saves nothing.
    """
    live = verified_actor()
    if live is None:
        state["sf_conflict"] = "You were signed out, so nothing was saved. Log in again."
        return
    inp = _collect(form)
    state["sf_conflict"] = ""
    try:
        with db_session() as db:
            if form.session_id is None:
                sessions.log_session(db, live, form.couple_id, inp)
                message = f"Session of {fmt_date(inp.session_date)} saved."
            else:
                sessions.update_session(
                    db, live, form.session_id, inp, expected_version=state["sf_version"]
                )
                message = f"Changes to the session of {fmt_date(inp.session_date)} saved; the earlier text is kept."
    except ValidationFailed as exc:
        state["sf_errors"] = exc.errors
        return
    except EditConflict as exc:
        state["sf_errors"] = {}
        state["sf_conflict"] = str(exc)
        return
    except ServiceError as exc:
        state["sf_errors"] = {}
        state["sf_conflict"] = str(exc)
        return
    state["sf_target"] = None
    state["sf_done"] = (form.couple_id, message)


# One target per session (not per version): a refused save must keep what was typed.
target = f"edit:{form.session_id}" if form.session_id else f"new:{form.couple_id}"
if state.get("sf_target") != target:
    _init_state(form)
    state["sf_target"] = target

errors: dict[str, str] = state.get("sf_errors", {})
editing = form.session_id is not None
st.title("Edit session" if editing else "Log session")
st.caption(
    f"{form.case_code} · {md_escape(form.partner_a_name)} (A) & {md_escape(form.partner_b_name)} (B)"
)
_back_link()
if state.get("sf_conflict"):
    st.error(state["sf_conflict"], icon=":material/sync_problem:")
elif editing and form.version != state.get("sf_version"):
    st.warning(
        "Someone saved this session after you opened it. Saving now will be refused.",
        icon=":material/sync_problem:",
    )
if (
    editing
    and form.version != state.get("sf_version")
    and st.button("Load the latest version (discards your changes)")
):
    state["sf_target"] = None
    st.rerun()
if errors:
    st.error(
        f"Nothing was saved: {len(errors)} field{'s' if len(errors) > 1 else ''} need attention "
        "(marked in red below). Everything you typed is still here.",
        icon=":material/error:",
    )

st.radio(
    "Who attended",
    [a.value for a in Attendance],
    format_func=lambda a: ATTENDANCE_LABELS[Attendance(a)],
    horizontal=True,
    key="sf_attendance",
)
field_error(errors, "attendance")
attendance = Attendance(state["sf_attendance"])
present = [p.value for p in attendance.partners_present]

with st.form("session_form", border=True):
    c1, c2, c3 = st.columns(3)
    with c1:
        st.date_input("Session date", key="sf_date", format="DD/MM/YYYY", max_value=date.today())
        field_error(errors, "session_date")
    with c2:
        st.number_input(
            "Length (minutes)", key="sf_duration", min_value=0, max_value=240, step=5, value=None
        )
        field_error(errors, "duration_minutes")
    with c3:
        st.selectbox(
            "Format",
            [f.value for f in SessionFormat],
            key="sf_format",
            format_func=lambda f: FORMAT_LABELS[SessionFormat(f)],
        )
        field_error(errors, "format")

    # Every section is always drawn (greyed out when it does not apply), so switching
    # "Who attended" back and forth never throws away what was typed.
    held = attendance.held
    st.subheader("Stage of emotional intimacy")
    if not held:
        st.info(
            "Nobody attended: record what happened in a line. Stage, barriers, ratings and "
            "homework do not apply."
        )
    st.radio(
        "Stage",
        [s.number for s in STAGES],
        key="sf_stage",
        index=None,
        format_func=lambda n: stage_label(n),
        horizontal=True,
        disabled=not held,
        help="; ".join(f"{s.label}: {s.description}" for s in STAGES),
    )
    st.caption(FRAMEWORK_NOTE)
    field_error(errors, "stage")

    st.subheader("DAP note")
    st.text_area(
        "Data", key="sf_note_data", max_chars=NOTE_SECTION_MAX, help="What was observed and said"
    )
    field_error(errors, "note_data")
    st.text_area(
        "Assessment",
        key="sf_note_assessment",
        max_chars=NOTE_SECTION_MAX,
        help="Your clinical reading of it",
    )
    field_error(errors, "note_assessment")
    st.text_area(
        "Plan", key="sf_note_plan", max_chars=NOTE_SECTION_MAX, help="Next steps and homework"
    )
    field_error(errors, "note_plan")

    st.subheader("Barriers")
    st.caption("Tag the barriers in the way today, with severity; leave the rest at 'Not present'.")
    field_error(errors, "barriers")
    for b in form.barriers:
        b1, b2, b3 = st.columns([2, 1.4, 3])
        b1.markdown(
            f"**{md_escape(b.name)}**" + ("" if b.active else " (retired)"),
            help=b.description or None,
        )
        b2.selectbox(
            "Severity",
            [NOT_PRESENT, *SEVERITIES],
            key=f"sf_bar_sev_{b.barrier_id}",
            format_func=lambda s: "Not present" if s == NOT_PRESENT else f"{s} · {SEVERITIES[s]}",
            label_visibility="collapsed",
            disabled=not held,
        )
        b3.text_input(
            "Note",
            key=f"sf_bar_note_{b.barrier_id}",
            max_chars=BARRIER_NOTE_MAX,
            placeholder="Short note (optional)",
            label_visibility="collapsed",
            disabled=not held,
        )
        field_error(errors, f"barrier_{b.barrier_id}")

    st.subheader("Intimacy indicators")
    st.caption(
        "Each partner who attended rates each item 0 (not at all) to 10 (completely). "
        "Leave an item blank if it was not rated."
    )
    for column, p in zip(st.columns(2), ("A", "B"), strict=True):
        with column:
            st.markdown(f"**Partner {p} · {md_escape(partners[p])}**")
            if p not in present:
                st.caption("Did not attend: no ratings.")
            field_error(errors, f"ratings_{p}")
            for i in INDICATORS:
                label = i.label + (" (warning sign)" if i.kind is IndicatorKind.WARNING else "")
                st.number_input(
                    label,
                    key=f"sf_r_{p}_{i.key}",
                    min_value=0,
                    max_value=10,
                    step=1,
                    value=None,
                    placeholder="not rated",
                    disabled=p not in present,
                )

    if form.instruments:
        st.subheader("Instrument totals")
        st.caption(
            "Optional: the total score of a validated instrument each partner completed "
            "(totals only; the clinic supplies the forms)."
        )
        for inst in form.instruments:
            name, a_col, b_col = st.columns([2, 1.5, 1.5])
            name.markdown(
                f"**{inst.name}** · {inst.range_label}",
                help=f"{inst.full_name}. {inst.citation}. {inst.licence_note}",
            )
            for column, p in ((a_col, "A"), (b_col, "B")):
                with column:
                    st.number_input(
                        f"Partner {p}",
                        key=f"sf_it_{p}_{inst.key}",
                        min_value=float(inst.total_min),
                        max_value=float(inst.total_max),
                        step=1.0 if inst.decimals == 0 else 10.0**-inst.decimals,
                        format="%.0f" if inst.decimals == 0 else f"%.{inst.decimals}f",
                        value=None,
                        placeholder="not given",
                        disabled=p not in present,
                    )
                    field_error(errors, f"instrument_{p}_{inst.key}")
        for p in ("A", "B"):
            field_error(errors, f"instruments_{p}")

    st.subheader("Nurturing habits")
    st.multiselect(
        "Habits assigned as homework",
        [h.key for h in HABITS],
        key="sf_habits",
        format_func=lambda k: HABIT_BY_KEY[k].label,
        disabled=not held,
    )
    field_error(errors, "habits_assigned")
    if form.open_habits:
        st.markdown(
            f"**Adherence to the habits assigned on {fmt_date(form.open_habits[0].assigned_on)}**"
        )
        for h in form.open_habits:
            st.selectbox(
                h.label,
                [NOT_RECORDED, *ADHERENCE],
                key=f"sf_adh_{h.assignment_id}",
                format_func=lambda a: (
                    "Not recorded" if a == NOT_RECORDED else f"{a} · {ADHERENCE[a]}"
                ),
            )
            field_error(errors, f"adherence_{h.assignment_id}")

    st.subheader("Safety")
    st.checkbox("Safety concern raised in this session", key="sf_safety")
    st.text_area(
        "Safety note",
        key="sf_safety_note",
        max_chars=SAFETY_NOTE_MAX,
        help="Required when the safety flag is set",
    )
    field_error(errors, "safety_note")

    st.subheader("Private note")
    st.caption(
        f"Private to partner {present[0]} ({md_escape(partners[present[0]])}): never printed "
        "in the joint report."
        if attendance.individual
        else "Only for an individual session (one partner attending)."
    )
    st.text_area(
        "Private note",
        key="sf_private",
        max_chars=PRIVATE_NOTE_MAX,
        label_visibility="collapsed",
        disabled=not attendance.individual,
    )
    field_error(errors, "private_note")

    st.form_submit_button(
        "Save changes" if editing else "Save session", type="primary", on_click=_save, args=(form,)
    )

if editing:
    _amendments(form)
