"""The README's nginx block (its upstream holding the one server), run for real in front
of the app: TLS, frame protection, a route cookie for sticky sessions, and a sign-in
cookie that is Secure over HTTPS (and only then).

Debian's nginx and openssl are needed (.ci/run installs nginx); missing, this fails.
"""

from __future__ import annotations

import http.client
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.cluster import nginx_conf, self_signed_certificate
from tests.e2e.conftest import _free_port
from tests.e2e.test_browser_smoke import _open_and_log_in, _settle, browser_page

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
def proxy(server: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """nginx with the README's block (ports and certificate paths swapped for the test's
    own); yields its HTTP and HTTPS ports."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is missing: apt-get install nginx (.ci/run does this)")
    cert, key = self_signed_certificate(tmp_path)
    http_port, https_port = _free_port(), _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        nginx_conf(
            tmp_path,
            upstreams=[server.removeprefix("http://")],
            http_port=http_port,
            https_port=https_port,
            cert=cert,
            key=key,
        )
    )
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path)])
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not _answers(https_port):
            time.sleep(0.2)
        yield http_port, https_port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        _get(port, "/_stcore/health")
    except OSError:
        return False
    return True


def _get(port: int, path: str, *, tls: bool = True, cookie: str = "") -> http.client.HTTPResponse:
    if tls:
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=5, context=ssl._create_unverified_context()
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_the_readme_proxy_sends_frame_protection_and_redirects_to_https(
    server: str, proxy: tuple[int, int]
) -> None:
    http_port, https_port = proxy
    page = _get(https_port, "/")
    assert page.status == 200
    # Only Bondline's own pages may frame it (its cookie component is such a frame).
    assert page.getheader("X-Frame-Options") == "SAMEORIGIN"
    assert page.getheader("Content-Security-Policy") == "frame-ancestors 'self'"
    assert page.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert page.getheader("X-Content-Type-Options") == "nosniff"
    # The sticky-session cookie nginx sets itself (README, "A real clinic"): a browser id
    # and the server that answered; never read by a script, sent on the provider's
    # redirect back (Lax), HTTPS only.
    route = page.getheader("Set-Cookie")
    answered = re.escape(server.removeprefix("http://"))
    assert re.fullmatch(
        rf"bondline_route=[0-9a-f]{{32}}@{answered}; Path=/; Secure; HttpOnly; SameSite=Lax",
        route,
    ), route
    again = _get(https_port, "/", cookie=route.split(";")[0])
    assert again.getheader("Set-Cookie") is None  # set once, then kept
    plain = _get(http_port, "/couple?couple=1", tls=False)
    assert plain.status == 301
    assert plain.getheader("Location") == "https://127.0.0.1/couple?couple=1"


def test_the_sign_in_cookie_is_secure_over_https_only(
    server: str, proxy: tuple[int, int], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    _, https_port = proxy
    cookies = {}
    for base in (server, f"https://127.0.0.1:{https_port}"):
        with browser_page(tmp_path, test_certificate=True) as page:
            _open_and_log_in(page, base, "c.rivera")  # the app's websocket runs via nginx
            expect(page.get_by_role("heading", name="My caseload").first).to_be_visible()
            _settle(page)
            [cookie] = [c for c in page.context.cookies() if c["name"] == "bondline_auth"]
            cookies[urlparse(base).scheme] = cookie
    assert (cookies["http"]["secure"], cookies["https"]["secure"]) == (False, True)
    assert {c["sameSite"] for c in cookies.values()} == {"Strict"}
    assert not any(c["httpOnly"] for c in cookies.values())  # set by script: README says so
