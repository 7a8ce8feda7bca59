"""The login page with single sign-on set up, half set up, or not at all; and the
identity Streamlit holds, mapped to a Bondline user through the real entrypoint.

(The whole OIDC exchange runs in tests/e2e/test_single_sign_on.py; here `at.user`
stands for the identity cookie Streamlit would have read.)"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import begin_write
from db.models import AuditEvent, User
from tests.app.conftest import texts

ISSUER = "https://sign-in.example.org"
CLINIC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "s" * 40,
    "clinic": {
        "label": "Clinic account",
        "client_id": "bondline",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
    },
}


def _identity(email: str) -> dict[str, object]:
    return {
        "is_logged_in": True,
        "iss": ISSUER,
        "sub": "idp-7",
        "iat": int(time.time()),
        "email": email,
        "email_verified": True,
    }


def _buttons(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.label for b in at.button]


def _cara_signed_in(app, clinic, db: Session):  # type: ignore[no-untyped-def]
    """Cara's account with an email, and a run with that identity in the browser."""
    begin_write(db)
    db.get_one(User, clinic.counselor.user_id).email = "cara@clinic.example"
    db.commit()
    at = app()
    at.secrets["auth"] = CLINIC
    at.user.update(_identity("cara@clinic.example"))
    return at.run()


def test_without_single_sign_on_the_page_has_only_the_password_form(app, clinic) -> None:
    at = app().run()
    assert _buttons(at) == ["Login"]
    assert "sign-on" not in texts(at)


def test_a_configured_provider_gets_a_button_above_the_password_form(app, clinic) -> None:
    at = app()
    at.secrets["auth"] = CLINIC
    at.run()
    assert not at.exception
    assert _buttons(at) == ["Sign in with Clinic account", "Login"]
    assert not at.warning


def test_a_provider_label_reads_as_typed(app, clinic) -> None:
    at = app()
    at.secrets["auth"] = {**CLINIC, "clinic": {**CLINIC["clinic"], "label": "**St. Mary's** [SSO]"}}
    at.run()
    (button,) = [b for b in at.button if b.label.startswith("Sign in with")]
    assert "\\*\\*St" in button.label  # escaped: no bold, no link, shown as typed


def test_a_half_configured_provider_is_named_not_offered(app, clinic) -> None:
    at = app()
    at.secrets["auth"] = {
        "clinic": {"client_id": "bondline"},
        "under_score": dict(CLINIC["clinic"]),
    }
    at.run()
    assert not at.exception
    assert _buttons(at) == ["Login"]
    shown = texts(at)
    for problem in (
        "[auth] needs redirect_uri, cookie_secret.",
        "[auth.clinic] needs client_secret, server_metadata_url.",
        "[auth.under_score]: the name may not contain an underscore.",
    ):
        assert f"Single sign-on is not set up correctly: {problem}" in shown
    assert len(at.warning) == 3


def test_the_identity_streamlit_holds_signs_in_the_user_with_that_email(
    app, clinic, db: Session
) -> None:
    at = _cara_signed_in(app, clinic, db)
    assert not at.exception
    assert at.title[0].value == "My caseload"
    assert list(at.dataframe[0].value["case_code"]) == ["C-2026-0001"]
    db.expire_all()
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "login"))
    assert (event.user_id, event.detail) == (
        clinic.counselor.user_id,
        "single sign-on, account linked",
    )


def test_an_identity_matching_nobody_is_refused_once_per_visit(app, clinic, db: Session) -> None:
    at = app()
    at.secrets["auth"] = CLINIC
    at.user.update(_identity("stranger@elsewhere.example"))
    at.run()
    assert "My caseload" not in texts(at)
    assert "No Bondline user has the email address stranger@elsewhere.example" in texts(at)
    at.run()  # the next run in the same visit: not tried (nor audited) again
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert len(failed) == 1


def test_log_out_ends_the_session_and_forgets_the_identity(app, clinic, db: Session) -> None:
    at = _cara_signed_in(app, clinic, db)
    next(b for b in at.sidebar.button if b.label == "Log out").click()
    at.run()
    assert not at.exception
    db.expire_all()
    assert [
        e.user_id for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "logout"))
    ] == [clinic.counselor.user_id]
    # AppTest hands the same identity to every run (a browser would have been sent to
    # Streamlit's logout address, which deletes the cookie: tests/e2e covers that); in
    # this visit the identity is not used again after a logout.
    at.run()
    assert "My caseload" not in texts(at)
    assert "Sign in with Clinic account" in _buttons(at)


def test_an_admin_sees_who_is_linked_and_unlinks_them(app, clinic, db: Session) -> None:
    from tests.app.conftest import login

    _cara_signed_in(app, clinic, db)  # links Cara's account
    at = login(app(), "admin")
    at.switch_page("pages/admin.py")
    at.run()
    users = at.dataframe[0].value.set_index("Username")
    assert users.loc["cara.couns", "Single sign-on"] == "linked"
    assert users.loc["olly.other", "Single sign-on"] == ""
    next(s for s in at.selectbox if s.label == "Account").set_value(clinic.counselor.user_id)
    at.run()
    next(b for b in at.button if b.label.startswith("Unlink single sign-on")).click()
    at.run()
    assert not at.exception
    assert "Cara Couns is no longer linked to a sign-in account." in texts(at)
    db.expire_all()
    assert db.get_one(User, clinic.counselor.user_id).sso_subject is None
    assert "Single sign-on" not in at.dataframe[0].value.columns  # nobody linked: no column
