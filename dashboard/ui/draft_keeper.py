"""The draft keeper's browser component (live_draft/index.html), declared in one place.

The session form draws it to send and keep what is being typed (session_drafts); the
sign-in page draws it to forget that text, so a tab that was signed out keeps no
clinical text for the next person at a shared workstation.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.components import v1 as components

LIVE_DIR = str(Path(__file__).resolve().parent / "live_draft")
FORGET_KEY = "live_draft_forget"
# A frame of height 0 still takes a line and the block's gap: on the sign-in page the
# forgetting frame is not laid out at all (it loads and runs all the same).
_UNSEEN = f"<style>.st-key-{FORGET_KEY} {{display: none}}</style>"


def keeper():  # type: ignore[no-untyped-def]
    """The component, registered with this server: declared in a page's run, because a
    declaration made outside one (the warm-up thread imports this module) is not
    registered, and its files would not be found (404)."""
    return components.declare_component("bondline_live_draft", path=LIVE_DIR)


def forget_typed_text() -> None:
    """Remove every session form's text this tab kept (its sessionStorage), taking no
    room on the page."""
    st.html(_UNSEEN)  # style only: sent without taking room on the page
    keeper()(forget=True, key=FORGET_KEY, default=None)
