"""Single sign-on in a real browser, against a real (loopback) OIDC provider.

The served app is configured as the README says (`[auth]` and `[auth.clinic]` in a
secrets file); Streamlit's st.login drives discovery, the code flow with PKCE and the
ID token check; Bondline maps the identity to a user and keeps its own checks.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import _free_port, serve
from tests.e2e.fake_oidc import FakeProvider, Person
from tests.e2e.test_browser_smoke import _save_screenshot, _settle, browser_page

pytestmark = pytest.mark.e2e

RIVERA = Person(subject="idp-0042", email="C.Rivera@example.org", name="Dana Rivera")
STRANGER = Person(subject="idp-0999", email="visitor@example.org", name="A Visitor")
SSO_BUTTON = "Sign in with Clinic account"


@pytest.fixture
def sso_server(tmp_path: Path, demo_db_url: str) -> Iterator[tuple[str, FakeProvider]]:
    """The app with single sign-on through the fake provider; yields its URL and the
    provider (whose `person` is who is signed in there)."""
    port = _free_port()
    with FakeProvider(redirect_uri=f"http://127.0.0.1:{port}/oauth2callback") as provider:
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(provider.secrets_toml())
        env = {
            "DATABASE_URL": demo_db_url,
            "BONDLINE_COOKIE_KEY": secrets.token_urlsafe(48),
            "BONDLINE_LOGIN_SLEEP_SECONDS": "0",
        }
        options = ["--secrets.files", str(secrets_file)]
        with serve(
            "streamlit_app.py", tmp_path / "streamlit.log", env, port=port, options=options
        ) as base:
            yield base, provider


def _rows(db_url: str, sql: str) -> list[tuple]:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def _sign_in_at_the_provider(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.get_by_role("button", name=SSO_BUTTON).click()
    expect(page.get_by_role("heading", name="Clinic sign-in")).to_be_visible()
    page.get_by_role("link", name="Continue").click()


def test_a_counselor_signs_in_with_the_clinic_account_and_out_again(
    sso_server: tuple[str, FakeProvider], demo_db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, provider = sso_server
    provider.person = RIVERA
    with browser_page(tmp_path) as page:
        page.goto(base, wait_until="domcontentloaded")
        expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()
        _settle(page)
        _save_screenshot(page, tmp_path, "sso-login.png")
        _sign_in_at_the_provider(page)

        # Back in Bondline, as the user whose email the provider vouched for.
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        expect(page.get_by_test_id("stSidebar").get_by_text("Dana Rivera")).to_be_visible()
        _save_screenshot(page, tmp_path, "sso-caseload.png")
        assert provider.tokens_issued == ["idp-0042"]
        assert provider.refusals == []
        [(subject,)] = _rows(
            demo_db_url, "SELECT sso_subject FROM users WHERE username = 'c.rivera'"
        )
        assert subject == f"{provider.issuer} idp-0042"

        # A reload is a new Streamlit session: the identity cookie signs in again.
        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        details = [
            detail
            for (detail,) in _rows(
                demo_db_url,
                "SELECT detail FROM audit_events WHERE action = 'login' ORDER BY id",
            )
        ]
        assert details[-2:] == ["single sign-on, account linked", "single sign-on"]

        # Log out ends the Bondline session and forgets the provider's identity here.
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()
        _settle(page)
        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
        assert provider.tokens_issued == ["idp-0042"]  # no sign-in happened behind our back


def test_an_identity_no_user_has_is_refused_and_another_account_can_then_sign_in(
    sso_server: tuple[str, FakeProvider], demo_db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, provider = sso_server
    provider.person = STRANGER
    with browser_page(tmp_path) as page:
        page.goto(base, wait_until="domcontentloaded")
        _settle(page)
        _sign_in_at_the_provider(page)
        # (md_text puts an invisible word joiner before "@": no autolink.)
        refusal = page.get_by_text(
            re.compile("No Bondline user has the email address visitor\u2060?@example.org")
        )
        expect(refusal).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
        _save_screenshot(page, tmp_path, "sso-refused.png")
        [(who, success, detail)] = _rows(
            demo_db_url,
            "SELECT username, success, detail FROM audit_events"
            " WHERE action = 'login_failed' ORDER BY id",
        )
        assert (who, success) == ("visitor@example.org", 0)
        assert detail.startswith("single sign-on: No Bondline user")

        # The right person signs in at the provider: the same button gets them in.
        provider.person = RIVERA
        _sign_in_at_the_provider(page)
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page)
        assert provider.tokens_issued == ["idp-0999", "idp-0042"]


def test_an_identity_from_before_a_logout_elsewhere_no_longer_signs_in(
    sso_server: tuple[str, FakeProvider], demo_db_url: str, tmp_path: Path
) -> None:
    """The same server-side checks as Bondline's own cookie: an identity cookie issued
    before the user's last logout (here: two hours earlier) is refused."""
    from playwright.sync_api import expect

    base, provider = sso_server
    provider.person = Person(**{**RIVERA.__dict__, "issued_seconds_ago": 7200})
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    _rows(  # how SQLAlchemy writes a timestamp to SQLite
        demo_db_url,
        "UPDATE users SET sessions_valid_after ="
        f" '{an_hour_ago:%Y-%m-%d %H:%M:%S.%f}' WHERE username = 'c.rivera'",
    )
    with browser_page(tmp_path) as page:
        page.goto(base, wait_until="domcontentloaded")
        _settle(page)
        _sign_in_at_the_provider(page)
        expect(page.get_by_text("You were signed out. Please sign in again.")).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)


def test_an_id_token_with_a_forged_signature_signs_nobody_in(
    sso_server: tuple[str, FakeProvider], demo_db_url: str, tmp_path: Path
) -> None:
    """Streamlit (Authlib) checks the token against the provider's published keys: a
    token signed with any other key is thrown away before Bondline sees an identity."""
    from playwright.sync_api import expect

    base, provider = sso_server
    provider.person = RIVERA
    provider.forge_signature = True
    with browser_page(tmp_path) as page:
        page.goto(base, wait_until="domcontentloaded")
        _settle(page)
        _sign_in_at_the_provider(page)
        expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()
        _settle(page)
        expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
        assert provider.tokens_issued == ["idp-0042"]  # issued, and refused by the app
        assert _rows(demo_db_url, "SELECT id FROM audit_events WHERE action = 'login'") == []
        [(subject,)] = _rows(
            demo_db_url, "SELECT sso_subject FROM users WHERE username = 'c.rivera'"
        )
        assert subject is None
