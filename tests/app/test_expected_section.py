"""The Admin page's Expected course tab: the version in use and how v1 was made; on
request the course fitted now and whose alerts would move; Publish, after a confirmation,
names v2."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from dashboard import demo
from dashboard.domain import expected_response as er
from dashboard.services import expected
from tests.app.conftest import login, texts


@pytest.fixture
def fifty_couples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo clinic has 82 couples with two counselor ratings (83 with two from some
    source): with a minimum of 50 (the real one is 100) its own course is published as
    it loads."""
    monkeypatch.setattr(er, "MIN_COUPLES", 50)
    expected.COURSES_CACHE.clear()


def test_the_admin_sees_the_version_previews_and_publishes(  # type: ignore[no-untyped-def]
    app, db: Session, fifty_couples: None
) -> None:
    demo.load_demo(db, bcrypt_rounds=4)
    at = login(app(), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    page = texts(at)
    assert re.search(r"In use: expected course v1 of \d+ \w+ \d{4}, 83 couples\.", page)
    assert re.search(
        r"v1, published automatically once 50 couples had a course on \d+ \w+ \d{4}", page
    )
    [table] = [d.value for d in at.dataframe if "Course" in d.value.columns]
    eii = table.set_index(["Measure", "Rated by"])
    assert eii.loc[("EII", "counselor ratings"), "Course"] == "clinic's own"
    assert eii.loc[("EII", "counselor ratings"), "Couples"] == "82"
    # The demo's 8 couples with two of their own answers are too few: the fallback.
    assert eii.loc[("EII", "partners' own answers"), "Course"] == "rational fallback"
    assert not [b for b in at.button if b.label.startswith("Publish")]  # preview first

    at.toggle(key="expected_preview").set_value(True).run()
    assert not at.exception, at.exception
    page = texts(at)
    # Nothing was added since v1: the course fitted now is the same, nobody moves.
    assert (
        "What would change, of 99 couples with sessions judged on the EII: No couple's "
        "alert would change." in page
    )
    [preview] = [d.value for d in at.dataframe if "Middle intake" in d.value.columns]
    row = preview.set_index(["Measure", "Rated by"]).loc[("EII", "counselor ratings")]
    assert re.fullmatch(r"[+−±]\d+\.\d \(from \d+\.\d\)", row["Middle intake"])
    [publish] = [b for b in at.button if b.label.startswith("Publish")]
    assert publish.label == "Publish as expected course v2…"
    publish.click().run()
    assert not at.exception, at.exception
    # The confirmation: nothing is published until it is answered.
    assert "name it as expected course v2" in texts(at)
    [confirm] = [b for b in at.button if b.label == "Publish v2"]
    confirm.click().run()
    assert not at.exception, at.exception
    page = texts(at)
    assert re.search(r"Published expected course v2 of \d+ \w+ \d{4}, 83 couples\.", page)
    assert re.search(r"In use: expected course v2 of \d+ \w+ \d{4}, 83 couples\.", page)
    assert at.toggle(key="expected_preview").value is False


def test_before_v1_the_tab_says_the_fallback_is_in_use_and_why(  # type: ignore[no-untyped-def]
    app, db: Session
) -> None:
    expected.COURSES_CACHE.clear()
    demo.load_demo(db, bcrypt_rounds=4)  # 82 couples with a course, 100 needed
    at = login(app(), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    assert (
        "In use: rational fallback: no change expected (Jacobson & Truax 1991); 82 couples "
        "with two counselor ratings (8 with two of their own answers), 100 needed for the "
        "clinic's own course." in texts(at)
    )
    at.toggle(key="expected_preview").set_value(True).run()
    [publish] = [b for b in at.button if b.label.startswith("Publish")]
    publish.click().run()
    [confirm] = [b for b in at.button if b.label == "Publish v1"]
    confirm.click().run()
    assert not at.exception, at.exception
    assert (
        "The clinic's own expected course needs 100 couples with two ratings from one "
        "source; the clinic has 82. Until then the rational fallback is used." in texts(at)
    )
