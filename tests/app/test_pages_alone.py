"""A page script run without the entrypoint still refuses to show anything.

A freshly started server runs a script in pages/ directly for a deep link until the
entrypoint has called st.navigation once, so no page may rely on the entrypoint's
login check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import texts
from tests.conftest import Clinic

PAGES = Path(__file__).resolve().parents[2] / "pages"
# Needs no sign-in by design: alone it asks for a tablet code and shows no record.
PUBLIC = {"check_in.py": "Check in before your session"}


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES.glob("*.py")))
def test_page_alone_asks_for_login_and_shows_no_data(
    app_env: str, clinic: Clinic, page: str
) -> None:
    at = AppTest.from_file(str(PAGES / page), default_timeout=30)
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert not at.exception
    assert PUBLIC.get(page, "Please log in to continue.") in texts(at)
    assert "Alex" not in texts(at) and "C-2026-0001" not in texts(at)
    assert not at.dataframe


def test_every_page_is_in_the_navigation() -> None:
    """A page file that no role can reach is dead code or a forgotten menu entry."""
    entry = (PAGES.parent / "streamlit_app.py").read_text()
    for page in PAGES.glob("*.py"):
        assert f'"pages/{page.name}"' in entry, page.name
