"""The session form's sections, each the widgets of one step of the form.

Every widget is keyed; its value comes from the form's draft (see form_state), so a
section can be left and come back to, on this page or after a trip to another.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard.charts.common import attendance_words
from dashboard.domain.catalog import (
    ADHERENCE,
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
from dashboard.domain.check_in import OVERRIDE_REASON_MAX
from dashboard.domain.validation import (
    BARRIER_NOTE_MAX,
    NOTE_SECTION_MAX,
    PRIVATE_NOTE_MAX,
    SAFETY_NOTE_MAX,
    SESSION_TEXTS,
)
from dashboard.services.sessions import SessionForm
from dashboard.ui.clinic_time import clinic_time
from dashboard.ui.form_state import find_draft
from dashboard.ui.widgets import field_error, fmt_date, md_text

FORM_NAME = "session"  # the session form's draft (dashboard/ui/session_form.py)
# Said in the label itself, so a screen reader hears it with the field's name too.
REQUIRED = " (required)"
NOT_PRESENT = 0  # severity choice meaning "this barrier is not tagged"
NOT_RECORDED = -1  # adherence choice meaning "not asked about this time"
TEXT_KEYS = {
    "note_data": "sf_note_data",
    "note_assessment": "sf_note_assessment",
    "note_plan": "sf_note_plan",
    "safety_note": "sf_safety_note",
    "private_note": "sf_private",
}


def clear_tick(form: SessionForm, field: str) -> None:
    """Next to saved text: the only way an edit may empty it."""
    saved = getattr(form.values, field, "") if form.values else ""
    if saved and saved.strip():
        st.checkbox(
            f"Clear {SESSION_TEXTS[field]}",
            key=f"sf_clear_{field}",
            help="Tick to empty this on purpose; the earlier text stays in the note's history.",
        )


def required_if(label: str, needed: bool) -> str:
    """A field's label, marked when the save would refuse it empty (domain/validation.py
    asks these of a session that was held), so nobody learns it from a refused save."""
    return label + REQUIRED if needed else label


def note_section(form: SessionForm, attendance: Attendance, errors: dict[str, str]) -> None:
    held = attendance.held
    if held:
        st.caption("Fields marked (required) must be filled before the session can be saved.")
    st.radio(
        "Who attended",
        [a.value for a in Attendance],
        # The partners by name ("Leyla only"); a radio's option is markdown, so literal.
        format_func=lambda a: md_text(
            attendance_words(a, form.partner_a_name, form.partner_b_name)
        ),
        horizontal=True,
        key="sf_attendance",
    )
    field_error(errors, "attendance")
    c1, c2, c3 = st.columns(3)
    with c1:
        st.date_input(
            required_if("Session date", True),
            key="sf_date",
            format="DD/MM/YYYY",
            max_value=date.today(),
        )
        field_error(errors, "session_date")
    with c2:
        st.number_input(
            required_if("Length (minutes)", held),
            key="sf_duration",
            min_value=0,
            max_value=240,
            step=5,
            value=None,
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
    if not attendance.held:
        st.info(
            "Nobody attended: record what happened in a line. Stage, barriers, ratings and "
            "homework do not apply."
        )
    st.header("DAP note", anchor=False)
    for field, label, help_text in (
        ("note_data", "Data", "What was observed and said"),
        ("note_assessment", "Assessment", "Your clinical reading of it"),
        ("note_plan", "Plan", "Next steps and homework"),
    ):
        st.text_area(
            required_if(label, held),
            key=TEXT_KEYS[field],
            max_chars=NOTE_SECTION_MAX,
            help=help_text,
        )
        clear_tick(form, field)
        field_error(errors, field)
    present = [p.value for p in attendance.partners_present]
    st.header("Private note", anchor=False)
    st.caption(
        f"Private to partner {present[0]} "
        f"({md_text(form.partner_a_name if present[0] == 'A' else form.partner_b_name)}): "
        "never printed in the joint report."
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
    clear_tick(form, "private_note")
    field_error(errors, "private_note")


def stage_section(form: SessionForm, attendance: Attendance, errors: dict[str, str]) -> None:
    held = attendance.held
    if not held:
        st.info("Nobody attended: no stage or barriers to record.")
    st.radio(
        required_if("Stage of emotional intimacy", held),
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
    st.header("Barriers", anchor=False)
    st.caption("Tag the barriers in the way today, with severity; leave the rest at 'Not present'.")
    field_error(errors, "barriers")
    for b in form.barriers:
        # The name and what it means in sight (a tooltip's button was only called
        # "Help"), then its two boxes, wide enough at 800 px to read "Not present".
        line = f"**{md_text(b.name)}**" + ("" if b.active else " (retired)")
        st.markdown(line + (f" · {md_text(b.description)}" if b.description else ""))
        b2, b3 = st.columns([2, 3])
        # The label is hidden (the name stands above it) but is what a screen reader
        # says: "Severity of Criticism", not four times "Severity".
        b2.selectbox(
            f"Severity of {md_text(b.name)}",
            [NOT_PRESENT, *SEVERITIES],
            key=f"sf_bar_sev_{b.barrier_id}",
            format_func=lambda s: "Not present" if s == NOT_PRESENT else f"{s} · {SEVERITIES[s]}",
            label_visibility="collapsed",
            disabled=not held,
        )
        b3.text_input(
            f"Note on {md_text(b.name)}",
            key=f"sf_bar_note_{b.barrier_id}",
            max_chars=BARRIER_NOTE_MAX,
            placeholder="Short note (optional)",
            label_visibility="collapsed",
            disabled=not held,
        )
        field_error(errors, f"barrier_{b.barrier_id}")


def _put_own_answers_back(form: SessionForm, p: str) -> None:
    """Switching "Change" off again brings back the partner's own answers exactly."""
    if st.session_state.get(f"sf_override_{p}"):
        return
    own = form.self_reports[p]
    back: dict[str, object] = {f"sf_r_{p}_{k}": v for k, v in own.ratings.items()}
    back |= {f"sf_it_{p}_{k}": v for k, v in own.totals.items()}
    back[f"sf_override_reason_{p}"] = ""
    draft = find_draft(FORM_NAME)
    for key, value in back.items():
        if draft is not None and key in draft.values:
            draft.values[key] = value
        if key in st.session_state:
            st.session_state[key] = value


