"""The optional single sign-on buttons and the identity Streamlit's `st.login` keeps.

Streamlit does the OIDC exchange (Authlib: discovery, the code flow with state, nonce
and PKCE, the ID token's signature and claims) and keeps the verified claims in its
signed identity cookie; Bondline reads them here and hands them to
`dashboard.services.sso`, which decides who, if anyone, that is. Configured in
`.streamlit/secrets.toml` (README, "Single sign-on"): one `[auth.<name>]` section per
provider, beside `[auth]`'s `redirect_uri` and `cookie_secret`.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.services.sso import Identity
from dashboard.ui.literal import md_text

SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class Provider:
    name: str  # the section's name, what st.login takes
    label: str  # what the button says after "Sign in with"


def _auth_section() -> dict:
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - a broken secrets file is reported by Streamlit itself
        return {}
    return section.to_dict() if hasattr(section, "to_dict") else dict(section or {})


def providers() -> tuple[list[Provider], list[str]]:
    """The configured providers, and what is wrong with any half-configured one (for
    the admin who set it up: shown on the login page rather than failing on a click)."""
    section = _auth_section()
    found = {name: value for name, value in section.items() if isinstance(value, dict)}
    if not found:
        return [], []
    problems: list[str] = []
    missing_shared = [key for key in SHARED_KEYS if not section.get(key)]
    if missing_shared:
        problems.append(f"[auth] needs {', '.join(missing_shared)}")
    usable = []
    for name, value in found.items():
        missing = [key for key in PROVIDER_KEYS if not value.get(key)]
        if "_" in name:
            problems.append(f"[auth.{name}]: the name may not contain an underscore")
        elif missing:
            problems.append(f"[auth.{name}] needs {', '.join(missing)}")
        elif not missing_shared:
            usable.append(Provider(name, str(value.get("label") or name.capitalize())))
    return usable, problems


def identity() -> Identity | None:
    """The identity the provider vouched for in this browser, if any."""
    claims = st.user.to_dict()  # no "is_logged_in" at all while [auth] is not set up
    if claims.get("is_logged_in") is not True:
        return None
    return Identity.from_claims(claims)


def sign_in_buttons(available: list[Provider]) -> None:
    """One button per provider, above the password form."""
    for provider in available:
        if st.button(
            f"Sign in with {md_text(provider.label)}",  # the label is typed, in secrets.toml
            key=f"sso_{provider.name}",
            type="primary",
            icon=":material/badge:",
            width="stretch",
        ):
            st.login(provider.name)


def sign_out() -> None:
    """Forget the provider's identity in this browser (and at the provider, where it
    offers a logout address); Streamlit then starts a new session on the login page."""
    st.logout()
