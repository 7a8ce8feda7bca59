"""Shared widgets and formatting for pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.domain.catalog import STATUS_LABELS, CoupleStatus
from dashboard.services import couples, scope
from dashboard.services.actor import Actor
from dashboard.ui.auth import NOTICE_KEY, verified_actor
from dashboard.ui.db import db_session
from dashboard.ui.literal import md_text

COUPLE_PAGE = "pages/couple.py"
SESSION_PAGE = "pages/log_session.py"
CASELOAD_PAGE = "pages/caseload.py"
TIMELINE_PAGE = "pages/timeline.py"


def current_actor() -> Actor:
    """The actor, verified in the database on this run; otherwise a way back to login."""
    actor = verified_actor()
    if actor is None:
        st.info(st.session_state.get(NOTICE_KEY) or "Please log in to continue.")
        # A plain link: this page may be running outside the app's navigation.
        st.markdown("[Go to the login page](/)")
        st.stop()
    return actor


def field_error(errors: dict[str, str], key: str) -> None:
    """Show a field's message right under it, in the alert colour."""
    message = errors.get(key)
    if message:
        st.markdown(f":red[**{md_text(message)}**]")


# Record ids are positive 64-bit integers (SQLite and PostgreSQL alike).
MAX_ID = 2**63 - 1
NO_SUCH_ID = 0  # no record has it: the service refuses it as "not found", audited


def query_int(name: str) -> int | None:
    """A record id from the URL: None when the parameter is absent; NO_SUCH_ID when it
    is not a whole number in 1..2**63-1 (a tampered or mistyped URL is refused like any
    unknown id, never passed to the database, where it would overflow)."""
    raw = st.query_params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return NO_SUCH_ID
    value = int(text)
    return value if 1 <= value <= MAX_ID else NO_SUCH_ID


def fmt_date(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 session', '2 sessions', '0 sessions'."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def flash(message: str) -> None:
    """Queue a success message for the next page the user lands on."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message)


def table_height(rows: int, max_rows: int = 20) -> int:
    """Pixels to show up to `max_rows` rows without an inner scrollbar."""
    return 38 + 35 * max(1, min(rows, max_rows))


def first_view(what: str) -> bool:
    """True when this run opens `what`; False for reruns while the user stays on it.

    A view is audited once per visit, not on every click or filter change, so the audit
    log lists what people opened rather than how often Streamlit reran.
    """
    if st.session_state.get("_last_view") == what:
        return False
    st.session_state["_last_view"] = what
    return True


_REFUSED = "_refused_view"


@dataclass(frozen=True)
class Visit:
    """What this run puts on record for the record a page opens: the view once per
    visit, and a refusal once per visit too (also when access ends in the middle of it)."""

    what: str
    record_view: bool
    audit_refusal: bool


def visit(what: str) -> Visit:
    """The audit duties of this run of a page about `what` (see `refuse`)."""
    first = first_view(what)
    if first:
        st.session_state.pop(_REFUSED, None)
    return Visit(what, first, st.session_state.get(_REFUSED) != what)


def chosen_couple_id(title: str, page: str) -> int:
    """The couple a page is about: its query parameter, else the couple last opened.

    With neither, the page offers a couple picker and stops. The id is only a request:
    the service decides whether this user may see that couple.
    """
    couple_id = query_int("couple")
    if couple_id is None:
        couple_id = st.session_state.get("couple_id")
    if couple_id is None:
        st.title(title)
        couple_picker(page)
        st.stop()
    return int(couple_id)


def couple_picker(page: str, *, statuses: tuple[str, ...] = (), label: str = "") -> None:
    """Choose one of the couples in the user's scope and open `page` for it.

    An empty page (no couple chosen yet) offers this instead of a dead end.
    """
    with db_session() as db:
        frame = couples.list_caseload(
            db, current_actor(), statuses=statuses, record_view=first_view(f"pick:{page}")
        )
    if frame.empty:
        st.info("There are no couples to choose from yet.")
        st.page_link(CASELOAD_PAGE, label="Go to the caseload", icon=":material/groups:")
        return
    labels = picker_labels(frame)
    chosen = st.selectbox(
        label or "Which couple?",
        list(labels),
        format_func=labels.get,
        index=None,
        placeholder="Type a case code or a partner's name",
        help=None if len(statuses) == 1 else "Active couples first, then paused, then closed",
    )
    if chosen is not None:
        st.switch_page(page, query_params={"couple": str(chosen)})


# The status words the caseload gives ("Active", "Paused", "Closed"), in picker order.
_STATUS_ORDER = {STATUS_LABELS[status]: rank for rank, status in enumerate(CoupleStatus)}


def picker_labels(frame: pd.DataFrame) -> dict[int, str]:
    """A picker's couples, active first, then paused, then closed (each by case code),
    each saying which: 'C-2026-0019 · Ana & Ben (Active)'. The couples a counselor works
    with today come first; a closed one stays findable by typing."""
    ordered = frame.assign(_rank=frame["status"].map(_STATUS_ORDER).fillna(len(_STATUS_ORDER)))
    ordered = ordered.sort_values(["_rank", "case_code"], kind="stable")
    return dict(
        zip(
            ordered["couple_id"].astype(int),
            ordered["case_code"] + " · " + ordered["partners"] + " (" + ordered["status"] + ")",
            strict=True,
        )
    )


def refuse(title: str, message: str, refused: Visit | None = None) -> None:
    """A service said no: show why, forget the couple, offer the way back, stop.

    With the visit that was refused, its refusal counts as on record until the user
    opens something else.
    """
    if refused is not None:
        st.session_state[_REFUSED] = refused.what
    st.session_state.pop("couple_id", None)
    st.title(title)
    st.error(message)
    st.page_link(CASELOAD_PAGE, label="Back to the caseload", icon=":material/groups:")
    st.stop()


def refused_page(actor: Actor, title: str, path: str) -> None:
    """A page opened by URL that the user's role has no part in: say so, put it on record
    (once per visit), and offer the way back. Nothing of the page itself runs."""
    if first_view(f"refused-page:{path}"):
        with db_session() as db:
            scope.refuse_page(db, actor, path)
    st.title(title)
    st.error(f"This page is not part of the {actor.role_label.lower()} role.")
    st.page_link(CASELOAD_PAGE, label="Back to the start page", icon=":material/home:")


def remember_couple(couple_id: int) -> None:
    """Keep the couple for the next page and in the URL, so a reload stays on it."""
    st.session_state["couple_id"] = couple_id
    st.query_params["couple"] = str(couple_id)
