"""The server's warm-up: started by the first signed-in run (never by the login form),
shows nothing, and leaves the clinic norms and the chart browser ready; without a
browser the app works."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from dashboard.services import timeline
from dashboard.ui import warm
from dashboard.ui.exports import chart_renderer
from tests.app.conftest import login, texts
from tests.conftest import Clinic


@pytest.fixture
def warming(app_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BONDLINE_WARM_UP", "1")
    timeline.NORMS_CACHE.clear()
    return app_env


def test_the_first_signed_in_run_starts_the_warm_up_and_shows_nothing_of_it(
    app, warming: str, clinic: Clinic, db: Session
) -> None:
    at = app()
    at.run()  # the login form: nothing is warmed yet
    assert not timeline.NORMS_CACHE._entries
    at = login(at, "cara.couns")
    thread = warm._warm_up(warming)  # the thread the signed-in run started (cached)
    thread.join(timeout=90)
    assert not thread.is_alive()
    assert not at.exception
    assert at.title[0].value == "My caseload" and "warm" not in texts(at).lower()
    assert timeline.NORMS_CACHE._entries  # the norms are computed before any page asks
    renderer = chart_renderer()
    try:
        assert renderer.available, renderer.reason  # Chromium is running for the first PDF
    finally:
        renderer.close()


def test_without_a_chart_browser_the_warm_up_fails_quietly(
    app, warming: str, clinic: Clinic, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-browser"))
    at = login(app(), "cara.couns")
    warm._warm_up(warming).join(timeout=90)
    assert not chart_renderer().available
    at.run()
    assert not at.exception
    assert at.title[0].value == "My caseload"
