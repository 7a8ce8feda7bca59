"""Split alliance on the pages: the supervisor's attention list (flag, 'Listed for'
filter, counts), the couple's timeline (badge and sentence) and My caseload (flag and the
'Alliance (SRS)' column); where it cannot be judged, the page says what it needs.

Known answers: SRS 35.9 / 36.0 at one session is a split alliance (below = strictly under
36, srs.toml); the other couple has no SRS at all: not judged.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from dashboard.domain.validation import SessionInput
from dashboard.services import instruments, sessions
from dashboard.services.timeline import NORMS_CACHE
from tests.app.conftest import login, texts
from tests.app.test_review_page import _session as review_session
from tests.conftest import Clinic


def _session(day: date, srs: tuple[float, float] | None) -> SessionInput:
    totals = {"A": {"srs": srs[0]}, "B": {"srs": srs[1]}} if srs else {}
    return dataclasses.replace(review_session(day), instrument_totals=totals)


@pytest.fixture
def split(db: Session, clinic: Clinic, today: date) -> None:
    """cara.couns's Alex & Blair: SRS 35.9 and 36.0 six days ago (split); olly.other's
    Casey & Drew: a session without any SRS."""
    NORMS_CACHE.clear()
    instruments.set_licence(db, clinic.admin, "srs", licensed=True)
    day = today - timedelta(days=6)
    sessions.log_session(db, clinic.counselor, clinic.couple_id, _session(day, (35.9, 36.0)))
    sessions.log_session(db, clinic.other_counselor, clinic.other_couple_id, _session(day, None))
    db.rollback()


def test_the_attention_list_lists_and_filters_a_split_alliance(
    app, clinic: Clinic, split: None
) -> None:
    at = login(app(), "admin")
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception
    listed = at.dataframe[0].value
    assert listed["case_code"].tolist() == ["C-2026-0001"]
    assert listed["flags"].tolist() == ["Split alliance"]
    assert listed["reasons"].iloc[0].startswith("Split alliance: Partner A's SRS 35.9 is below")
    # One of the two couples has both partners' SRS at one session: the page says so.
    assert (
        "Split alliance is judged for 1 of 2 couples: the others have no session where both "
        "partners have an SRS total."
    ) in texts(at)
    assert at.pills(key="review_listed_for").options == [
        "Safety",
        "Not on track",
        "Partners diverging",
        "Split alliance",
        "Below expected course",
    ]
    at.pills(key="review_listed_for").set_value(["Not on track"]).run()
    assert "No couple on the list is listed for not on track." in texts(at)
    at.pills(key="review_listed_for").set_value(["Split alliance"]).run()
    assert at.dataframe[0].value["case_code"].tolist() == ["C-2026-0001"]

    at.session_state["review_tab"] = "Counselors"
    at.run()
    counselors = next(d.value for d in at.dataframe if "couples" in d.value.columns)
    total = counselors.set_index("counselor").loc["All counselors"]
    assert (total["split_alliance"], total["alliance_judged"], total["not_on_track"]) == (1, 1, 0)


def test_the_timeline_and_my_caseload_say_it_and_what_is_missing(
    app, clinic: Clinic, split: None, today: date
) -> None:
    at = login(app(), "cara.couns")
    caseload = at.dataframe[0].value.set_index("case_code")
    assert caseload.loc["C-2026-0001", "flags"] == "Split alliance"
    assert caseload.loc["C-2026-0001", "alliance"] == "Split alliance"

    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert not at.exception
    page = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert ":orange-badge[Split alliance]" in page
    day = today - timedelta(days=6)
    assert (
        f"Split alliance: at the session of {day.day} {day:%b %Y} Alex rated the session "
        "with the counselor below the SRS cutoff (35.9, under 36) while Blair rated it at "
        "or above (36.0)."
    ) in page

    other = login(app(), "olly.other")
    assert other.dataframe[0].value["alliance"].tolist() == ["Needs both partners' SRS"]
    other.switch_page("pages/timeline.py")
    other.query_params["couple"] = str(clinic.other_couple_id)
    other.run()
    page = "\n".join(m.value for m in other.markdown).replace("\\", "")
    assert "Split alliance: needs both partners' SRS at one session." in page
    assert "orange-badge[Split alliance]" not in page and "No split alliance" not in page
