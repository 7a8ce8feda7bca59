"""The caseload table: who needs attention at a glance, one click to open a couple."""

from __future__ import annotations

from hashlib import sha1

import pandas as pd
import streamlit as st

from dashboard.services.actor import Actor
from dashboard.ui.widgets import COUPLE_PAGE, table_height

ATTENTION_HELP = (
    "The supervisor's attention list, for your couples: not on track (a partner reliably "
    "deteriorated, no reliable improvement after 8 sessions, or the stage regressed twice "
    "in a row), split alliance, or a safety flag at the last session held."
)


def caseload_table(frame: pd.DataFrame, actor: Actor, overdue_days: int) -> None:
    """The table, sortable by any column; one click on a case code opens the couple.

    A click on a case code is a cell selection, which Streamlit 1.67 reports as the row's
    position in the frame given, whatever the sort on screen; the row's box opens the
    couple too. A click on any other cell only selects it, so text can still be copied.
    Checked in Chromium (tests/e2e/test_caseload_attention.py): a sort by a header click
    opens nothing, then a case code opens its own couple.
    """
    # Partners come first: after a header click (a sort) Chromium's grid can report a
    # selection of the top row's first cell, which must not open a couple.
    columns = [
        "partners",
        "case_code",
        "status",
        "flags",
        "supervision",
        "stage",
        "sessions",
        "last_session",
        "days_since_last",
    ]
    if not actor.is_counselor:
        columns.insert(2, "counselor")
    shown = frame[columns].assign(last_session=pd.to_datetime(frame["last_session"]))
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
            "partners": st.column_config.TextColumn("Partners"),
            "counselor": st.column_config.TextColumn("Counselor"),
            "status": st.column_config.TextColumn("Status"),
            "flags": st.column_config.TextColumn(
                "Needs attention", help=ATTENTION_HELP, width="medium"
            ),
            "supervision": st.column_config.TextColumn(
                "Supervision",
                help="The latest supervision review; its comment is on the couple's page",
            ),
            "stage": st.column_config.TextColumn("Current stage"),
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


def clicked_row(rows: list[int], cells: list[tuple[int, str]]) -> int | None:
    """The row whose couple a click opens: a row's box, or a cell in the case column."""
    if rows:
        return int(rows[0])
    opening = [row for row, column in cells if column == "case_code"]
    return int(opening[0]) if opening else None
