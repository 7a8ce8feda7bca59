"""The caseload table: who needs attention at a glance, one click (or a few keys) to open
a couple."""

from __future__ import annotations

from hashlib import sha1

import pandas as pd
import streamlit as st

from dashboard.domain.couple_outcome import OUTCOME_RULE
from dashboard.domain.instruments import load_instruments
from dashboard.domain.plain_words import (
    ALLIANCE_WORDS,
    EXPECTED_COURSE,
    EXPECTED_HELP,
    alliance_rule_words,
)
from dashboard.services.actor import Actor
from dashboard.ui.widgets import COUPLE_PAGE, table_height

ATTENTION_HELP = (
    "The supervisor's attention list, for your couples: a safety flag at any session of "
    "the course, not on track (a partner reliably deteriorated, well below the expected "
    "course, no reliable improvement after 8 sessions, or the stage regressed twice in a "
    "row), partners diverging, or a split alliance."
)
ALLIANCE_HELP = alliance_rule_words(load_instruments()["srs"].split_alliance)
SAFETY_HELP = (
    "A safety concern was flagged at a session of this couple's course. It stays, whatever "
    "came after; the dates are on the couple's page and timeline."
)
SAFETY_MARK = "⚠ Safety"
OPEN_KEY = "caseload_open"
# Set when a couple is opened from the caseload: the couple page moves focus to its
# heading, so a keyboard user carries on from there rather than from the page's top.
FOCUS_HEADING = "focus_couple_heading"


def caseload_table(frame: pd.DataFrame, actor: Actor, overdue_days: int) -> None:
    """The table, sortable by any column; one click on a case code opens the couple.

    A click on a case code is a cell selection, which Streamlit 1.67 reports as the row's
    position in the frame given, whatever the sort on screen; the row's box opens the
    couple too. A click on any other cell only selects it, so text can still be copied.
    Checked in Chromium (tests/e2e/test_caseload_attention.py): a sort by a header click
    opens nothing, then a case code opens its own couple.
    """
    # Safety first, narrow, so it is on screen at 800 px; never the case code first:
    # after a header click (a sort) Chromium's grid can report a selection of the top
    # row's first cell, which must not open a couple.
    columns = [
        "safety",
        "partners",
        "case_code",
        "status",
        "flags",
        "expected",  # the early warning: a partner below the course expected for them
        "outcome",  # beside why listed: a partner who got worse shows here too
        "alliance",
        "supervision",
        "stage",
        "sessions",
        "last_session",
        "days_since_last",
    ]
    if not actor.is_counselor:
        columns.insert(2, "counselor")
    shown = frame.assign(
        last_session=pd.to_datetime(frame["last_session"]),
        safety=frame["safety"].map({True: SAFETY_MARK, False: ""}).astype(str),
        alliance=frame["alliance"].map(ALLIANCE_WORDS).fillna("").astype(str),
    )[columns]
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=table_height(len(frame)),
        on_select="rerun",
        selection_mode=["single-row", "single-cell"],
        # One widget per list shown: a grid whose rows changed under it (a filter)
        # ignored its first click in Chromium.
        key="caseload_table:" + sha1(",".join(frame["case_code"]).encode()).hexdigest()[:16],
        placeholder="",
        column_config={
            "case_code": st.column_config.TextColumn(
                "Case", help="Click a case code to open that couple"
            ),
            "safety": st.column_config.TextColumn("Safety", help=SAFETY_HELP, width=80),
            "partners": st.column_config.TextColumn("Partners"),
            "counselor": st.column_config.TextColumn("Counselor"),
            "status": st.column_config.TextColumn("Status"),
            "flags": st.column_config.TextColumn(
                "Needs attention", help=ATTENTION_HELP, width="medium"
            ),
            "expected": st.column_config.TextColumn(EXPECTED_COURSE, help=EXPECTED_HELP),
            "alliance": st.column_config.TextColumn("Alliance (SRS)", help=ALLIANCE_HELP),
            "supervision": st.column_config.TextColumn(
                "Supervision",
                help="The latest supervision review; its comment is on the couple's page",
            ),
            "stage": st.column_config.TextColumn("Current stage"),
            "outcome": st.column_config.TextColumn("Outcome", help=OUTCOME_RULE),
            "sessions": st.column_config.NumberColumn("Sessions", help="Sessions held (attended)"),
            "last_session": st.column_config.DateColumn("Last session", format="D MMM YYYY"),
            "days_since_last": st.column_config.NumberColumn(
                "Days since",
                help=f"Days since the last session held; over {overdue_days} is overdue",
            ),
        },
    )
    if frame.empty:
        return
    row = clicked_row(event.selection.rows, event.selection.cells) if event else None
    if row is not None and row < len(frame):
        couple_id = int(frame.iloc[row]["couple_id"])
        st.switch_page(COUPLE_PAGE, query_params={"couple": str(couple_id)})
    st.caption("Click a case code (or the box at the start of its row) to open that couple.")


def open_picker(frame: pd.DataFrame) -> None:
    """The keyboard's way in: the same couples in the same order, in a select box.

    The grid is for reading: its arrow keys move between cells, Enter does not open a
    row, and Tab walks through every column of it. This box sits before the grid, a few
    Tabs from the filters; typing filters it, the arrows and Enter pick a couple, which
    opens at once with the focus on its heading (checked with key presses only in
    Chromium: tests/e2e/test_caseload_keyboard.py). No help icon: it would be one more
    Tab on the way.
    """
    if frame.empty:
        return
    labels = dict(zip(frame["couple_id"].astype(int), _labels(frame), strict=True))
    picked = st.selectbox(
        "Open a couple",
        list(labels),
        index=None,
        format_func=lambda i: labels[i],
        placeholder="Type a case code or a name, then Enter (the table's order)",
        key=OPEN_KEY,
    )
    if picked is not None:
        st.session_state[FOCUS_HEADING] = True
        st.switch_page(COUPLE_PAGE, query_params={"couple": str(int(picked))})


def _labels(frame: pd.DataFrame) -> list[str]:
    """'C-2026-0019 · Ana & Ben · Safety · Not on track': what the row says first."""
    flags = frame["flags"].astype(str)
    return (
        frame["case_code"].astype(str)
        + " · "
        + frame["partners"].astype(str)
        + flags.where(flags.eq(""), " · " + flags)
    ).tolist()


_FOCUS_SCRIPT = """
<script>
(() => {
  let tries = 0;
  const move = () => {
    const heading = document.querySelector('[data-testid="stMain"] h1');
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({preventScroll: false});
    } else if (tries++ < 40) {
      setTimeout(move, 50);
    }
  };
  move();
})();
</script>
"""


def focus_heading_once() -> None:
    """After a couple was opened from the caseload: focus the page's heading, once.

    Streamlit leaves the focus on the page's body after a page switch, so the next Tab
    started again at the sidebar's first link. The script is fixed text: nothing typed
    by anyone goes into it.
    """
    if st.session_state.pop(FOCUS_HEADING, False):
        st.html(_FOCUS_SCRIPT, unsafe_allow_javascript=True)


def clicked_row(rows: list[int], cells: list[tuple[int, str]]) -> int | None:
    """The row whose couple a click opens: a row's box, or a cell in the case column."""
    if rows:
        return int(rows[0])
    opening = [row for row, column in cells if column == "case_code"]
    return int(opening[0]) if opening else None
