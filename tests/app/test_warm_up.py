"""The server's warm-up: started by the first run once the login form is drawn, shows
nothing, and leaves the clinic norms and the chart browser ready; without a browser the
app works."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from dashboard.services import timeline
from dashboard.ui import warm
from dashboard.ui.exports import chart_renderer
from tests.app.conftest import login, texts
from tests.conftest import Clinic


@pytest.fixture
def warming(app_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BONDLINE_WARM_UP", "1")
    timeline.NORMS_CACHE.clear()
    yield app_env
    gc.unfreeze()  # the warm-up froze this test process's heap, as it does a server's


def test_the_login_form_starts_the_warm_up_and_shows_nothing_of_it(
    app, warming: str, clinic: Clinic, db: Session
) -> None:
    at = app()
    at.run()  # the login form: the warm-up starts once it is drawn
    thread = warm._warm_up(warming)  # the thread that run started (cached)
    thread.join(timeout=90)
    assert not thread.is_alive()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert "warm" not in texts(at).lower()
    assert timeline.NORMS_CACHE._entries  # the norms are computed before any page asks
    renderer = chart_renderer()
    try:
        assert renderer.available, renderer.reason  # Chromium is running for the first PDF
    finally:
        renderer.close()
    # Signing in after it: the counselor's first page as usual, the warm-up not again.
    at = login(at, "cara.couns")
    assert not at.exception
    assert at.title[0].value == "My caseload" and "warm" not in texts(at).lower()
    assert warm._warm_up(warming) is thread


def test_without_a_chart_browser_the_warm_up_fails_quietly(
    app, warming: str, clinic: Clinic, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-browser"))
    at = app()
    at.run()
    warm._warm_up(warming).join(timeout=90)
    assert not chart_renderer().available
    at = login(at, "cara.couns")
    assert not at.exception
    assert at.title[0].value == "My caseload"
