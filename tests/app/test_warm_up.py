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


def test_the_sign_in_page_draws_a_chart_and_a_table_nobody_sees(
    app, warming: str, clinic: Clinic
) -> None:
    """The browser loads plotly.js and the grid's code while the counselor types: the
    login form stays the only thing on the page, and the first page after it has none."""
    at = app()
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert [c.key for c in at.get("plotly_chart")] == [f"{warm.PRIMER_KEY}_chart"]
    assert len(at.dataframe) == 1
    style = " ".join(str(h.proto.body) for h in at.get("html"))
    assert f".st-key-{warm.PRIMER_KEY}" in style and "visibility: hidden" in style
    warm._warm_up(warming).join(timeout=90)
    at = login(at, "cara.couns")
    assert not at.exception
    assert at.title[0].value == "My caseload"
    assert not at.get("plotly_chart")
    assert not any(warm.PRIMER_KEY in str(h.proto.body) for h in at.get("html"))


def test_without_the_warm_up_the_sign_in_page_draws_only_the_form(app, clinic: Clinic) -> None:
    at = app()
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.get("plotly_chart") and not at.dataframe
