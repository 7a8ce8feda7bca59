"""The Admin page's Expected course tab: the version in use and how v1 was made; on
request the course fitted now from every couple and whose alerts it would move; Publish,
after a confirmation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain import expected_response as er
from dashboard.domain import expected_versions as rules
from dashboard.services import expected
from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui.auth import verified_actor
from dashboard.ui.db import db_session
from dashboard.ui.errors import guarded
from dashboard.ui.widgets import flash, md_text

ERROR_KEY = "_expected_publish_error"
PREVIEW_KEY = "expected_preview"


def _in_use_rows(current: expected.ExpectedCourses) -> list[dict[str, str]]:
    rows = []
    for key, model in current.models.items():
        measure = expected.measures().get(key)
        if measure is None or not model.curves:
            continue
        rows += rules.summary_rows(model, measure.scale, None)
    return rows


def _table(rows: list[dict[str, str]]) -> None:
    """The rows that say something, and one sentence for the sources nobody rated twice."""
    kept, empty = rules.without_empty(rows)
    st.dataframe(pd.DataFrame(kept), hide_index=True, width="stretch")
    if empty:
        st.caption(md_text(empty))


def _how_calculated(model: er.ExpectedModel) -> None:
    with st.expander("How is this calculated?", icon=":material/functions:"):
        for source, words in rules.SOURCE_WORDS.items():
            st.markdown(md_text(f"{words.capitalize()}: {model.method_text(source)}"))


def draw(actor: Actor) -> None:
    st.caption(
        "Alerts ('below expected', 'well below expected') compare each partner with the "
        "course expected for partners of this clinic who started where they started. New "
        "sessions do not change it: a new version is published here."
    )
    with db_session() as db:
        status = expected.courses_status(db, actor)
    current = status.current
    if current.version is None:
        st.info(md_text(f"In use: {current.label}."))
    else:
        st.markdown("**" + md_text(f"In use: {current.label}.") + "**")
        lines = []
        in_use = status.stored.get(rules.EII)
        if in_use is not None and in_use.version != 1:
            lines.append(expected.when_made(in_use))
        if status.first is not None:
            lines.append(expected.when_made(status.first))
        if in_use is not None:
            lines.append(rules.fallback_norms(in_use.norms_version))
        if lines:
            st.caption(md_text("; ".join(lines) + "."))
    _table(_in_use_rows(current))
    _how_calculated(current.models[rules.EII])

    if not st.toggle(
        "Fit the expected course from every couple now, and what it would change",
        key=PREVIEW_KEY,
        help="Reads every rating and judges every couple twice: a few seconds in a large clinic.",
    ):
        return
    with st.spinner("Fitting the expected course and judging every couple…"), db_session() as db:
        found = expected.preview(db, actor)
    st.markdown("**If published now**")
    _table(found.summary_rows())
    st.caption(
        f"Low, middle and high intake: the clinic's 25th, 50th and 75th percentiles of "
        f"intakes from that source; the change is the median expected by the "
        f"{rules.PREVIEW_RATING}th rating."
    )
    _how_calculated(found.candidate.eii.model)
    st.markdown(
        md_text(
            f"What would change, of {found.couples} couples with sessions judged on the EII: "
            + rules.moves_sentence(found.moves)
        )
    )
    next_version = (found.based_on or 0) + 1
    if st.button(f"Publish as expected course v{next_version}…", type="primary"):
        _confirm(found.based_on, next_version)
    problem = st.session_state.pop(ERROR_KEY, None)
    if problem:
        st.error(md_text(problem))


@st.dialog("Publish this expected course?")
def _confirm(based_on: int | None, next_version: int) -> None:
    st.write(
        f"Every alert will compare partners with this course and name it as expected course "
        f"v{next_version}. Reports made earlier keep the version they name."
    )
    left, right = st.columns(2)
    # The write runs as the button's callback, before anything draws, so the preview
    # toggle can close; the full rerun then closes this dialog.
    if left.button(f"Publish v{next_version}", type="primary", on_click=_publish, args=(based_on,)):
        st.rerun()
    if right.button("Cancel"):
        st.rerun()


@guarded
def _publish(based_on: int | None) -> None:
    live = verified_actor()  # a dialog reruns on its own, without the page's check
    if live is None:
        st.session_state[ERROR_KEY] = "You were signed out, so nothing was published."
        return
    try:
        with db_session() as db:
            published = expected.publish(db, live, expected_version=based_on)
    except ValidationFailed as exc:
        st.session_state[ERROR_KEY] = " ".join(exc.errors.values())
        return
    except ServiceError as exc:
        st.session_state[ERROR_KEY] = str(exc)
        return
    flash(
        f"Published {published.label}. Every alert now uses this course and names this "
        "version; reports made earlier keep the version they name."
    )
    st.session_state[PREVIEW_KEY] = False
