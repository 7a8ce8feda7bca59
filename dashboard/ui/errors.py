"""One error boundary: no user ever sees a traceback.

Whatever a page did not expect ends here: the user reads a short apology with an
incident number, and the server log holds the whole story under the same number, so a
clinic admin who is told the number finds it. A busy database (another user's long
write held the lock beyond the busy timeout) is not a fault: it gets its own message.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

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
    st.error(
        "Something went wrong on our side and this could not be shown. Nothing you saved "
        f"is lost. If it happens again, tell your clinic admin incident number {incident}.",
        icon=":material/error:",
    )
    return incident


@contextmanager
def boundary(where: str) -> Iterator[None]:
    """Run a page (or the entrypoint) inside the boundary. Streamlit's own stop and
    rerun signals are not exceptions of this kind and pass through."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the one place every unexpected error lands
        report(exc, where)
