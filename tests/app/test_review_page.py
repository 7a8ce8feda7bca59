"""The caseload review page: numbers that follow the filters, the attention list, reviews.

The small clinic (tests/conftest.py): sam.super supervises cara.couns; olly.other is
supervised by no one. Dates are relative to the real today, as the page uses it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard import demo
from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import BarrierTag, CoupleInput, SessionInput
from dashboard.services import couples, sessions
from dashboard.services.timeline import NORMS_CACHE
from db.engine import begin_write
from db.models import Barrier, Couple, SupervisionLink, SupervisionReview
from tests.app.conftest import login, texts
from tests.conftest import Clinic


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _session(day: date, *, safety: bool = False, barrier_id: int | None = None) -> SessionInput:
    ratings = {i.key: 6 for i in INDICATORS}
    return SessionInput(
        session_date=day,
        duration_minutes=50,
        format="in_person",
        attendance="both",
        note_data="They talked about the week.",
        note_assessment="Guarded but engaged.",
        note_plan="Daily check-in.",
        stage=2,
        barriers=[BarrierTag(barrier_id, 2, "")] if barrier_id else [],
        ratings={"A": dict(ratings), "B": dict(ratings)},
        safety_flag=safety,
        safety_note="Raised voices at home; safety plan agreed." if safety else "",
    )


@pytest.fixture
def review_clinic(db: Session, clinic: Clinic, today: date) -> dict[str, int]:
    """cara.couns: Alex & Blair (active, a safety flag at the last session, a barrier
    tagged) and Eli & Fran (closed this month); olly.other: Casey & Drew (active)."""
    NORMS_CACHE.clear()
    fear = db.scalar(select(Barrier.id).where(Barrier.code == "fear_of_vulnerability"))
    assert fear is not None
    sessions.log_session(
        db, clinic.counselor, clinic.couple_id, _session(today - timedelta(days=20)), today=today
    )
    sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        _session(today - timedelta(days=6), safety=True, barrier_id=fear),
        today=today,
    )
    closed = couples.create_couple(
        db,
        clinic.counselor,
        CoupleInput("Eli", "Fran", today - timedelta(days=120), "Distance", "Closeness"),
        today=today,
    )
    version = db.scalar(select(Couple.version).where(Couple.id == closed))
    couples.change_status(
        db,
        clinic.counselor,
        closed,
        new_status="closed",
        closing_reason="goals_met",
        expected_version=int(version or 1),
    )
    db.rollback()
    return {"closed": closed, "fear": int(fear)}


def _review(at: AppTest) -> AppTest:
    at.switch_page("pages/review.py")
    return at.run()


def test_supervisor_numbers_follow_the_filters(
    app, clinic: Clinic, review_clinic: dict[str, int], today: date
) -> None:
    at = _review(login(app(), "sam.super"))
    assert not at.exception
    assert at.title[0].value == "Caseload review"
    # Default: active and paused couples of cara only (olly is not supervised).
    assert _metrics(at) == {
        "Couples": "1",
        "Active": "1",
        "Sessions held in range": "2",
        "Overdue": "0",
        "Need attention": "1",
    }
    attention = at.dataframe[0].value
    at.session_state["review_tab"] = "Counselors"  # the per-counselor table's tab
    at.run()
    assert "Casey" not in texts(at) and "Olly Other" not in str(at.dataframe[0].value)
    # Who needs attention sits beside the counselor's name (on screen at 800 px).
    counselors = next(d.value for d in at.dataframe if "couples" in d.value.columns)
    assert list(counselors.columns[:3]) == ["counselor", "needs_attention", "safety"]
    assert counselors.set_index("counselor").loc["All counselors", "needs_attention"] == 1
    assert [c.key for c in at.get("plotly_chart")] == [
        "chart_outcome_mix",
        "chart_stage_distribution",
    ]
    at.session_state["review_tab"] = "Needs attention"
    at.run()
    assert list(attention["case_code"]) == ["C-2026-0001"]
    assert attention["reasons"].iloc[0].startswith("Safety flag at the session of ")

    # Every status: the closed couple joins (closed this month, so open in the range).
    at.multiselect(key="review_statuses").select("closed").run()
    assert _metrics(at)["Couples"] == "2" and _metrics(at)["Active"] == "1"

    # A barrier: only couples with it tagged in the range.
    at.selectbox(key="review_barrier").select(review_clinic["fear"]).run()
    assert _metrics(at)["Couples"] == "1"
    at.selectbox(key="review_barrier").select(None).run()

    # Overdue after 5 days: the last session was 6 days ago.
    at.number_input(key="review_overdue_days").set_value(5).run()
    assert _metrics(at)["Overdue"] == "1"

    # A range that ends before anyone was seen: nobody, and the list says so.
    year_ago = today - timedelta(days=400)
    at.date_input(key="review_range").set_value((year_ago, year_ago + timedelta(days=10))).run()
    assert _metrics(at)["Couples"] == "0"
    assert "No couple in this selection needs attention." in texts(at)


def test_admin_sees_every_counselor_and_filters_by_counselor(
    app, clinic: Clinic, review_clinic: dict[str, int]
) -> None:
    at = _review(login(app(), "admin"))
    assert not at.exception
    assert at.title[0].value == "Clinic overview"
    assert _metrics(at)["Couples"] == "2"  # Alex & Blair, Casey & Drew
    # The admin's overview has the per-month tab; an admin reads the list, never reviews.
    assert any(t.label == "By month" for t in at.tabs)
    at.selectbox(key="review_couple").select(clinic.couple_id).run()
    assert any(b.label == "Open timeline" for b in at.button)
    assert not any(b.label == "Mark reviewed" for b in at.button)
    at.multiselect(key="review_counselors").select(clinic.other_counselor.user_id).run()
    assert _metrics(at)["Couples"] == "1" and _metrics(at)["Need attention"] == "0"


def test_a_range_that_ends_before_it_starts_is_refused_next_to_the_field(
    app, clinic: Clinic, review_clinic: dict[str, int], db: Session, today: date
) -> None:
    at = _review(login(app(), "sam.super"))
    at.date_input(key="review_range").set_value((today, today - timedelta(days=3))).run()
    assert not at.exception
    assert "The range must start on or before its last day." in texts(at)
    assert not at.metric


def test_counselor_cannot_open_the_review(app, clinic: Clinic) -> None:
    at = login(app(), "cara.couns")
    with pytest.raises(ValueError):
        at.switch_page("pages/review.py")  # not in a counselor's menu


def test_review_comment_reaches_the_counselor(
    app, clinic: Clinic, review_clinic: dict[str, int], db: Session
) -> None:
    at = _review(login(app(), "sam.super"))
    at.selectbox(key="review_couple").select(clinic.couple_id).run()
    # An empty comment is refused next to the field; nothing is written.
    next(b for b in at.button if b.label == "Mark reviewed").click().run()
    assert "Write a short comment for the counselor." in texts(at)
    assert db.scalar(select(SupervisionReview.id)) is None
    db.rollback()

    at.text_area[0].input("Discussed the safety plan; check in on it next session.")
    at.run()
    # A look at the couple's timeline and back: the comment is still there.
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    at = _review(at)
    at.selectbox(key="review_couple").select(clinic.couple_id).run()
    assert at.text_area[0].value == "Discussed the safety plan; check in on it next session."
    next(b for b in at.button if b.label == "Mark reviewed").click().run()
    assert not at.exception
    assert "C-2026-0001 marked reviewed" in texts(at)
    assert "Every couple on the list has been reviewed." in texts(at)
    at.toggle(key="review_show_reviewed").set_value(True).run()
    assert at.dataframe[0].value["review"].iloc[0].endswith("by Sam Super")

    counselor = login(app(), "cara.couns")
    counselor.switch_page("pages/couple.py")
    counselor.query_params["couple"] = str(clinic.couple_id)
    counselor.run()
    page = texts(counselor).replace("\\", "")  # the comment is shown markdown-escaped
    assert "Discussed the safety plan; check in on it next session." in page
    assert "Sam Super" in page


@pytest.fixture
def showcase(db: Session) -> dict[str, str]:
    """The demo clinic; the demo counselor's showcase couples by kind, as case codes."""
    NORMS_CACHE.clear()
    summary = demo.load_demo(db, bcrypt_rounds=4)
    db.rollback()
    return dict(summary.showcase)


