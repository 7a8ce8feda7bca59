"""Two replicas behind the README's nginx, on one PostgreSQL, in Chromium.

One cluster for the module (tests/e2e/cluster.py): the demo clinic on PostgreSQL (a
fresh schema in TEST_DATABASE_URL when it is set, else a private server the launcher
starts from Debian's binaries for this module and removes after it), two `streamlit
run` replicas with the same keys and single sign-on through the test provider, and
nginx running the README's block (sticky sessions by the `bondline_route` cookie nginx
sets). Which replica served whom is read from nginx's log: the replica that answered
each request of a browser, the websocket (where the Streamlit session lives) included. The last test kills a replica: keep it last.

Needs Chromium, nginx, openssl and PostgreSQL (TEST_DATABASE_URL, or the server package:
apt-get install postgresql; bash .ci/run does both): a missing part fails the test, it
never skips.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.e2e.cluster import ROUTE_COOKIE, Cluster, get, route_given, start_cluster
from tests.e2e.fake_oidc import FakeProvider, Person
from tests.e2e.test_browser_smoke import (
    DEMO_PASSWORD,
    UI_TIMEOUT_MS,
    _log_in,
    _save_screenshot,
    _settle,
    _signed_in,
)

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
RIVERA = Person(subject="idp-0042", email="C.Rivera@example.org", name="Dana Rivera")
SSO_BUTTON = "Sign in with Clinic account"
COUNSELORS = ("c.rivera", "c.nakamura", "c.haddad", "c.obrien", "c.mensah", "c.kowalski")
# Typed without a pause (about 3 s at 30 ms a key) when the replica is killed: plain
# ASCII, so it can be read back from the websocket frames the browser sent.
TYPED = (
    "They arrived early and sat apart at first; by the end he asked her what she "
    "needed on the bad evenings and she told him plainly"
)


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """The test OIDC provider, on another site than the app (localhost, the app is at
    127.0.0.1): its redirect back is a cross-site navigation, which carries the route
    cookie only because it is SameSite=Lax."""
    with FakeProvider() as running:
        running.issuer = running.issuer.replace("127.0.0.1", "localhost")
        yield running


@pytest.fixture(scope="module")
def clinic(provider: FakeProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    def sso_secrets(front: str) -> str:
        provider.redirect_uri = f"{front}/oauth2callback"
        return provider.secrets_toml()

    with start_cluster(tmp_path_factory.mktemp("replicas"), secrets=sso_secrets) as running:
        yield running


@pytest.fixture(scope="module")
def db(clinic: Cluster) -> Iterator[Engine]:
    engine = create_engine(clinic.database_url)
    yield engine
    engine.dispose()


@contextmanager
def visit(browser, clinic: Cluster, replica: int | None = None, name: str = "replicas"):  # type: ignore[no-untyped-def]
    """A new browser (context) at the front door, with a browser id of its own; pinned
    to `replica` by a route cookie naming it, or left to nginx (None)."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 1100}, ignore_https_errors=True
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    if replica is not None:
        context.add_cookies([_route_cookie(clinic, _pinned(clinic, replica))])
    page = context.new_page()
    try:
        yield page
    except BaseException:
        _save_screenshot(page, SHOTS, f"{name}-failure.png")
        raise
    finally:
        context.close()


def _route_cookie(clinic: Cluster, value: str) -> dict[str, object]:
    return {
        "name": ROUTE_COOKIE,
        "value": value,
        "url": clinic.url,
        "secure": True,
        "httpOnly": True,
        "sameSite": "Lax",
    }


def _pinned(clinic: Cluster, replica: int) -> str:
    """A route cookie for a new browser id, naming `replica` (as nginx would have set it
    for a browser that replica answered)."""
    return f"{uuid.uuid4().hex}@{clinic.replicas[replica].address}"


def _route(page) -> str:  # type: ignore[no-untyped-def]
    [value] = [c["value"] for c in page.context.cookies() if c["name"] == ROUTE_COOKIE]
    return value


