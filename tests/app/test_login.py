"""Login, logout and refusals through the real entrypoint."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import begin_write
from db.models import AuditEvent, User
from tests.app.conftest import assert_state_serializable, login, texts


def _events(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_wrong_password_shows_error_and_no_data(app, clinic, db: Session) -> None:
    at = login(app(), "cara.couns", "not-the-password")
    assert not at.exception
    assert "Username or password is incorrect." in [e.value for e in at.error]
    assert "My caseload" not in texts(at)
    assert "Alex" not in texts(at)
    failed = _events(db, "login_failed")
    assert [(e.username, e.success) for e in failed] == [("cara.couns", False)]


def test_unknown_user_gets_the_same_message(app, clinic, db: Session) -> None:
    at = login(app(), "nobody.here", "whatever-password")
    assert "Username or password is incorrect." in [e.value for e in at.error]
    assert _events(db, "login_failed")[0].username == "nobody.here"


def test_counselor_logs_in_and_sees_own_caseload(app, clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    assert not at.exception
    assert at.title[0].value == "My caseload"
    table = at.dataframe[0].value
    assert list(table["case_code"]) == ["C-2026-0001"]
    assert "Casey" not in table.to_string()  # the other counselor's couple
    assert [e.success for e in _events(db, "login")] == [True]
    assert_state_serializable(at)


def test_inactive_user_cannot_log_in(app, clinic, db: Session) -> None:
    user = db.scalar(select(User).where(User.username == "cara.couns"))
    begin_write(db)
    user.active = False
    db.commit()
    at = login(app(), "cara.couns")
    assert "This account is not active. Ask your clinic admin." in [e.value for e in at.error]
    assert "My caseload" not in texts(at)


def test_deactivation_ends_a_live_session(app, clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    assert at.title[0].value == "My caseload"
    user = db.scalar(select(User).where(User.username == "cara.couns"))
    begin_write(db)
    user.active = False
    db.commit()
    at.run()
    assert "My caseload" not in texts(at)
    assert "This account is no longer active." in texts(at)


def test_logout_returns_to_login_and_is_audited(app, clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    next(b for b in at.button if b.label == "Log out").click()
    at.run()
    assert "You have logged out." in texts(at)
    assert "My caseload" not in texts(at)
    assert [e.username for e in _events(db, "logout")] == ["cara.couns"]
    user = db.scalar(select(User).where(User.username == "cara.couns"))
    db.refresh(user)
    assert user.sessions_valid_after is not None


def test_idle_session_is_ended(app, clinic) -> None:
    from datetime import timedelta

    at = login(app(), "cara.couns")
    at.session_state["last_seen"] = at.session_state["last_seen"] - timedelta(hours=2)
    at.run()
    assert "You were signed out after a period of inactivity." in texts(at)
    assert "My caseload" not in texts(at)


def test_failed_sign_ins_make_the_device_wait_and_an_admin_clears_them(
    app, clinic, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BONDLINE_TIMEZONE", "Europe/Oslo")
    at = app()
    for n in range(1, 4):
        at = login(at, "cara.couns", "wrong-password-again")
        shown = " ".join(e.value for e in at.error)
        assert "Username or password is incorrect." in shown
        # The 3rd failure (inclusive) starts a wait, and the form says until when.
        assert ("Too many failed sign-ins. Try again after" in shown) == (n == 3), (n, shown)
    at = login(at, "cara.couns")  # within the wait: even the right password is not checked
    assert at.error[0].value.startswith("Too many failed sign-ins. Try again after")
    # The login page's one time names the clinic's zone beside it.
    assert re.fullmatch(
        r"Too many failed sign-ins\. Try again after \d\d:\d\d:\d\d \(Europe/Oslo time\)\.",
        at.error[0].value,
    )
    assert "My caseload" not in texts(at)

    admin = login(app(), "admin")
    admin.switch_page("pages/admin.py")
    admin.run()
    admin.selectbox(key="unlock_name").select("cara.couns").run()
    next(b for b in admin.button if b.key == "unlock_button").click()
    admin.run()
    assert "Cleared 3 failed sign-ins of cara.couns." in texts(admin)

    at = login(app(), "cara.couns")
    assert at.title[0].value == "My caseload"
