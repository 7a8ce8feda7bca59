"""One error boundary: no user ever sees a traceback.

Whatever a page did not expect ends here: the user reads a short apology with an
incident number, and the server log holds the whole story under the same number, so a
clinic admin who is told the number finds it. A busy database (another user's long
write held the lock beyond the busy timeout) is not a fault: it gets its own message.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec

import streamlit as st
from sqlalchemy.exc import OperationalError

log = logging.getLogger("bondline.incident")

BUSY_MESSAGE = (
    "The clinic's database is busy with another user's work right now. Nothing was lost: "
    "please try again in a moment."
)


def new_incident_id() -> str:
    """Eight characters a person can read out over the phone."""
    return secrets.token_hex(4).upper()


def is_busy(exc: BaseException) -> bool:
    """SQLite's write lock held past the busy timeout."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc).lower()


def report(exc: Exception, where: str) -> str:
    """Log `exc` under a new incident number and show the apology; returns the number."""
    if is_busy(exc):
        log.warning("busy database on %s: %s", where, exc)
        st.warning(BUSY_MESSAGE, icon=":material/hourglass_top:")
        return ""
    incident = new_incident_id()
    log.error("incident %s on %s", incident, where, exc_info=exc)
    st.error(_apology(incident, "shown"), icon=":material/error:")
    return incident


_PROBLEM = "_callback_problem"
P = ParamSpec("P")


def guarded(callback: Callable[P, None]) -> Callable[P, None]:
    """A widget callback inside the boundary: callbacks run before the page, where no
    `with boundary` reaches, and Streamlit would show its own error. What goes wrong is
    logged now and said at the top of the page the callback's rerun draws (the form,
    drawn from its draft, still holds what was typed)."""

    @functools.wraps(callback)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            callback(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the boundary for callbacks
            where = f"callback {callback.__qualname__}"
            if is_busy(exc):
                log.warning("busy database on %s: %s", where, exc)
                st.session_state[_PROBLEM] = ""
            else:
                incident = new_incident_id()
                log.error("incident %s on %s", incident, where, exc_info=exc)
                st.session_state[_PROBLEM] = incident

    return run


def show_callback_problem() -> None:
    """Say what went wrong in a callback of the run before (see `guarded`)."""
    incident = st.session_state.pop(_PROBLEM, None)
    if incident is None:
        return
    if not incident:
        st.warning(BUSY_MESSAGE, icon=":material/hourglass_top:")
        return
    st.error(_apology(incident, "done"), icon=":material/error:")


def _apology(incident: str, what: str) -> str:
    return (
        f"Something went wrong on our side and this could not be {what}. Nothing you saved "
        f"is lost. If it happens again, tell your clinic admin incident number {incident}."
    )


@contextmanager
def boundary(where: str) -> Iterator[None]:
    """Run a page (or the entrypoint) inside the boundary. Streamlit's own stop and
    rerun signals are not exceptions of this kind and pass through."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the one place every unexpected error lands
        report(exc, where)
