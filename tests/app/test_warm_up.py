"""The server's warm-up: started by the first run once the login form is drawn, shows
nothing, and leaves the clinic norms and the chart browser ready; without a browser the
app works."""

from __future__ import annotations

import ast
import gc
import importlib.util
from collections.abc import Iterator
from pathlib import Path

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


def _dashboard_imports(script: Path) -> set[str]:
    """The dashboard modules a script imports (`from dashboard.ui import warm` names
    dashboard.ui.warm)."""
    found = set()
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dashboard"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = _is_package(node.module) and importlib.util.find_spec(sub)
                found.add(sub if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("dashboard")}
    return found


def _is_package(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.submodule_search_locations is not None


def test_the_warm_up_imports_every_module_a_page_draws_with() -> None:
    """A page's first view after a start should import nothing of its own."""
    root = Path(__file__).resolve().parents[2]
    scripts = [root / "streamlit_app.py", *sorted((root / "pages").glob("*.py"))]
    warmed = set(warm.page_modules()) | set(warm.MODULES) | set(warm.PAGE_PACKAGES)
    imported = {(script.name, name) for script in scripts for name in _dashboard_imports(script)}
    assert len(imported) > 20  # the parse found the pages' imports
    assert {(page, name) for page, name in imported if name not in warmed} == set()


def test_glibc_heaps_are_capped_unless_an_administrator_set_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert warm.cap_malloc_arenas() is True  # this machine's glibc takes M_ARENA_MAX
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    opened: list[object] = []
    monkeypatch.setattr(warm.ctypes, "CDLL", lambda name: opened.append(name))
    assert warm.cap_malloc_arenas() is False
    assert opened == []  # the C library was not even looked up