def _sign_in(page, clinic: Cluster, username: str, path: str = "") -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(clinic.url, wait_until="domcontentloaded")
    form = page.get_by_role("textbox", name="Username", exact=True)
    expect(form).to_be_visible()
    _settle(page)
    _signed_in(page, username)
    if path:
        page.goto(f"{clinic.url}/{path}", wait_until="domcontentloaded")
        _settle(page, 1.0)


def _replicas_of(clinic: Cluster, route: str, after: int = 0) -> set[int | None]:
    """The replicas that answered a browser's requests (its `after` first left out)."""
    return {row.replica for row in clinic.logged(route, after + 1)[after:]}


def _websockets(clinic: Cluster, route: str, last: int) -> list[int | None]:
    """The replicas that held a browser's websockets, in order, once the last was on
    replica `last`: nginx logs one when it has closed (the browser gone or the replica
    killed), a moment after."""
    deadline = time.monotonic() + 10
    while True:
        rows = [r for r in clinic.logged(route) if r.request.startswith("GET /_stcore/stream ")]
        held = [r.replica for r in rows if r.status == 101]
        if held[-1:] == [last] or time.monotonic() > deadline:
            return held
        time.sleep(0.2)


def _until_nginx_sends_to(clinic: Cluster, replica: int, timeout_s: float = 30) -> None:
    """Until a request whose cookie names `replica` is answered by it (nginx leaves a
    failed replica out for `fail_timeout`, 10 s)."""
    deadline = time.monotonic() + timeout_s
    while True:
        probe = _pinned(clinic, replica)
        get(clinic.url, "/_stcore/health", headers={"Cookie": f"{ROUTE_COOKIE}={probe}"})
        if _replicas_of(clinic, probe) == {replica}:
            return
        assert time.monotonic() < deadline, f"nginx never sent a request to replica {replica}"
        time.sleep(1)


def _kept_assessment(db: Engine, couple_id: int) -> str:
    """The Assessment of the newest draft kept of a new session for the couple."""
    with db.connect() as conn:
        payload = conn.execute(
            text("SELECT payload FROM session_drafts WHERE target = :t ORDER BY id DESC"),
            {"t": f"new:{couple_id}"},
        ).first()
    assert payload is not None, "no draft was kept"
    return json.loads(payload[0])["sf_note_assessment"]


def _rivera_couples(db: Engine) -> list[tuple[int, str]]:
    with db.connect() as conn:
        return [
            (row[0], row[1])
            for row in conn.execute(
                text(
                    "SELECT c.id, c.goals FROM couples c JOIN users u ON u.id = c.counselor_id"
                    " WHERE u.username = 'c.rivera' AND c.status = 'active' ORDER BY c.id"
                )
            )
        ]


