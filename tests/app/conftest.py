"""AppTest fixtures: the real entrypoint on a real migrated SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import TEST_PASSWORD
from tests.naughty_strings import shown  # noqa: F401 (tests import it from here too)

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def app_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BONDLINE_COOKIE_KEY", "k" * 48)
    monkeypatch.setenv("BONDLINE_LOGIN_SLEEP_SECONDS", "0")
    monkeypatch.setenv("BONDLINE_WARM_UP", "0")  # tests/app/test_warm_up.py covers it
    yield db_url
    from dashboard.ui.db import _sessionmaker

    _sessionmaker(db_url).kw["bind"].dispose()
    st.cache_resource.clear()


@pytest.fixture
def today() -> date:
    """The day the app takes as today, taken when the test runs: a module-level
    `date.today()` is taken at import, and a suite that crosses midnight would seed and
    assert yesterday's date while the page uses today's."""
    return date.today()


def login(at: AppTest, username: str, password: str = TEST_PASSWORD) -> AppTest:
    """Fill streamlit-authenticator's fields on our login form and submit."""
    at.run()
    field = {t.label: t for t in at.text_input}
    field["Username"].input(username)
    field["Password"].input(password)
    next(b for b in at.button if b.label == "Login").click()
    return at.run()


def open_section(at: AppTest, section: str) -> AppTest:
    """Open one section (tab) of the session form, as a click on its tab does: only the
    open section's widgets are drawn."""
    from dashboard.ui.session_form import SECTION_KEY

    at.session_state[SECTION_KEY] = section
    return at.run()


@pytest.fixture
def app(app_env: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[], AppTest]:
    # AppTest keeps an unpicklable object of its own in session state, so Streamlit's
    # pickle check is switched off here; assert_state_serializable checks ours instead.
    from streamlit import config

    monkeypatch.setattr(
        config,
        "get_option",
        _override(config.get_option, {"runner.enforceSerializableSessionState": False}),
    )

    _always_run_entrypoint(monkeypatch)

    def make() -> AppTest:
        return AppTest.from_file(APP, default_timeout=30)

    return make


def _always_run_entrypoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every AppTest run go through streamlit_app.py, as the server does.

    A server treats `pages/` as a legacy page folder only until the entrypoint first
    calls st.navigation; AppTest forgets that before every run and would then run a
    page script on its own, skipping login. tests/app/test_pages_alone.py covers what
    a page does when that happens for real.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    class NavigationPagesManager(PagesManager):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)
    monkeypatch.setattr(app_test, "PagesManager", NavigationPagesManager)


def _override(
    get_option: Callable[[str], object], values: dict[str, object]
) -> Callable[[str], object]:
    def patched(key: str) -> object:
        return values[key] if key in values else get_option(key)

    return patched


def assert_state_serializable(at: AppTest) -> None:
    """What the app keeps in session state must pickle (config enforces it in production)."""
    import pickle

    for key, value in at.session_state.to_dict().items():
        if not key.startswith("$$"):
            pickle.dumps(value)


def texts(at: AppTest) -> str:
    """Everything the page says in markdown, titles, alerts and captions, as one string,
    as a reader sees it (escapes undone: see `shown`)."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "error",
        "info",
        "success",
        "warning",
        "text",
    ):
        parts.extend(shown(str(el.value)) for el in getattr(at, kind))
    return "\n".join(parts)
