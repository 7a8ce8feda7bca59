"""The timeline's questionnaire results: plain words by name, a sentence where a result
disagrees with the index, and the statistics one click away."""

from __future__ import annotations

import streamlit as st

from dashboard.domain import workings
from dashboard.domain.plain_words import change_words
from dashboard.services.timeline import TimelineView
from dashboard.ui.widgets import md_text


def instrument_results(view: TimelineView, name_a: str, name_b: str) -> None:
    """Each questionnaire each partner answered twice or more, in the timeline's words
    (as the report's table says them). Names and sentences carrying them are typed text:
    shown through md_text."""
    data, trajectory = view.data, view.trajectory
    names = {"A": name_a, "B": name_b}
    index = {"A": trajectory.partner_a.change, "B": trajectory.partner_b.change}
    results = sorted(view.instrument_changes.items())
    statistics = []
    for (code, partner), change in results:
        scale = data.instrument_scales.get(code)
        instrument = scale.name if scale is not None else code
        who = names[partner]
        note = view.instrument_notes.get((code, partner), "")
        words = change_words(change) + (f"; {note}" if note else "")
        st.markdown(f"**{md_text(instrument)}, {md_text(who)}:** {md_text(words)}.")
        differ = workings.why_they_differ(instrument, who, change, index[partner])
        if differ:
            st.markdown(md_text(differ))
        statistics.append(workings.statistics_of(instrument, who, change))
    for (code, partner), note in sorted(view.instrument_notes.items()):
        if (code, partner) not in view.instrument_changes:  # never twice from one source
            scale = data.instrument_scales.get(code)
            instrument = scale.name if scale is not None else code
            st.markdown(
                f"**{md_text(instrument)}, {md_text(names[partner])}:** "
                f"{md_text('not yet measurable; ' + note)}."
            )
    for scale in data.instrument_scales.values():
        st.caption(md_text(f"{scale.name}: {scale.reliable_change_label}."))
    if not results:
        return
    with st.expander("How the questionnaire results were worked out", icon=":material/calculate:"):
        st.markdown("  \n".join(md_text(line + ".") for line in statistics))
        for code in data.instrument_scales:
            params = view.norms.instruments.get(code)
            if params is not None:
                st.markdown(md_text(params.describe() + "."))
                st.caption(md_text(workings.norms_line(params)))
        st.caption(md_text(workings.GLOSSARY))