def _own_answers(form: SessionForm, p: str, name: str, errors: dict[str, str]) -> bool:
    """A partner's own check-in answers: said so, their note shown, and locked unless
    the counselor says why they change them. True while the answers may be changed."""
    own = form.self_reports.get(p)
    if own is None:
        return True
    when = f" on {clinic_time(own.answered_at)}" if own.answered_at else ""
    st.info(
        f"Self-report: {md_text(name)} gave these answers in their check-in{when}.",
        icon=":material/smartphone:",
    )
    if own.note:
        st.caption(f"{md_text(name)}'s note for you (never shown to their partner):")
        st.text(own.note)
    changing = st.toggle(
        f"Change {md_text(name)}'s answers",
        key=f"sf_override_{p}",
        help="Their own answers are kept with the session, with your reason.",
        on_change=_put_own_answers_back,
        args=(form, p),
    )
    if changing:
        st.text_input(
            f"Why change {md_text(name)}'s answers?",
            key=f"sf_override_reason_{p}",
            max_chars=OVERRIDE_REASON_MAX,
        )
    field_error(errors, f"override_{p}")
    return changing


def ratings_section(form: SessionForm, attendance: Attendance, errors: dict[str, str]) -> None:
    """One column per partner, so Tab moves down one partner's eight items."""
    present = [p.value for p in attendance.partners_present]
    st.caption(
        "Each partner who attended rates each item 0 (not at all) to 10 (completely). "
        "Leave an item blank if it was not rated."
    )
    partners = {"A": form.partner_a_name, "B": form.partner_b_name}
    for column, p in zip(st.columns(2), ("A", "B"), strict=True):
        with column:
            st.markdown(f"**Partner {p} · {md_text(partners[p])}**")
            if p not in present:
                st.caption("Did not attend: no ratings.")
                editable = False
            else:
                editable = _own_answers(form, p, partners[p], errors)
            field_error(errors, f"ratings_{p}")
            for i in INDICATORS:
                label = i.label + (" (warning sign)" if i.kind is IndicatorKind.WARNING else "")
                st.number_input(
                    f"{label} · {md_text(partners[p])}",  # whose rating, not only which item
                    key=f"sf_r_{p}_{i.key}",
                    min_value=0,
                    max_value=10,
                    step=1,
                    value=None,
                    placeholder="not rated",
                    disabled=not editable,
                )


def habits_section(form: SessionForm, attendance: Attendance, errors: dict[str, str]) -> None:
    present = [p.value for p in attendance.partners_present]
    st.multiselect(
        "Nurturing habits assigned as homework",
        [h.key for h in HABITS],
        key="sf_habits",
        format_func=lambda k: HABIT_BY_KEY[k].label,
        disabled=not attendance.held,
    )
    field_error(errors, "habits_assigned")
    if form.open_habits:
        st.markdown(
            f"**Adherence to the habits assigned on {fmt_date(form.open_habits[0].assigned_on)}**"
        )
        for h in form.open_habits:
            st.selectbox(
                f"Adherence: {h.label}",
                [NOT_RECORDED, *ADHERENCE],
                key=f"sf_adh_{h.assignment_id}",
                format_func=lambda a: (
                    "Not recorded" if a == NOT_RECORDED else f"{a} · {ADHERENCE[a]}"
                ),
            )
            field_error(errors, f"adherence_{h.assignment_id}")
    if not form.instruments:
        return
    st.header("Instrument totals", anchor=False)
    st.caption(
        "Optional: the total score of a validated instrument each partner completed "
        "(totals only; the clinic supplies the forms)."
    )
    partners = {"A": form.partner_a_name, "B": form.partner_b_name}
    for inst in form.instruments:
        name, a_col, b_col = st.columns([1, 2, 2])  # "not given" whole at 800 px
        name.markdown(f"**{inst.name}** · {inst.range_label}")
        for column, p in ((a_col, "A"), (b_col, "B")):
            with column:
                st.number_input(
                    f"{inst.name} · {md_text(partners[p])}",
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
    # One named control for what a tooltip a row said (each was a button called "Help").
    with st.expander("About these instruments"):
        for inst in form.instruments:
            st.markdown(f"**{inst.name}**: {inst.full_name}. {inst.citation}. {inst.licence_note}")


def safety_section(form: SessionForm, errors: dict[str, str]) -> None:
    st.checkbox("Safety concern raised in this session", key="sf_safety")
    st.text_area(
        required_if("Safety note", bool(st.session_state.get("sf_safety"))),
        key="sf_safety_note",
        max_chars=SAFETY_NOTE_MAX,
        help="Required when the safety flag is set",
    )
    clear_tick(form, "safety_note")
    field_error(errors, "safety_note")
