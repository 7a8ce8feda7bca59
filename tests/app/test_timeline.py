"""The couple timeline on the demo clinic: each kind of couple reads differently."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard import demo
from db.models import Couple
from tests.app.conftest import login, texts


@pytest.fixture
def showcase(db: Session) -> dict[str, int]:
    """The demo clinic; the demo counselor's showcase couples by kind, as couple ids."""
    summary = demo.load_demo(db, bcrypt_rounds=4)
    ids = {code: couple_id for code, couple_id in db.execute(select(Couple.case_code, Couple.id))}
    db.rollback()
    return {kind: ids[code] for kind, code in summary.showcase.items()}


def _timeline(at: AppTest, couple_id: int) -> AppTest:
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(couple_id)
    return at.run()


@pytest.mark.parametrize(
    ("kind", "expected", "absent"),
    [
        (
            "improving",
            [
                "Partner A: clinically significant improvement",
                "Partner B: clinically significant improvement",
            ],
            ["Not on track", "Split alliance"],
        ),
        (
            "stalled",
            [
                "Partner A: no reliable change",
                "not on track: no reliable improvement after 8 sessions",
                "Not on track",
            ],
            ["Split alliance"],
        ),
        (
            "deteriorating",
            ["reliable deterioration", "Partner A reliably deteriorated", "Not on track"],
            ["Split alliance"],
        ),
        (
            "split_alliance",
            [
                "Split alliance",
                "split alliance: Partner B reliably improved while Partner A reliably deteriorated",
                "more than 20 EII points apart",
            ],
            [],
        ),
        ("regressed_twice", ["stage regressed twice in a row (3 → 2 → 1)", "Not on track"], []),
        (
            "one_session",
            ["Partner A: baseline only", "One jointly rated session so far: it is the baseline."],
            ["Not on track"],
        ),
        (
            "no_sessions",
            ["Partner A: no ratings yet", "No sessions yet. Log the first session"],
            ["Not on track"],
        ),
    ],
)
def test_each_kind_of_couple_reads_in_words(
    app, showcase: dict[str, int], kind: str, expected: list[str], absent: list[str]
) -> None:
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), showcase[kind])
    assert not at.exception, at.exception
    page = texts(at)
    for words in expected:
        assert words in page, (kind, words)
    for words in absent:
        assert words not in page, (kind, words)
    assert "locally derived from" in page  # the method and its n are named
    charts = at.get("plotly_chart")
    assert len(charts) == (0 if kind == "no_sessions" else 5)


def test_supervisor_reads_the_timeline_read_only(app, showcase: dict[str, int]) -> None:
    at = _timeline(login(app(), demo.DEMO_SUPERVISOR, demo.DEMO_PASSWORD), showcase["stalled"])
    page = texts(at)
    assert "Read-only: you are reviewing this couple." in page
    assert "not on track: no reliable improvement after 8 sessions" in page
    assert not any(b.label in {"Save session", "Save changes"} for b in at.button)
    empty = _timeline(
        login(app(), demo.DEMO_SUPERVISOR, demo.DEMO_PASSWORD), showcase["no_sessions"]
    )
    assert "No sessions yet." in texts(empty)
    assert not any(link.label == "Log the first session" for link in empty.get("page_link"))


def test_another_counselor_cannot_open_it(app, showcase: dict[str, int]) -> None:
    at = _timeline(login(app(), "c.haddad", demo.DEMO_PASSWORD), showcase["improving"])
    page = texts(at)
    assert "This couple is not in your caseload." in page
    assert not at.get("plotly_chart")
    assert "locally derived" not in page