def test_demo_supervisor_finds_the_deteriorating_and_diverging_couples(
    app, showcase: dict[str, str]
) -> None:
    at = _review(login(app(), "sup.okafor", demo.DEMO_PASSWORD))
    assert not at.exception
    listed = at.dataframe[0].value.set_index("case_code")
    deteriorating = listed.loc[showcase["deteriorating"], "reasons"]
    # A safety flag, when the demo drew one for this couple, comes first (its dates move
    # with today's date: tests/integration/test_safety_flags.py pins a day).
    assert "Not on track: Partner A reliably deteriorated (RCI −" in deteriorating
    diverging = listed.loc[showcase["diverging"], "reasons"]
    # Which partner improves is drawn by the demo's seeded generator (it moves with today's
    # date); the reason must name one partner improving and the other deteriorating.
    assert re.search(
        r"partners diverging: Partner ([AB]) reliably improved while Partner (?!\1)[AB] reliably "
        r"deteriorated",
        diverging,
    ), diverging
    assert "Not on track · Partners diverging" in listed.loc[showcase["diverging"], "flags"]
    assert (
        "stage regressed twice in a row (3 → 2 → 1)"
        in (listed.loc[showcase["regressed_twice"], "reasons"])
    )
    assert showcase["improving"] not in listed.index


def test_a_supervisor_with_no_counselors_is_told_why_the_page_is_empty(
    app, clinic: Clinic, db: Session
) -> None:
    begin_write(db)
    db.execute(delete(SupervisionLink))
    db.commit()
    at = _review(login(app(), "sam.super"))
    assert not at.exception
    assert "No counselor is assigned to you for supervision yet." in texts(at)
    assert not at.metric and not at.dataframe
