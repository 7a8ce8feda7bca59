"""The Admin page's Expected course tab: the version in use and how v1 was made; on
request the course fitted now from every couple and whose alerts it would move; Publish,
after a confirmation."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.domain import expected_response as er
from dashboard.domain import expected_versions as rules
from dashboard.services import couple_summaries, expected
from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import TIME, with_zone
from dashboard.ui.db import db_session
from dashboard.ui.errors import guarded
from dashboard.ui.widgets import flash, md_text

ERROR_KEY = "_expected_publish_error"
PREVIEW_KEY = "expected_preview"
SHOWN_KEY = "_expected_preview_shown"  # the preview as fitted, until published or closed


@dataclass(frozen=True)
class Shown:
    """A preview as the tab shows it, kept between reruns: Publish… and its dialog rerun
    the page, and a refit then would publish a course the admin never saw."""

    rows: list[dict[str, str]]
    moves: list[tuple[str, int]]
    couples: int
    previewed: expected.Previewed


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
        st.session_state.pop(SHOWN_KEY, None)  # the next preview fits again
        return
    shown = st.session_state.get(SHOWN_KEY)
    if shown is None:  # fitted once per preview: the reruns of Publish… show the same
        with (
            st.spinner("Fitting the expected course and judging every couple…"),
            db_session() as db,
        ):
            found = expected.preview(db, actor)
        shown = Shown(found.summary_rows(), found.moves, found.couples, found.to_publish())
        st.session_state[SHOWN_KEY] = shown
    st.markdown("**If published now**")
    _table(shown.rows)
    st.caption(
        f"Low, middle and high intake: the clinic's 25th, 50th and 75th percentiles of "
        f"intakes from that source; the change is the median expected by the "
        f"{rules.PREVIEW_RATING}th rating. Fitted from the ratings saved by "
        f"{with_zone(shown.previewed.computed_at, TIME)}: Publish stores exactly this; "
        "to include sessions saved since, turn the preview off and on."
    )
    eii = next(text for key, text, _ in shown.previewed.courses if key == rules.EII)
    _how_calculated(er.ExpectedModel.from_json(eii))
    st.markdown(
        md_text(
            f"What would change, of {shown.couples} couples with sessions judged on the EII: "
            + rules.moves_sentence(shown.moves)
        )
    )
    next_version = (shown.previewed.based_on or 0) + 1
    if st.button(f"Publish as expected course v{next_version}…", type="primary"):
        _confirm(next_version)
    problem = st.session_state.pop(ERROR_KEY, None)
    if problem:
        st.error(md_text(problem))


@st.dialog("Publish this expected course?")
def _confirm(next_version: int) -> None:
    st.write(
        f"Every alert will compare partners with the course previewed and name it as "
        f"expected course v{next_version}. Reports made earlier keep the version they name."
    )
    left, right = st.columns(2)
    # The write runs as the button's callback, before anything draws, so the preview
    # toggle can close; the full rerun then closes this dialog.
    if left.button(f"Publish v{next_version}", type="primary", on_click=_publish):
        st.rerun()
    if right.button("Cancel"):
        st.rerun()


@guarded
def _publish() -> None:
    live = verified_actor()  # a dialog reruns on its own, without the page's check
    if live is None:
        st.session_state[ERROR_KEY] = "You were signed out, so nothing was published."
        return
    shown = st.session_state.get(SHOWN_KEY)
    if shown is None:
        st.session_state[ERROR_KEY] = "The preview was closed, so nothing was published."
        return
    try:
        with db_session() as db:
            published = expected.publish(db, live, shown.previewed)
            couple_summaries.rebuild_after_change(db)  # every couple judged anew
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
    st.session_state.pop(SHOWN_KEY, None)
