"""The sign-in cookie's flags: what can be set from here, and why no more.

streamlit-authenticator sets its cookie from the page's JavaScript (a component), so
the cookie cannot be HttpOnly: a server response never carries it. What the page can
do: SameSite=Strict (the component's default: no other site's link or form sends it)
and Secure whenever the page was served over HTTPS, so the browser never sends it over
plain HTTP. Frame protection and HSTS come from the reverse proxy (README, "Serving it
safely"): Streamlit has no setting for response headers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from urllib.parse import urlparse

import streamlit as st
import streamlit_authenticator as stauth


def served_over_https(url: str | None, headers: Mapping[str, str]) -> bool:
    """The browser's address is https, or the proxy in front says it was.

    A forged X-Forwarded-Proto can only make the cookie stricter (Secure on a plain
    HTTP page means the browser drops it): it never weakens it.
    """
    forwarded = (headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    return urlparse(url or "").scheme == "https" or forwarded == "https"


def secure_when_https(authenticator: stauth.Authenticate) -> stauth.Authenticate:
    """Have the library's cookie carry Secure when this page came over HTTPS."""
    if served_over_https(st.context.url, st.context.headers):
        manager = authenticator.cookie_controller.cookie_model.cookie_manager
        manager.set = functools.partial(manager.set, secure=True)
    return authenticator
