"""Login, logout and the per-run session check.

streamlit-authenticator checks passwords against the users table and keeps the
re-authentication cookie; `dashboard.services.auth` decides whether a login may stand.
The cookie alone is never trusted: every run re-checks the user in the database.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_authenticator.utilities import LoginError

from dashboard.domain.sign_in import device_of
from dashboard.services import auth as auth_service
from dashboard.services import sso as sso_service
from dashboard.services.actor import Actor
from dashboard.ui import draft_keeper, sso
from dashboard.ui.clinic_time import with_zone
from dashboard.ui.cookie import secure_when_https
from dashboard.ui.db import db_session, settings
from dashboard.ui.literal import md_text

ACTOR_KEYS = ("actor_id", "login_at", "last_seen")
NOTICE_KEY = "login_notice"
SSO_REFUSED_KEY = "sso_refused"  # the identity already refused in this visit
MIN_COOKIE_KEY_LENGTH = 32


def _limits() -> auth_service.SessionLimits:
    s = settings()
    return auth_service.SessionLimits(
        idle=timedelta(minutes=s.idle_timeout_minutes),
        absolute=timedelta(hours=s.session_limit_hours),
    )


def _authenticator() -> stauth.Authenticate:
    s = settings()
    with db_session() as db:
        credentials = auth_service.login_credentials(db)
    return secure_when_https(
        stauth.Authenticate(
            credentials,
            cookie_name=s.cookie_name,
            cookie_key=s.cookie_key,
            cookie_expiry_days=s.cookie_expiry_days,
            auto_hash=False,
            login_sleep_time=s.login_sleep_seconds,
        )
    )


def _cookie_issued_at() -> tuple[str, datetime] | None:
    """The username in a validly signed, unexpired cookie and when it was issued.

    The library's token carries only its expiry; the issue time is that minus the
    cookie lifetime, which is enough to refuse a cookie older than the last logout.
    """
    s = settings()
    raw = st.context.cookies.get(s.cookie_name)
    if not raw:
        return None
    try:
        token = jwt.decode(raw, s.cookie_key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    expires = datetime.fromtimestamp(float(token.get("exp_date", 0)), UTC)
    if "username" not in token or expires <= datetime.now(UTC):
        return None
    return str(token["username"]), expires - timedelta(days=s.cookie_expiry_days)


def _start(actor: Actor, now: datetime, *, login_at: datetime | None = None) -> None:
    """Remember the live session; a cookie login keeps the cookie's own start time, so
    reopening the app never extends the absolute session limit."""
    st.session_state["actor_id"] = actor.user_id
    st.session_state["login_at"] = login_at or now
    st.session_state["last_seen"] = now
    st.session_state["authentication_status"] = True
    st.session_state["username"] = actor.username
    st.session_state["name"] = actor.display_name
    st.session_state.pop(NOTICE_KEY, None)
    _remember_this_run(actor)  # just checked: the page of this run need not ask again


def _forget(notice: str | None) -> None:
    """Drop the signed-in state; `logout` stops the library re-reading the cookie."""
    _forget_this_run()
    for key in ACTOR_KEYS:
        st.session_state.pop(key, None)
    for key in ("authentication_status", "username", "name", "email", "roles"):
        st.session_state[key] = None
    st.session_state["logout"] = True
    if notice:
        st.session_state[NOTICE_KEY] = notice


def verified_actor(now: datetime | None = None) -> Actor | None:
    """The logged-in actor, re-checked in the database on this very run, or None.

    Pages call this too rather than trusting session state: a page can run without
    the entrypoint (Streamlit runs pages/ directly on a fresh server), and a session
    must end the moment the user is deactivated or logged out elsewhere.
    """
    state = st.session_state
    if not state.get("actor_id"):
        return None
    checked = _checked_this_run()
    if checked is not None and now is None:
        return checked
    now = now or datetime.now(UTC)
    with db_session() as db:
        result = auth_service.check_session(
            db,
            state["actor_id"],
            login_at=state["login_at"],
            last_seen=state["last_seen"],
            limits=_limits(),
            now=now,
        )
    if isinstance(result, Actor):
        state["last_seen"] = now
        _remember_this_run(result)
        return result
    _forget(result)
    return None


# One check per script run is enough: the entrypoint checks, then the page and its
# callbacks ask again (a page may also run alone). Kept on Streamlit's run context, with
# the run's own cursor map as the marker: a new run has a new map, so it checks again.
_RUN_CHECK = "bondline_actor_checked"


def _checked_this_run() -> Actor | None:
    ctx = get_script_run_ctx()
    checked = getattr(ctx, _RUN_CHECK, None) if ctx is not None else None
    if checked is None:
        return None
    marker, actor = checked
    same_user = actor.user_id == st.session_state.get("actor_id")
    return actor if marker is ctx.cursors and same_user else None  # type: ignore[union-attr]


def _remember_this_run(actor: Actor) -> None:
    ctx = get_script_run_ctx()
    if ctx is not None:
        setattr(ctx, _RUN_CHECK, (ctx.cursors, actor))


def _forget_this_run() -> None:
    ctx = get_script_run_ctx()
    if ctx is not None and hasattr(ctx, _RUN_CHECK):
        delattr(ctx, _RUN_CHECK)


def require_actor() -> Actor | None:
    """The signed-in actor, re-checked in the database; otherwise draw the login form.

    Returns None while nobody is logged in (the caller shows no menu and stops).
    """
    s = settings()
    if len(s.cookie_key) < MIN_COOKIE_KEY_LENGTH:
        st.error(
            "Bondline is not configured: the cookie key in `.streamlit/secrets.toml` must be "
            "at least 32 characters. Run `make run` once to generate one."
        )
        st.stop()
    now = datetime.now(UTC)
    state = st.session_state
    actor = verified_actor(now)
    if actor is not None:
        return actor

    # The form's place comes before the cookie components, whose presence differs from
    # run to run: so the form is always the same element, never drawn twice (a run cut
    # short by the cookie component's rerun left a second, stale form on screen).
    slot = st.empty()
    authenticator = _authenticator()
    if not state.get("logout"):
        cookie = _cookie_issued_at()
        if cookie is not None:
            username, issued_at = cookie
            with db_session() as db:
                result = auth_service.begin_session(
                    db, username, limits=_limits(), cookie_issued_at=issued_at, now=now
                )
            if isinstance(result, Actor):
                _start(result, now, login_at=issued_at)
                return result
            authenticator.cookie_controller.delete_cookie()
            _forget(result)
        actor = _single_sign_on(now)
        if actor is not None:
            return actor

    return _login_form(authenticator, now, slot)


def _single_sign_on(now: datetime) -> Actor | None:
    """Sign in the person the clinic's identity provider vouched for (st.login), when
    they map to an active Bondline user. A refusal is said once per visit: the same
    identity is not tried (nor audited) again until the person signs in afresh."""
    identity = sso.identity()
    if identity is None:
        return None
    attempt = f"{identity.key} {identity.issued_at.isoformat()}"
    if st.session_state.get(SSO_REFUSED_KEY) == attempt:
        return None
    with db_session() as db:
        result = sso_service.begin_sso_session(db, identity, limits=_limits(), now=now)
    if isinstance(result, str):
        st.session_state[SSO_REFUSED_KEY] = attempt
        st.session_state[NOTICE_KEY] = result
        return None
    _start(result.actor, now, login_at=result.login_at)
    return result.actor


def client_key() -> str:
    """The device a sign-in comes from, for the waits after failed sign-ins.

    Streamlit's server (uvicorn) already puts the proxy's X-Forwarded-For address here
    when the connection comes from a trusted proxy (FORWARDED_ALLOW_IPS, by default
    127.0.0.1: the README's nginx on the same machine), and ignores the header from
    anyone else, so a browser cannot claim another's address. An IPv6 address counts as
    its /64 network: one household or office holds a whole /64.
    """
    return device_of(st.context.ip_address)


def _wait_message(until: datetime) -> str:
    """The login page has this one time on it, so it names the clinic's zone beside it."""
    return f"Too many failed sign-ins. Try again after {with_zone(until, '%H:%M:%S')}."


def _login_form(
    authenticator: stauth.Authenticate, now: datetime, slot: DeltaGenerator
) -> Actor | None:
    """Draw the login form in `slot`; on success clear it, set the cookie, return the actor."""
    with slot.container():
        st.title("Bondline")
        st.caption("Case management for couples counselors")
        notice = st.session_state.get(NOTICE_KEY)
        if notice:
            st.info(md_text(notice))
        providers, problems = sso.providers()
        for problem in problems:
            st.warning(f"Single sign-on is not set up correctly: {md_text(problem)}.")
        if providers:
            sso.sign_in_buttons(providers)
            st.caption("Or sign in with your Bondline username and password:")
        with st.form("login"):
            username = st.text_input("Username", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Login", type="primary")
        error = st.empty()
        # Signed out in this session (Log out, idle, elsewhere, a refused cookie): the text
        # a session form kept in the tab goes. Not in a session that never had anyone
        # signed in: a replica taking over a dead one's browser may ask to sign in again,
        # and the tab must still hold what the dead replica never got (the keeper resends it).
        if st.session_state.get("logout"):
            draft_keeper.forget_typed_text()
    if not submitted:
        return None
    username = username.strip().lower()
    if not username or not password:
        error.error("Enter your username and password.")
        return None
    client = client_key()
    with db_session() as db:
        until = auth_service.sign_in_retry_at(db, username, client=client, now=now)
    if until is not None:
        # Checked before the password, so guessing on gets no answer at all; and not
        # counted, so trying again while waiting lengthens nobody's wait.
        with db_session() as db:
            auth_service.record_failed_login(
                db, username, "waiting", client=client, counted=False, now=now
            )
        error.error(_wait_message(until))
        return None
    try:
        ok = authenticator.authentication_controller.login(username, password)
    except LoginError as exc:
        ok = False
        error.error(str(exc))
    if not ok:
        time.sleep(settings().login_sleep_seconds)  # slows guessing; 0 in tests
        with db_session() as db:
            inactive = auth_service.is_inactive_account(db, username, password)
            until = auth_service.record_failed_login(
                db,
                username,
                "inactive account" if inactive else "wrong username or password",
                client=client,
            )
        error.error(
            "This account is not active. Ask your clinic admin."
            if inactive
            else "Username or password is incorrect."
            + (f" {_wait_message(until)}" if until is not None else "")
        )
        st.session_state["authentication_status"] = None
        return None
    with db_session() as db:
        result = auth_service.begin_session(db, username, limits=_limits(), client=client, now=now)
    if not isinstance(result, Actor):
        error.error(result)
        _forget(None)
        return None
    _start(result, now)
    st.session_state["logout"] = None
    # Carry on in this run rather than rerunning, so the cookie reaches the browser.
    slot.empty()
    authenticator.cookie_controller.set_cookie()
    return result


def logout(actor: Actor) -> None:
    """End this user's sessions everywhere, forget the cookie, back to the login form."""
    with db_session() as db:
        auth_service.logout(db, actor)
    _forget("You have logged out.")
    if sso.identity() is not None:
        sso.sign_out()  # the provider's identity too, or it would sign them in again
        st.stop()  # the browser is sent away; nothing more to draw
    st.rerun()


def logged_out() -> None:
    """The only page while nobody is logged in: the form is drawn by require_actor."""
