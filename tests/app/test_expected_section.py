"""The Admin page's Expected course tab: the version in use and how v1 was made; on
request the course fitted now and whose alerts would move; Publish, after a confirmation,
names v2."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import demo
from dashboard.domain import expected_response as er
from dashboard.services import expected
from db.models import CoupleSession
from tests.app.conftest import login, texts


@pytest.fixture
def fifty_couples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo clinic has about 80 couples with two counselor ratings: with a minimum
    of 50 (the real one is 100) its own course is published as it loads."""
    monkeypatch.setattr(er, "MIN_COUPLES", 50)
    expected.COURSES_CACHE.clear()


def couples_with_two(db: Session) -> tuple[int, int, int]:
    """Counted here from the stored sessions, not by the service: couples in which a
    partner has two counselor ratings, two of their own answers, either. (The demo's
    check-ins depend on the clock, so the counts are read, not written down.)"""
    rows = db.execute(
        select(CoupleSession.couple_id, CoupleSession.source_a, CoupleSession.source_b).where(
            CoupleSession.deleted_at.is_(None)
        )
    ).all()
    db.rollback()
    ratings: Counter[tuple[int, str, str]] = Counter()
    for couple_id, source_a, source_b in rows:
        for partner, source in (("a", source_a), ("b", source_b)):
            if source is not None:
                ratings[(couple_id, partner, source)] += 1
    two = {(c, source) for (c, _, source), n in ratings.items() if n >= 2}
    counselor = {c for c, source in two if source == "counselor"}
    own = {c for c, source in two if source == "self"}
    return len(counselor), len(own), len(counselor | own)


def test_the_admin_sees_the_version_previews_and_publishes(  # type: ignore[no-untyped-def]
    app, db: Session, fifty_couples: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.load_demo(db, bcrypt_rounds=4)
    fits: list[int] = []  # the fits made from here on: seconds each in a large clinic
    fit = expected.candidate
    monkeypatch.setattr(expected, "candidate", lambda db: fits.append(1) or fit(db))
    counselor, own, _ = couples_with_two(db)
    # Each source's course named: the counselor's the clinic's own, the own answers' not.
    sources = (
        f": counselor ratings from {counselor} couples; partners' own answers: rational "
        f"fallback ({own} couple{'' if own == 1 else 's'} of the 50 needed)."
    )
    assert counselor >= 50 > own  # the counselor's course is the clinic's own, not the other
    at = login(app(), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    page = texts(at)
    assert re.search(rf"In use: expected course v1 of \d+ \w+ \d{{4}}{re.escape(sources)}", page)
    assert re.search(
        r"v1, published automatically once 50 couples had a course on \d+ \w+ \d{4}; its "
        r"fallback bands from clinic norms v1\.",
        page,
    )
    [table] = [d.value for d in at.dataframe if "Course" in d.value.columns]
    eii = table.set_index(["Measure", "Rated by"])
    assert eii.loc[("EII", "counselor"), "Course"] == "clinic's own"
    assert eii.loc[("EII", "counselor"), "Couples"] == str(counselor)
    # The demo's few couples with two of their own answers: the fallback.
    assert eii.loc[("EII", "own answers"), "Course"] == "fallback"
    assert eii.loc[("EII", "own answers"), "Couples"] == str(own)
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
    row = preview.set_index(["Measure", "Rated by"]).loc[("EII", "counselor")]
    assert re.fullmatch(r"[+−±]\d+\.\d \(from \d+\.\d\)", row["Middle intake"])
    [publish] = [b for b in at.button if b.label.startswith("Publish")]
    assert publish.label == "Publish as expected course v2…"
    assert "Publish stores exactly this" in page
    publish.click().run()
    assert not at.exception, at.exception
    # The confirmation: nothing is published until it is answered.
    assert "name it as expected course v2" in texts(at)
    [confirm] = [b for b in at.button if b.label == "Publish v2"]
    confirm.click().run()
    assert not at.exception, at.exception
    page = texts(at)
    assert re.search(rf"Published expected course v2 of \d+ \w+ \d{{4}}{re.escape(sources)}", page)
    assert re.search(rf"In use: expected course v2 of \d+ \w+ \d{{4}}{re.escape(sources)}", page)
    assert at.toggle(key="expected_preview").value is False
    # One fit for the preview; Publish…, its dialog and the publish reuse it (finding 7).
    assert len(fits) == 1


def test_before_v1_the_tab_says_the_fallback_is_in_use_and_why(  # type: ignore[no-untyped-def]
    app, db: Session
) -> None:
    expected.COURSES_CACHE.clear()
    demo.load_demo(db, bcrypt_rounds=4)  # about 80 couples with a course, 100 needed
    counselor, own, _ = couples_with_two(db)
    at = login(app(), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    assert (
        f"In use: rational fallback: no change expected (Jacobson & Truax 1991); {counselor} "
        f"couples with two counselor ratings ({own} with two of their own answers), 100 "
        "needed for the clinic's own course." in texts(at)
    )
    at.toggle(key="expected_preview").set_value(True).run()
    [publish] = [b for b in at.button if b.label.startswith("Publish")]
    publish.click().run()
    [confirm] = [b for b in at.button if b.label == "Publish v1"]
    confirm.click().run()
    assert not at.exception, at.exception
    assert (
        "The clinic's own expected course needs 100 couples with two ratings from one "
        f"source; the clinic has {counselor}. Until then the rational fallback is used."
        in texts(at)
    )