def test_counselors_are_spread_over_the_replicas_and_each_stays_on_one(
    browser, clinic: Cluster
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # A browser without the cookie gets a random one: 40 of them reach both replicas
    # (all on one would happen with odds 2 in 2^40).
    spread: Counter[int | None] = Counter()
    for _ in range(40):
        route = route_given(get(clinic.url, "/_stcore/health"))
        assert route is not None
        spread.update(row.replica for row in clinic.logged(route))
    assert set(spread) == {0, 1}, spread

    # Counselors, each in a new browser left to nginx, until two have landed on different
    # replicas: observed in nginx's log, not chosen by the test.
    landed: dict[int | None, tuple[str, str]] = {}  # replica -> (counselor, route cookie)
    with ExitStack() as browsers:
        for username in COUNSELORS:
            page = browsers.enter_context(visit(browser, clinic))
            _sign_in(page, clinic, username)
            expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
            [on] = _replicas_of(clinic, _route(page))
            landed.setdefault(on, (username, _route(page)))
            if len(landed) == 2:
                _save_screenshot(page, SHOTS, "replicas-second-counselor.png")
                break
    assert set(landed) == {0, 1}, landed
    # Closed: nginx has logged each websocket. Every request of each browser, its
    # Streamlit session's websocket included, went to its own replica, and its cookie
    # still names that replica.
    for replica, (_, route) in landed.items():
        assert _websockets(clinic, route, last=replica) == [replica]
        assert _replicas_of(clinic, route) == {replica}
        assert route.endswith(f"@{clinic.replicas[replica].address}"), route


def test_a_save_on_one_replica_shows_on_the_other_at_its_next_page_load(
    browser, clinic: Cluster, db: Engine
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    couple_id, goals = _rivera_couples(db)[0]
    typed = f"{goals or ''} Saved on one replica, read on the other.".strip()
    with visit(browser, clinic, replica=1) as reader, visit(browser, clinic, replica=0) as writer:
        # The reader has the couple's record open (and cached) on replica 1.
        _sign_in(reader, clinic, "c.rivera", f"couple?couple={couple_id}")
        reader.get_by_role("tab", name="Intake details").click()
        _settle(reader, 1.0)
        expect(reader.get_by_role("textbox", name="Goals")).to_have_value(goals or "")

        _sign_in(writer, clinic, "c.rivera", f"couple?couple={couple_id}")
        writer.get_by_role("tab", name="Intake details").click()
        _settle(writer, 1.0)
        writer.get_by_role("textbox", name="Goals").fill(typed)
        writer.get_by_role("button", name="Save intake details").click()
        expect(writer.get_by_text("Intake details saved.")).to_be_visible()

        reader.reload(wait_until="domcontentloaded")
        _settle(reader, 1.0)
        reader.get_by_role("tab", name="Intake details").click()
        _settle(reader, 1.0)
        expect(reader.get_by_role("textbox", name="Goals")).to_have_value(typed)
        _save_screenshot(reader, SHOTS, "replicas-saved-elsewhere.png")
        assert _replicas_of(clinic, _route(reader)) == {1}
        assert _replicas_of(clinic, _route(writer)) == {0}


def test_a_sign_out_on_one_replica_ends_the_session_on_the_other(browser, clinic: Cluster) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    with visit(browser, clinic, replica=0) as here, visit(browser, clinic, replica=1) as there:
        for page in (here, there):
            _sign_in(page, clinic, "c.rivera")
            expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        here.get_by_role("button", name="Log out").click()
        expect(here.get_by_text("You have logged out.")).to_be_visible()

        # The other replica's live session ends at its next run (a click)...
        there.get_by_test_id("stSidebar").get_by_role("link", name="Timeline").click()
        expect(there.get_by_text(re.compile("You were signed out"))).to_be_visible()
        _settle(there, 1.0)
        expect(there.get_by_role("heading", name="My caseload")).to_have_count(0)
        _save_screenshot(there, SHOTS, "replicas-signed-out-elsewhere.png")
        # ...and its browser's cookie no longer signs in there either.
        there.reload(wait_until="domcontentloaded")
        expect(there.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(there, 1.0)
        expect(there.get_by_role("heading", name="My caseload")).to_have_count(0)
        assert _replicas_of(clinic, _route(there)) == {1}


def test_single_sign_on_works_on_both_replicas_and_its_identity_on_either(
    browser, clinic: Cluster, provider: FakeProvider
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    provider.person = RIVERA
    issued = len(provider.tokens_issued)
    for replica in (0, 1):
        with visit(browser, clinic, replica=replica) as page:
            page.goto(clinic.url, wait_until="domcontentloaded")
            _settle(page, 1.0)
            page.get_by_role("button", name=SSO_BUTTON).click()
            expect(page.get_by_role("heading", name="Clinic sign-in")).to_be_visible()
            assert page.url.startswith(provider.issuer)  # localhost: another site
            page.get_by_role("link", name="Continue").click()
            expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
            _settle(page, 1.0)
            expect(page.get_by_test_id("stSidebar").get_by_text("Dana Rivera")).to_be_visible()
            # The whole exchange, the provider's redirect back included, on one replica.
            assert _replicas_of(clinic, _route(page)) == {replica}
            if replica == 1:
                # The identity cookie from replica 1, taken to replica 0 (a route cookie
                # of a browser id not seen before): signed in there without the provider
                # (both replicas share the cookie secret).
                moved = _pinned(clinic, 0)
                page.context.add_cookies([_route_cookie(clinic, moved)])
                page.reload(wait_until="domcontentloaded")
                expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
                _settle(page, 1.0)
                assert _replicas_of(clinic, moved) == {0}
    assert provider.tokens_issued[issued:] == ["idp-0042", "idp-0042"]
    assert provider.refusals == []


def test_a_replica_killed_while_a_counselor_types_loses_no_typed_character(
    browser, clinic: Cluster, db: Engine
) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL on replica 0 mid-sentence, without a pause in the typing: the counselor
    goes on at replica 1 (signing in again if needed) and is offered the draft with
    every character typed: what replica 0 had kept, completed by the draft keeper, which
    sends the tab's latest text again when the form is drawn by a new server session.
    Replica 0 then comes back (as Restart=always brings it): the browser stays on
    replica 1, where its session now is."""
    from playwright.sync_api import expect

    couple_id, _ = _rivera_couples(db)[1]
    form = f"{clinic.url}/log_session?couple={couple_id}"
    with visit(browser, clinic, replica=0, name="replicas-kill") as page:
        _sign_in(page, clinic, "c.rivera")
        page.goto(form, wait_until="domcontentloaded")
        _settle(page, 1.0)
        field = page.get_by_role("textbox", name=re.compile("^Assessment"))
        field.click()
        page.keyboard.type(TYPED, delay=30)
        clinic.replicas[0].kill()
        route = _route(page)
        assert _replicas_of(clinic, route) == {0}

        # The browser reconnects by itself; nginx finds replica 0 down and sends it on.
        before = len(clinic.logged(route))
        assert 1 in {row.replica for row in clinic.logged(route, before + 1, 30)[before:]}
        _save_screenshot(page, SHOTS, "replicas-after-kill.png")
        page.goto(form, wait_until="domcontentloaded")
        _settle(page, 1.0)
        # Signed in again from the cookie, or asked to (a replica that has served no page
        # since it started shows "Please log in to continue" with a link, once): then the
        # counselor goes to the front page, signs in, and opens the form again, in the
        # same tab (which keeps its text over the reloads).
        asked = (
            page.get_by_role("link", name="Go to the login page").count()
            or page.get_by_role("textbox", name="Username", exact=True).count()
        )
        if asked:
            page.goto(clinic.url, wait_until="domcontentloaded")
            _settle(page, 1.0)
            if page.get_by_role("textbox", name="Username", exact=True).count():
                _log_in(page, "c.rivera", DEMO_PASSWORD)
                _settle(page, 1.0)
            page.goto(form, wait_until="domcontentloaded")
            _settle(page, 1.0)
        # The offer counts the whole sentence once the tab's text has been sent again.
        offer = re.compile(rf"You have an unsaved draft .*Assessment {len(TYPED)} ")
        expect(page.get_by_text(offer)).to_be_visible()
        page.get_by_role("button", name=re.compile(r"Resume the draft from \d\d:\d\d")).click()
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name=re.compile("^Assessment"))).to_have_value(TYPED)
        _save_screenshot(page, SHOTS, "replicas-draft-resumed.png")
        assert _kept_assessment(db, couple_id) == TYPED

        # Replica 0 back: the browser stays on replica 1, which its cookie names now.
        clinic.replicas[0].start()
        _until_nginx_sends_to(clinic, 0)  # past fail_timeout: nginx uses replica 0 again
        before = len(clinic.logged(route))
        page.reload(wait_until="domcontentloaded")
        _settle(page, 1.0)
        expect(page.get_by_role("textbox", name=re.compile("^Assessment"))).to_be_visible()
        assert _replicas_of(clinic, route, after=before) == {1}
        assert _route(page).endswith(f"@{clinic.replicas[1].address}"), _route(page)
    held = _websockets(clinic, route, last=1)
    # From the killed replica to the other, and never back.
    assert held == [0] * held.count(0) + [1] * held.count(1) and held.count(0), held
