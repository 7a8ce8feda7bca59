"""A session shown read-only (supervisors, admins) and a note's earlier versions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import (
    ATTENDANCE_LABELS,
    FORMAT_LABELS,
    HABIT_BY_KEY,
    INDICATORS,
    SEVERITIES,
    Attendance,
    IndicatorKind,
    SessionFormat,
    stage_label,
)
from dashboard.domain.validation import SessionInput
from dashboard.services.sessions import SessionForm
from dashboard.ui.clinic_time import clinic_time
from dashboard.ui.widgets import COUPLE_PAGE, fmt_date, md_text

EMPTY = "—"


def back_link(form: SessionForm) -> None:
    st.page_link(
        COUPLE_PAGE,
        label=f"Back to {form.case_code}",
        icon=":material/arrow_back:",
        query_params={"couple": str(form.couple_id)},
    )


def ratings_frame(form: SessionForm, v: SessionInput) -> pd.DataFrame:
    """Both partners' ratings item by item; an item not rated reads as a dash."""

    def cell(partner: str, key: str) -> str:
        value = v.ratings.get(partner, {}).get(key)
        if value is None:
            return EMPTY
        own = form.self_reports.get(partner)
        return f"{value} (self-report)" if own and key in own.ratings else str(value)

    return pd.DataFrame(
        [
            {
                "Indicator": i.label,
                "Kind": "Warning sign" if i.kind is IndicatorKind.WARNING else "Sign",
                f"A · {form.partner_a_name}": cell("A", i.key),
                f"B · {form.partner_b_name}": cell("B", i.key),
            }
            for i in INDICATORS
        ]
    )


def read_only(form: SessionForm) -> None:
    """A supervisor's or admin's view of a session: everything, nothing editable."""
    v = form.values
    assert v is not None
    st.title(f"Session of {fmt_date(v.session_date)}")
    st.caption(
        f"{form.case_code} · {md_text(form.partner_a_name)} & {md_text(form.partner_b_name)}"
    )
    st.info(
        "Read-only: only the assigned counselor changes this session.", icon=":material/visibility:"
    )
    back_link(form)
    st.markdown(
        f"**Attendance:** {ATTENDANCE_LABELS[Attendance(v.attendance)]} · "
        f"**Format:** {FORMAT_LABELS[SessionFormat(v.format)]} · "
        f"**Length:** {v.duration_minutes or EMPTY} min · **Stage:** {stage_label(v.stage)}"
    )
    for label, text in (
        ("Data", v.note_data),
        ("Assessment", v.note_assessment),
        ("Plan", v.note_plan),
    ):
        st.markdown(f"**{label}**")
        st.text(text or EMPTY)
    names = {b.barrier_id: b.name for b in form.barriers}
    if v.barriers:
        st.markdown("**Barriers**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Barrier": names.get(t.barrier_id, "?"),
                        "Severity": SEVERITIES[t.severity or 1],
                        "Note": t.note or "",
                    }
                    for t in v.barriers
                ]
            ),
            hide_index=True,
        )
    st.markdown("**Indicator ratings**")
    st.dataframe(ratings_frame(form, v), hide_index=True)
    st.markdown(
        "**Habits assigned:** "
        + (", ".join(HABIT_BY_KEY[h].label for h in v.habits_assigned) or "none")
    )
    if v.safety_flag:
        st.error("Safety flag raised at this session.", icon=":material/warning:")
        st.text(v.safety_note or EMPTY)
    if v.private_note:
        st.markdown("**Private note (individual session)**")
        st.text(v.private_note)
    amendments(form)


def amendments(form: SessionForm) -> None:
    """The note as it stood before each edit: nothing written is ever lost."""
    if not form.amendments:
        return
    with st.expander(
        f"Earlier versions of this note ({len(form.amendments)})", icon=":material/history:"
    ):
        for a in form.amendments:
            which = "Before the first save" if a.version == 0 else f"Version {a.version}"
            st.markdown(
                f"**{which}**, replaced {clinic_time(a.amended_at)} by {md_text(a.amended_by)}"
            )
            if a.reason:
                st.caption("Why a partner's own check-in answers were changed:")
                st.text(a.reason)
            st.text(f"Data: {a.note_data}\nAssessment: {a.note_assessment}\nPlan: {a.note_plan}")
            if a.private_note:
                st.text(f"Private note: {a.private_note}")
