"""The Admin page's Clinic norms tab: the version in use per measure and how v1 was
made; on request, the norms computed now and whose status they would move; Publish."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain import norms as rules
from dashboard.services import couple_summaries, norms
from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui.auth import verified_actor
from dashboard.ui.db import db_session
from dashboard.ui.errors import guarded
from dashboard.ui.widgets import flash, md_text


def _table(found: norms.ClinicNorms) -> pd.DataFrame:
    measures = [found.eii, *found.instruments.values()]
    return pd.DataFrame([rules.summary_row(p) for p in measures if p.source != "published"])


def draw(actor: Actor) -> None:
    st.caption(
        "Every status, chart, table and report is judged with the clinic norms version in "
        "use and names it. New intakes do not change them: a new version is published here."
    )
    with db_session() as db:
        status = norms.norms_status(db, actor)
    current = status.current
    if current.version is None:
        st.info(md_text(f"In use: {current.label}."))
    else:
        st.markdown("**" + md_text(f"In use: {current.label}.") + "**")
        lines = []
        in_use = status.stored.get("eii")
        if in_use is not None and in_use.version != 1:
            lines.append(norms.when_made(in_use))
        if status.first is not None:
            first = norms.when_made(status.first)
            if status.first.published_by is None:
                # An existing clinic's v1 came from the intakes it had: nothing changed.
                first += (
                    " (from the intakes the clinic had then, so no result changed when "
                    "versions began)"
                )
            lines.append(first)
        st.caption(md_text("; ".join(lines) + "."))
        st.dataframe(_table(current), hide_index=True, width="stretch")
        st.caption(md_text(current.eii.describe() + "."))

    if not st.toggle(
        "Work out new norms from every intake now, and what they would change",
        key="norms_preview",
        help="Reads every intake and judges every partner twice: a few seconds in a large clinic.",
    ):
        return
    with st.spinner("Working out the norms and every partner's status…"), db_session() as db:
        found = norms.preview(db, actor)
    candidate = found.candidate
    st.markdown("**If published now**")
    st.dataframe(_table(candidate), hide_index=True, width="stretch")
    st.caption(md_text(candidate.eii.describe() + "."))
    st.markdown(
        md_text(
            f"What would change, of {found.partners} partners ({found.partners // 2} couples with "
            "sessions) judged on the EII: " + rules.moves_sentence(found.moves)
        )
    )
    next_version = (found.based_on or 0) + 1
    st.button(
        f"Publish as clinic norms v{next_version}",
        type="primary",
        on_click=_publish,
        args=(found.based_on,),
    )
    problem = st.session_state.pop(ERROR_KEY, None)
    if problem:
        st.error(md_text(problem))


ERROR_KEY = "_norms_publish_error"


@guarded
def _publish(based_on: int | None) -> None:
    """The Publish button's callback: before the page draws, so the preview can close."""
    live = verified_actor()  # callbacks run before the page's own check
    if live is None:
        return
    try:
        with db_session() as db:
            published = norms.publish(db, live, expected_version=based_on)
            couple_summaries.rebuild_after_change(db)  # every couple judged anew
    except ValidationFailed as exc:
        st.session_state[ERROR_KEY] = " ".join(exc.errors.values())
        return
    except ServiceError as exc:
        st.session_state[ERROR_KEY] = str(exc)
        return
    flash(
        f"Published {published.label}. Every status, chart and report now uses these "
        "norms and names this version; reports made earlier keep the version they name."
    )
    st.session_state["norms_preview"] = False
