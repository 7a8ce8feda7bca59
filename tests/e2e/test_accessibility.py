"""axe-core on every page and role, in a real Chromium: no critical or serious violation.

Each role signs in and opens each page of its menu by URL, then every tab on it (tabs
draw their content only when opened), and axe-core 4.12 (from the pinned
axe-playwright-python wheel, read from disk) checks the page as drawn. The counselor
also makes check-in links, so the QR codes are checked while they show; the partner's
check-in page is checked on a 390 px phone with a real link. The login page is checked
before anyone signs in.

A failure lists every critical or serious violation: where (role, page, tab), the rule,
how many elements, and the first few of them. Moderate and minor ones are printed too.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dashboard.domain.catalog import Role
from dashboard.services import check_ins
from dashboard.services.actor import Actor
from db.engine import make_engine, make_sessionmaker
from tests.e2e.test_browser_smoke import _settle, _signed_in, browser_page

pytestmark = pytest.mark.e2e

UI_TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
FAILING = ("critical", "serious")


@dataclass(frozen=True)
class Clinic:
    base: str
    db_path: Path
    couple_id: int  # c.rivera's active couple with the most sessions (sup.okafor's group)
    session_id: int  # its newest session
    link_couple_id: int  # another of c.rivera's couples, for the partner's link


def _clinic(server: str, demo_db_url: str) -> Clinic:
    """The served demo clinic (tests/e2e/conftest.py) and the records the pages open."""
    db_path = Path(demo_db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db_path) as conn:
        couples = conn.execute(
            """
            SELECT c.id FROM couples c JOIN users u ON u.id = c.counselor_id
            JOIN sessions s ON s.couple_id = c.id AND s.deleted_at IS NULL
            WHERE u.username = 'c.rivera' AND c.status = 'active' AND c.deleted_at IS NULL
              AND NOT EXISTS (
                SELECT 1 FROM check_ins ci WHERE ci.couple_id = c.id
                  AND ci.session_id IS NULL AND ci.cancelled_at IS NULL)
            GROUP BY c.id ORDER BY COUNT(s.id) DESC, c.id LIMIT 2
            """
        ).fetchall()
        assert len(couples) == 2, couples
        (session_id,) = conn.execute(
            "SELECT id FROM sessions WHERE couple_id = ? AND deleted_at IS NULL "
            "ORDER BY session_date DESC, id DESC LIMIT 1",
            (couples[0][0],),
        ).fetchone()
    return Clinic(server, db_path, couples[0][0], session_id, couples[1][0])


@dataclass
class Findings:
    """Every violation axe reported, by where it was seen."""

    failing: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def add(self, where: str, violations: list[dict]) -> None:
        for v in violations:
            nodes = v["nodes"]
            shown = "; ".join(
                f"{' '.join(map(str, n['target']))} {n['html'][:120]!r}" for n in nodes[:3]
            )
            line = f"{where}: {v['id']} ({v['impact']}) x{len(nodes)}: {v['help']} -- {shown}"
            (self.failing if v["impact"] in FAILING else self.other).append(line)

    def check(self) -> None:
        if self.other:
            print("Moderate or minor (not failing):\n" + "\n".join(self.other))
        assert not self.failing, "critical or serious axe violations:\n" + "\n".join(self.failing)


@pytest.fixture(scope="module")
def axe():  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    return Axe()  # the axe.min.js inside the wheel: nothing is fetched


def _check(page, axe, findings: Findings, where: str) -> None:  # type: ignore[no-untyped-def]
    response = axe.run(page).response
    findings.add(where, response["violations"])


def _sign_in(page, clinic: Clinic, username: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(clinic.base, wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    _settle(page, 1.0)
    _signed_in(page, username)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _open(page, clinic: Clinic, path: str) -> None:  # type: ignore[no-untyped-def]
    """A signed-in page opened by URL, settled, with no dialog over it."""
    from playwright.sync_api import expect

    page.goto(f"{clinic.base}/{path}", wait_until="domcontentloaded")
    _settle(page, 1.0)
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def _tabs(page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("stMain").get_by_role("tab")


def _every_tab(page, axe, findings: Findings, where: str, on_tab=None) -> int:  # type: ignore[no-untyped-def]
    """axe on the page as opened, then on each of its tabs in turn; how many were
    checked. `on_tab(page, name)` may act on a tab before it is checked (and checked again)."""
    _check(page, axe, findings, where)
    names = _tabs(page).all_inner_texts()
    for name in names[1:]:
        _tabs(page).filter(has_text=name).first.click()
        _settle(page, 1.0)
        _check(page, axe, findings, f"{where}, tab {name!r}")
        if on_tab is not None and on_tab(page, name):
            _check(page, axe, findings, f"{where}, tab {name!r}, after acting")
    return len(names) or 1


# Each role's menu, as paths: (page title, path). The couple and session are the same
# for all three roles (c.rivera's couple, in sup.okafor's group; an admin sees all).
def _menu(clinic: Clinic, role: str) -> list[tuple[str, str]]:
    couple, session = clinic.couple_id, clinic.session_id
    shared = [
        ("Couple", f"couple?couple={couple}"),
        ("Timeline", f"timeline?couple={couple}"),
    ]
    if role == "counselor":
        return [
            ("My caseload", ""),
            *shared,
            ("Log session (new)", f"log_session?couple={couple}"),
            ("Log session (edit)", f"log_session?session={session}"),
            ("Exports", "exports"),
        ]
    start = "Clinic overview" if role == "admin" else "Caseload review"
    pages = [
        (start, ""),
        ("Couples", "caseload"),
        *shared,
        ("Session", f"log_session?session={session}"),
        ("Exports", "exports"),
    ]
    return pages + ([("Admin", "admin")] if role == "admin" else [])


def _make_links(page, name: str) -> bool:  # type: ignore[no-untyped-def]
    """On the couple's Check-ins tab: make links, so the QR codes show for axe."""
    from playwright.sync_api import expect

    if name != "Check-ins":
        return False
    boxes = page.get_by_role("textbox", name="Initials the page shows")
    for n, initials in enumerate(("AX", "BX")):
        boxes.nth(n).fill(initials)
        boxes.nth(n).press("Tab")
        _settle(page, 0.5)
    page.get_by_role("button", name="Make check-in links").click()
    _settle(page, 1.0)
    expect(page.get_by_test_id("stImage").filter(has_text="QR code")).to_have_count(2)
    return True


