"""Partner check-ins in a real Chromium: the counselor makes the links, a partner answers
on a phone-sized screen without signing in, and the answers reach the next session.

One demo clinic and one served app for the whole module (the tests use different
couples). The served app and this process share the audit key, which keys the links'
digests, so a check-in made here through the service opens there.

Every link a partner cannot use (used, unknown, revoked, expired) counts as a guess
from 127.0.0.1; after five in 15 minutes the page asks to wait instead. This module
makes four, all in the first test.

Screenshots go to /tmp/ci/shots/ (outside the repo).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard.domain.catalog import INDICATORS, IndicatorKind, Role
from dashboard.services import check_ins
from dashboard.services.actor import Actor
from dashboard.ui.check_in_page import NEUTRAL, QUESTIONS
from dashboard.ui.literal import md_text
from db.engine import make_engine, make_sessionmaker
from db.models import utcnow
from tests.e2e.conftest import ROOT, serve
from tests.e2e.test_browser_smoke import _settle, _signed_in

pytestmark = pytest.mark.e2e

UI_TIMEOUT_MS = 30_000
SHOTS = Path("/tmp/ci/shots")
DESK = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
# The same key for the served app and this process (tests/conftest.py sets one for the
# whole run; it is passed to the server explicitly all the same).
AUDIT_KEY = os.environ.get("BONDLINE_AUDIT_KEY") or "test-audit-key-" + "k" * 32
# Partner A's answers, in the order of the page's questions (catalog order), each
# chosen by keyboard in its row of 0..10 (Space picks the focused 0, arrows move on).
A_VALUES = dict(zip([i.key for i in INDICATORS], [7, 4, 10, 6, 8, 2, 0, 3], strict=True))


@dataclass(frozen=True)
class Couple:
    id: int
    code: str
    name_a: str
    name_b: str


@dataclass(frozen=True)
class Clinic:
    base: str
    db_path: Path
    couples: list[Couple]  # c.rivera's active couples, none with an open check-in


@dataclass(frozen=True)
class Answered:
    """A check-in whose partner A has answered on a phone; B's link is still unused."""

    couple: Couple
    check_in_id: int
    initials: dict[str, str]
    links: dict[str, str]
    note: str


# --- the clinic, the server, the browser (once per module) ------------------------------


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    tmp = tmp_path_factory.mktemp("check_in")
    db_path = tmp / "demo.sqlite3"
    url = f"sqlite:///{db_path}"
    env = {**os.environ, "BONDLINE_AUDIT_KEY": AUDIT_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "--url", url, "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"loading the demo failed:\n{result.stdout}\n{result.stderr}"
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            """
            SELECT c.id, c.case_code, c.partner_a_name, c.partner_b_name
            FROM couples c JOIN users u ON u.id = c.counselor_id
            WHERE u.username = 'c.rivera' AND c.status = 'active' AND c.deleted_at IS NULL
              AND NOT EXISTS (
                SELECT 1 FROM check_ins ci WHERE ci.couple_id = c.id
                  AND ci.session_id IS NULL AND ci.cancelled_at IS NULL)
            ORDER BY c.id
            """
        ).fetchall()
    assert len(rows) >= 3, rows
    server_env = {
        "DATABASE_URL": url,
        "BONDLINE_COOKIE_KEY": secrets.token_urlsafe(48),
        "BONDLINE_LOGIN_SLEEP_SECONDS": "0",
        "BONDLINE_AUDIT_KEY": AUDIT_KEY,
    }
    with (
        pytest.MonkeyPatch.context() as mp,
        serve("streamlit_app.py", tmp / "streamlit.log", server_env) as base,
    ):
        mp.setenv("BONDLINE_AUDIT_KEY", AUDIT_KEY)  # for this process's service calls
        yield Clinic(base, db_path, [Couple(*row) for row in rows])


@contextlib.contextmanager
def _context(browser, name: str, **options: object) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) and page; a failure leaves a screenshot."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield page
    except BaseException:
        with contextlib.suppress(Exception):
            _shot(page, f"failure-{name}.png")
        raise
    finally:
        context.close()


def _phone(browser, name: str):  # type: ignore[no-untyped-def]
    """A partner's phone: 390 x 844, touch, nobody signed in."""
    return _context(
        browser, name, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )


