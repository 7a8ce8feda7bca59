"""Safety first, on the demo clinic of 6 Dec 2026 (the day issue 20's couple was read):
c.rivera's deteriorating couple, C-2026-0021 since issue 21 gave the demo a practice's
pace (issue 20 read it as C-2026-0019), has three flagged sessions (10 Aug, 4 Sep,
18 Sep; the last one followed by calmer sessions) that say "Safety" with those dates on
My caseload, the supervisor's attention list, the timeline and the progress report,
whatever came after. The demo is deterministic for a seed and a day (test_demo.py), and
its deteriorating showcase always has three flags, so the dates are literals.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.domain.need import BY_CASE_CODE, BY_NEED, order_caseload
from dashboard.domain.safety import flag_line
from dashboard.reports.model import SAFETY_NOTES_NOT_INCLUDED
from dashboard.services import review, timeline
from dashboard.services.auth import actor_of
from dashboard.services.reports import couple_report
from dashboard.services.review import ReviewFilters
from db.models import Couple, CoupleSession, User
from tests.unit.test_report_pdf import flat, pdf_text

DAY = date(2026, 12, 6)
CODE = "C-2026-0021"
DATES = "10 Aug 2026, 4 Sep 2026, 18 Sep 2026"
LINE = f"Safety flag at 3 sessions: {DATES}"


@pytest.fixture
def demo(db: Session, backend: str) -> Session:
    timeline.NORMS_CACHE.clear()
    load_demo(db, today=DAY, bcrypt_rounds=4)
    db.rollback()
    return db


def _user(db: Session, username: str):  # type: ignore[no-untyped-def]
    return actor_of(db.scalars(select(User).where(User.username == username)).one())


def test_c_2026_0021_is_flagged_everywhere_with_its_three_dates(
    demo: Session, tmp_path: Path
) -> None:
    db = demo
    couple = db.scalars(select(Couple).where(Couple.case_code == CODE)).one()
    counselor, supervisor = _user(db, "c.rivera"), _user(db, "sup.okafor")
    assert couple.counselor_id == counselor.user_id
    # The record: three flagged sessions, and held sessions after the last of them.
    flagged = db.scalars(
        select(CoupleSession.session_date).where(
            CoupleSession.couple_id == couple.id, CoupleSession.safety_flag.is_(True)
        )
    ).all()
    assert sorted(flagged) == [date(2026, 8, 10), date(2026, 9, 4), date(2026, 9, 18)]
    later = db.scalars(
        select(CoupleSession.session_date).where(
            CoupleSession.couple_id == couple.id,
            CoupleSession.session_date > date(2026, 9, 18),
            CoupleSession.attendance == "both",
        )
    ).all()
    assert later, "the demo holds a calm session after the last flag"

    # My caseload: Safety first among the flags, first in the need order.
    mine = review.caseload_with_flags(
        db, counselor, statuses=("active", "paused"), today=DAY, record_view=False
    )
    row = mine.set_index("case_code").loc[CODE]
    assert row["safety"] and row["flags"] == "Safety · Not on track"
    assert row["reasons"].startswith(LINE + "; Not on track: ")
    by_need = order_caseload(mine, BY_NEED)
    safety_rows = by_need[by_need["safety"]]
    assert list(safety_rows.index) == list(range(len(safety_rows)))  # all at the top
    assert CODE in set(safety_rows["case_code"])
    by_code = order_caseload(mine, BY_CASE_CODE)
    assert list(by_code["case_code"]) == sorted(mine["case_code"])

    # The supervisor's attention list: the same words, safety first.
    _, listed = review.review_with_attention(
        db, supervisor, ReviewFilters(), today=DAY, record_view=False
    )
    attention = listed.set_index("case_code").loc[CODE]
    assert attention["flags"] == "Safety · Not on track"
    assert attention["reasons"] == row["reasons"]
    assert list(listed["flags"].str.startswith("Safety")).index(False) == int(
        listed["flags"].str.startswith("Safety").sum()
    ), "couples with a safety flag come first"

    # The timeline's status and the report.
    view = timeline.timeline_view(db, counselor, couple.id, record_view=False)
    assert flag_line(view.safety) == LINE
    report = couple_report(db, counselor, couple.id, today=DAY, audit_it=False, include_notes=True)
    path = tmp_path / "report.pdf"
    path.write_bytes(report.data)
    text = flat(pdf_text(path))
    assert f"Safety {LINE}" in text
    assert text.index(LINE) < text.index("Trajectory status")
    assert "10 Aug 2026: " in text and "18 Sep 2026: " in text
    # Without session notes the dates still print, and no note's text.
    bare = couple_report(db, counselor, couple.id, today=DAY, audit_it=False)
    path.write_bytes(bare.data)
    text = flat(pdf_text(path))
    assert f"Safety {LINE}" in text
    assert "10 Aug 2026: " not in text and SAFETY_NOTES_NOT_INCLUDED in text