@pytest.mark.parametrize(
    ("role", "username"),
    [("counselor", "c.rivera"), ("supervisor", "sup.okafor"), ("admin", "admin")],
)
def test_every_page_of_a_role_has_no_serious_axe_violation(  # type: ignore[no-untyped-def]
    server: str, demo_db_url: str, tmp_path: Path, axe, role: str, username: str
) -> None:
    clinic = _clinic(server, demo_db_url)
    findings = Findings()
    checked = 0
    with browser_page(tmp_path) as page:
        _sign_in(page, clinic, username)
        for title, path in _menu(clinic, role):
            _open(page, clinic, path)
            on_tab = _make_links if role == "counselor" and title == "Couple" else None
            checked += _every_tab(page, axe, findings, f"{role}: {title} (/{path})", on_tab)
    assert checked >= len(_menu(clinic, role))
    findings.check()


def test_the_login_page_and_the_partners_phone_page_have_no_serious_axe_violation(  # type: ignore[no-untyped-def]
    server: str, demo_db_url: str, tmp_path: Path, axe
) -> None:
    from playwright.sync_api import expect

    clinic = _clinic(server, demo_db_url)
    with sqlite3.connect(clinic.db_path) as conn:
        user_id, display_name = conn.execute(
            "SELECT id, display_name FROM users WHERE username = 'c.rivera'"
        ).fetchone()
    # The served app and this process share the audit key (tests/conftest.py), which
    # keys the link's digest, so a link made here opens there.
    engine = make_engine(f"sqlite:///{clinic.db_path}")
    try:
        with make_sessionmaker(engine)() as db:
            made = check_ins.create_check_in(
                db,
                Actor(user_id, "c.rivera", display_name, Role.COUNSELOR),
                clinic.link_couple_id,
                partners={"A"},
                initials={"A": "PA", "B": "PB"},
            )
    finally:
        engine.dispose()

    findings = Findings()
    with browser_page(tmp_path) as page:
        page.goto(clinic.base, wait_until="domcontentloaded")
        expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
        _settle(page, 1.0)
        _check(page, axe, findings, "login page")

        phone = page.context.browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
        )
        try:
            partner = phone.new_page()
            partner.set_default_timeout(UI_TIMEOUT_MS)
            partner.goto(
                f"{clinic.base}/check_in?t={made.tokens['A']}", wait_until="domcontentloaded"
            )
            expect(partner.get_by_role("heading", name="Before your session")).to_be_visible()
            _settle(partner, 1.0)
            expect(partner.get_by_text("Check-in for PA")).to_be_visible()
            # The questions themselves, not a refusal.
            expect(partner.get_by_role("button", name="Send my answers")).to_be_visible()
            _check(partner, axe, findings, "partner's check-in page (390 px)")
        finally:
            phone.close()
    findings.check()