@pytest.fixture(scope="module")
def counselor(browser, clinic: Clinic) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """c.rivera, signed in at a 1440-wide desk, for the whole module."""
    from playwright.sync_api import expect

    with _context(browser, "counselor", viewport=DESK) as page:
        page.goto(clinic.base, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page)
        _signed_in(page, "c.rivera")
        expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
        _settle(page, 1.0)
        yield page


# --- helpers ---------------------------------------------------------------------------


def _shot(page, name: str, *, whole: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """A screenshot of the viewport; `whole`: the viewport stretched to the page's full
    height first (Streamlit scrolls inside the app, so a full-page shot would not)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.mouse.move(0, 0)  # no hover toolbar on whatever is under the last click
    size = page.viewport_size
    if whole and size:
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight || 0))"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        page.wait_for_timeout(300)
    try:
        page.screenshot(path=str(path))
    finally:
        if whole and size:
            page.set_viewport_size(size)
    return path


def _goto(page, url: str) -> None:  # type: ignore[no-untyped-def]
    """Open a signed-in deep link and wait for the app to settle: the page the address
    names, with no "Page not found" dialog over it (as the entrypoint's first
    navigation once brought up, making the page inert)."""
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    _settle(page, 1.0)
    expect(page.get_by_role("dialog").filter(has_text="Page not found")).to_have_count(0)


def _main_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_test_id("stMain").inner_text()


def _open_check_ins_tab(page, clinic: Clinic, couple: Couple) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    _goto(page, f"{clinic.base}/couple?couple={couple.id}")
    expect(
        page.get_by_role("heading", name=re.compile(re.escape(couple.code))).first
    ).to_be_visible()
    page.get_by_role("tab", name="Check-ins").click()
    _settle(page, 1.0)


def _make_links(page, couple: Couple, initials: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """On the open Check-ins tab: both partners asked, with these initials; the two
    links as shown in the code blocks."""
    from playwright.sync_api import expect

    expect(page.get_by_role("checkbox", name=f"A link for {couple.name_a}")).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"A link for {couple.name_b}")).to_be_checked()
    boxes = page.get_by_role("textbox", name="Initials the page shows")
    for n, p in enumerate("AB"):
        boxes.nth(n).fill(initials[p])
        boxes.nth(n).press("Tab")
        _settle(page, 0.5)
    page.get_by_role("button", name="Make check-in links").click()
    _settle(page, 1.0)
    blocks = page.get_by_test_id("stCode").filter(has_text="/check_in?t=")
    expect(blocks).to_have_count(2)
    urls = [re.sub(r"\s+", "", text) for text in blocks.all_inner_texts()]
    expect(page.get_by_text(f"Link for {couple.name_a}")).to_be_visible()
    expect(page.get_by_text(f"Link for {couple.name_b}")).to_be_visible()
    expect(page.get_by_test_id("stImage").filter(has_text="QR code for")).to_have_count(2)
    for name in (couple.name_a, couple.name_b):  # what a screen reader reads for each
        expect(
            page.get_by_role("img", name=f"QR code of the check-in link for {name}")
        ).to_be_visible()
    for url in urls:
        parts = urlsplit(url)
        assert parts.path == "/check_in" and re.fullmatch(r"t=[\w-]{40,}", parts.query), url
    assert urls[0] != urls[1]
    return {"A": urls[0], "B": urls[1]}


def _open_check_in_id(clinic: Clinic, couple: Couple) -> int:
    with sqlite3.connect(clinic.db_path) as conn:
        (check_in_id,) = conn.execute(
            "SELECT id FROM check_ins WHERE couple_id = ? AND session_id IS NULL"
            " AND cancelled_at IS NULL",
            (couple.id,),
        ).fetchone()
    return check_in_id


def _stored_answers(clinic: Clinic, check_in_id: int, partner: str) -> tuple:
    with sqlite3.connect(clinic.db_path) as conn:
        return conn.execute(
            "SELECT answers, note, submitted_at FROM check_in_partners"
            " WHERE check_in_id = ? AND partner = ?",
            (check_in_id, partner),
        ).fetchone()


def _open_link(page, url: str) -> None:  # type: ignore[no-untyped-def]
    """A partner opens their link: as the page is drawn (within a second of its first
    heading) the token leaves the address bar."""
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    expect(page.get_by_role("heading").first).to_be_visible()
    page.wait_for_function("() => !location.search.includes('t=')", timeout=1000)
    _settle(page, 1.0)
    assert urlsplit(page.url).query == "", page.url
    assert urlsplit(page.url).path == "/check_in", page.url
    # Replaced in place, not pushed: the new tab's blank page and this one, so Back
    # leaves the check-in instead of bringing the token back.
    assert page.evaluate("history.length") == 2


def _scales(page):  # type: ignore[no-untyped-def]
    """The questions' rows of 0..10 (radio groups named by their question)."""
    return page.get_by_role("radiogroup")


def _unanswered(page) -> None:  # type: ignore[no-untyped-def]
    """Every question shows nothing chosen: eight rows of eleven, none checked."""
    from playwright.sync_api import expect

    expect(_scales(page)).to_have_count(len(INDICATORS))
    expect(_scales(page).get_by_role("radio")).to_have_count(len(INDICATORS) * 11)
    expect(_scales(page).get_by_role("radio", checked=True)).to_have_count(0)


def _answer(page, values: dict[str, int], note: str) -> None:  # type: ignore[no-untyped-def]
    """Every item answered by keyboard (Tab into the question's row, then Space on 0 or
    the arrow keys), and the note typed."""
    from playwright.sync_api import expect

    _unanswered(page)
    for n, item in enumerate(INDICATORS):
        # The n-th row is named by this item's question (the values go to the right keys).
        row = _scales(page).nth(n)
        expect(row).to_have_accessible_name(QUESTIONS[item.key])
        if n == 0:
            row.get_by_role("radio").first.focus()
        else:
            page.keyboard.press("Tab")  # one Tab from the last row's choice to this row
        expect(row.get_by_role("radio", name="0", exact=True)).to_be_focused()
        value = values[item.key]
        if value == 0:
            page.keyboard.press("Space")
        for _ in range(value):
            page.keyboard.press("ArrowRight")
        expect(row.get_by_role("radio", name=str(value), exact=True)).to_be_checked()
        expect(row.get_by_role("radio", checked=True)).to_have_count(1)
    note_box = page.get_by_role("textbox", name=re.compile("^Anything you want your counselor"))
    note_box.fill(note)
    expect(note_box).to_have_value(note)


def _neutral(page) -> str:  # type: ignore[no-untyped-def]
    """The one page every unusable link shows; its visible text."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Check-in", exact=True)).to_be_visible()
    expect(page.get_by_text(NEUTRAL)).to_be_visible()
    _settle(page, 0.5)
    expect(_scales(page)).to_have_count(0)
    return _main_text(page)


def _actor(clinic: Clinic) -> Actor:
    with sqlite3.connect(clinic.db_path) as conn:
        user_id, name = conn.execute(
            "SELECT id, display_name FROM users WHERE username = 'c.rivera'"
        ).fetchone()
    return Actor(user_id, "c.rivera", name, Role.COUNSELOR)


@pytest.fixture(autouse=True)
def _counselor_shot_on_failure(request: pytest.FixtureRequest, counselor) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The counselor's page lives for the module: a test that fails leaves its picture."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        with contextlib.suppress(Exception):
            _shot(counselor, f"failure-counselor-{request.node.name}.png", whole=True)


# --- a check-in that partner A has answered (for the second and third test) -------------


@pytest.fixture(scope="module")
def answered(browser, counselor, clinic: Clinic) -> Answered:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    couple = clinic.couples[2]
    initials = {"A": ":+1:", "B": "[B]"}  # an emoji shortcode and brackets, shown as typed
    _open_check_ins_tab(counselor, clinic, couple)
    links = _make_links(counselor, couple, initials)
    counselor.get_by_role("button", name="Done, hide the links").click()
    _settle(counselor, 1.0)
    note = f"Kestrel-{secrets.token_hex(4)}: the week was hard, ask me about Sunday"
    with _phone(browser, "answered-A") as page:
        _open_link(page, links["A"])
        expect(page.get_by_text(f"Check-in for {initials['A']}.")).to_be_visible()
        _answer(page, A_VALUES, note)
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    check_in_id = _open_check_in_id(clinic, couple)
    answers, stored_note, _ = _stored_answers(clinic, check_in_id, "A")
    assert json.loads(answers)["ratings"] == A_VALUES and stored_note == note
    return Answered(couple, check_in_id, initials, links, note)


# --- the tests ---------------------------------------------------------------------------


def test_a_partner_answers_on_a_phone_and_every_unusable_link_looks_the_same(  # type: ignore[no-untyped-def]
    browser,
    counselor,
    clinic: Clinic,
) -> None:
    from playwright.sync_api import expect

    couple = clinic.couples[0]
    initials = {"A": "$x", "B": "x$"}  # between two dollars markdown would draw a formula
    _open_check_ins_tab(counselor, clinic, couple)
    expect(
        counselor.get_by_text("Ask the partners to check in before the next session")
    ).to_be_visible()
    links = _make_links(counselor, couple, initials)
    expect(counselor.get_by_text("Shown once")).to_be_visible()
    expect(counselor.get_by_text("not opened", exact=True).filter(visible=True)).to_have_count(2)
    _shot(counselor, "desk-check-ins-links-made.png", whole=True)
    check_in_id = _open_check_in_id(clinic, couple)

    # Partner A, on their phone: the token leaves the address at once.
    note = f"Heron-{secrets.token_hex(4)}: please start with the money talk"
    with _phone(browser, "phone-A") as page:
        _open_link(page, links["A"])
        expect(page.get_by_role("heading", name="Before your session")).to_be_visible()
        expect(
            page.get_by_text(
                f"Check-in for {initials['A']}. Your answers go to your counselor only: "
                f"{initials['B']} will not see them."
            )
        ).to_be_visible()
        assert page.locator("meta[name=referrer]").get_attribute("content") == "no-referrer"
        expect(page.get_by_test_id("stSidebar")).not_to_be_visible()
        for name_ in (couple.name_a, couple.name_b, couple.code):
            assert name_ not in _main_text(page), name_
        _shot(page, "phone-questions.png")
        _answer(page, A_VALUES, note)
        _shot(page, "phone-questions-answered-whole.png", whole=True)
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        expect(page.get_by_text("Your answers are saved.")).to_be_visible()
        _settle(page, 0.5)
        _shot(page, "phone-thank-you.png")
    answers, stored_note, submitted_at = _stored_answers(clinic, check_in_id, "A")
    assert submitted_at is not None
    assert json.loads(answers) == {"ratings": A_VALUES, "totals": {}}
    assert stored_note == note

    # The same link a second time, a made-up one, a revoked one, an expired one: one page.
    seen: dict[str, str] = {}
    with _phone(browser, "second-use") as page:
        _open_link(page, links["A"])
        seen["used"] = _neutral(page)
        _shot(page, "phone-neutral.png")
    with _phone(browser, "random") as page:
        _open_link(page, f"{clinic.base}/check_in?t={secrets.token_urlsafe(32)}")
        seen["unknown"] = _neutral(page)

    counselor.get_by_role("button", name="Done, hide the links").click()
    _settle(counselor, 1.0)
    expect(counselor.get_by_text("done", exact=True).filter(visible=True)).to_have_count(1)
    # The button keyed for partner B's line (A has answered: no Revoke there).
    revoke_b = counselor.locator(f".st-key-cip_revoke_{check_in_id}_B")
    revoke_b.get_by_role("button", name="Revoke").click()
    _settle(counselor, 1.0)
    expect(counselor.get_by_text("revoked", exact=True).filter(visible=True)).to_have_count(1)
    with _phone(browser, "revoked") as page:
        _open_link(page, links["B"])
        seen["revoked"] = _neutral(page)

    # A check-in made 80 hours ago through the service: its 72-hour links have expired.
    expired_couple = clinic.couples[1]
    engine = make_engine(f"sqlite:///{clinic.db_path}")
    try:
        with make_sessionmaker(engine)() as db:
            made = check_ins.create_check_in(
                db,
                _actor(clinic),
                expired_couple.id,
                partners={"A", "B"},
                initials={"A": "EX", "B": "PY"},
                now=utcnow() - timedelta(hours=80),
            )
    finally:
        engine.dispose()
    with _phone(browser, "expired") as page:
        _open_link(page, f"{clinic.base}/check_in?t={made.tokens['A']}")
        seen["expired"] = _neutral(page)
    _open_check_ins_tab(counselor, clinic, expired_couple)
    expect(counselor.get_by_text("expired", exact=True).filter(visible=True)).to_have_count(2)

    assert len(set(seen.values())) == 1, seen
    assert seen["used"].replace(NEUTRAL, "").split() == ["Check-in"], seen["used"]

    # The clinic tablet: no link, a box for the code.
    with _phone(browser, "tablet") as page:
        _open_link(page, f"{clinic.base}/check_in")
        expect(page.get_by_role("heading", name="Check in before your session")).to_be_visible()
        expect(page.get_by_role("textbox", name="Your check-in code")).to_be_visible()
        expect(page.get_by_role("button", name="Continue")).to_be_visible()
        _shot(page, "phone-tablet-code.png")


def test_the_other_partner_never_sees_the_first_partners_answers(  # type: ignore[no-untyped-def]
    browser,
    answered: Answered,
) -> None:
    from playwright.sync_api import expect

    received: list[bytes] = []

    def listen(ws) -> None:  # type: ignore[no-untyped-def]
        ws.on(
            "framereceived",
            lambda frame: received.append(frame if isinstance(frame, bytes) else frame.encode()),
        )

    with _phone(browser, "partner-B") as page:
        page.on("websocket", listen)
        _open_link(page, answered.links["B"])
        expect(page.get_by_text(f"Check-in for {answered.initials['B']}.")).to_be_visible()
        expect(page.get_by_role("heading", name="Before your session")).to_be_visible()
        _unanswered(page)
        note_box = page.get_by_role("textbox", name=re.compile("^Anything you want your counselor"))
        expect(note_box).to_have_value("")
        text = _main_text(page)
        html = page.content()
        marker = answered.note.split(":")[0]
        for where in (text, html):
            assert marker not in where
            assert f"Check-in for {answered.initials['A']}" not in where
            assert "Thank you" not in where
        assert received, "no websocket traffic was seen"
        assert not [f for f in received if marker.encode() in f]


def test_the_counselor_sees_done_and_the_answers_fill_the_session_form(  # type: ignore[no-untyped-def]
    counselor,
    clinic: Clinic,
    answered: Answered,
) -> None:
    from playwright.sync_api import expect

    couple = answered.couple
    _open_check_ins_tab(counselor, clinic, couple)
    line_a = counselor.get_by_test_id("stMarkdown").filter(
        has_text=f"{couple.name_a} (shown as {answered.initials['A']})", visible=True
    )
    expect(line_a).to_contain_text(re.compile(r"\bdone · answered "))
    expect(
        counselor.get_by_text(f"Note from {couple.name_a}, for you only:").filter(visible=True)
    ).to_have_count(1)
    expect(counselor.get_by_text(answered.note, exact=True)).to_be_visible()

    _goto(counselor, f"{clinic.base}/log_session?couple={couple.id}")
    expect(counselor.get_by_role("heading", name="Log session")).to_be_visible()
    counselor.get_by_role("tab", name="Ratings").click()
    _settle(counselor, 1.0)
    expect(
        counselor.get_by_text(f"Self-report: {couple.name_a} gave these answers in their check-in")
    ).to_be_visible()
    expect(counselor.get_by_text(answered.note, exact=True)).to_be_visible()
    for item in INDICATORS:
        label = item.label + (" (warning sign)" if item.kind is IndicatorKind.WARNING else "")
        # Each box is named with the item and the partner (a label is markdown, so the
        # name goes through md_text).
        box_a, box_b = (
            counselor.get_by_role("spinbutton", name=f"{label} · {md_text(name)}", exact=True)
            for name in (couple.name_a, couple.name_b)
        )
        expect(box_a).to_have_value(str(A_VALUES[item.key]))
        expect(box_a).to_be_disabled()
        expect(box_b).to_have_value("")
        expect(box_b).to_be_enabled()
    expect(counselor.get_by_text(f"Self-report: {couple.name_b}")).to_have_count(0)
    _shot(counselor, "desk-log-session-ratings.png", whole=True)
