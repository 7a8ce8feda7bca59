"""Split alliance from the partners' SRS, read from the database on both backends: the
timeline, the report's status, My caseload's flags and the supervisor's attention list
and counts say the same thing, and an absent flag is never "no".

Known answers (srs.toml: below = strictly under the cutoff 36, Miller & Duncan 2004):
35.9 is below and 36.0 is not, so 35.9 / 36.0 at one session is a split alliance; 36.0 /
36.0 is not; a total of one partner only, or the two partners' totals at two different
sessions, leave it absent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.domain.alliance import AllianceFlag, AlliancePoint, split_alliance
from dashboard.domain.plain_words import status_lines
from dashboard.domain.validation import SessionInput
from dashboard.services import instruments, review, sessions, supervision, timeline
from dashboard.services.auth import actor_of
from dashboard.services.reports import couple_report
from dashboard.services.review import ReviewFilters
from db.models import Couple, CoupleSession, InstrumentTotal, User
from tests.conftest import Clinic
from tests.unit.test_report_pdf import flat, pdf_text

TODAY = date(2026, 3, 31)
NEEDS = "Split alliance: needs both partners' SRS at one session."
SPLIT_REASON = (
    "Split alliance: Partner A's SRS 35.9 is below the cutoff 36 while Partner B's 36.0 is "
    "at or above it (session of 2 Mar 2026)"
)

Log = Callable[..., int]


@pytest.fixture
def log(db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]) -> Log:
    """Log a joint session of `couple` on `day` with these SRS totals (None: not given)."""

    def logged(couple: int, day: date, a: float | None, b: float | None) -> int:
        actor = clinic.counselor if couple == clinic.couple_id else clinic.other_counselor
        totals = {p: {"srs": t} for p, t in (("A", a), ("B", b)) if t is not None}
        return sessions.log_session(
            db, actor, couple, make_input(session_date=day, instrument_totals=totals), today=TODAY
        )

    return logged


def _flags(db: Session, clinic: Clinic) -> dict[int, tuple[str, bool, str]]:
    frame = review.caseload_flags(
        db, clinic.admin, [clinic.couple_id, clinic.other_couple_id], today=TODAY
    )
    return {
        int(r.couple_id): (str(r.alliance), bool(r.split_alliance), str(r.flags))
        for r in frame.itertuples()
    }


def _status(db: Session, clinic: Clinic, couple: int) -> tuple[str, ...]:
    view = timeline.timeline_view(db, clinic.admin, couple, record_view=False)
    return status_lines(view.data, view.trajectory, view.alliance)


def _pdf_status(db: Session, clinic: Clinic, tmp_path: Path) -> str:
    """The one-page report's text, read back with pdftotext (no charts: no browser)."""
    file = couple_report(
        db, clinic.counselor, clinic.couple_id, today=TODAY, summary_only=True, audit_it=False
    )
    path = tmp_path / file.filename
    path.write_bytes(file.data)
    return flat(pdf_text(path))


def test_split_at_the_boundary_is_flagged_everywhere(
    db: Session, clinic: Clinic, log: Log, backend: str, tmp_path: Path
) -> None:
    instruments.set_licence(db, clinic.admin, "srs", licensed=True)
    log(clinic.couple_id, date(2026, 3, 2), 35.9, 36.0)  # 35.9 < 36 <= 36.0: split
    log(clinic.other_couple_id, date(2026, 3, 2), 30.0, None)  # one partner only
    log(clinic.other_couple_id, date(2026, 3, 9), None, 38.0)  # the other, another day

    view = timeline.timeline_view(db, clinic.counselor, clinic.couple_id, record_view=False)
    assert view.alliance.state is AllianceFlag.SPLIT
    lines = status_lines(view.data, view.trajectory, view.alliance)
    name_a, name_b = view.data.partner_a, view.data.partner_b
    assert lines[-1] == (
        f"Split alliance: at the session of 2 Mar 2026 {name_a} rated the session with the "
        f"counselor below the SRS cutoff (35.9, under 36) while {name_b} rated it at or "
        "above (36.0)."
    )
    assert _status(db, clinic, clinic.other_couple_id)[-1] == NEEDS
    assert lines[-1] in _pdf_status(db, clinic, tmp_path)

    assert _flags(db, clinic) == {
        clinic.couple_id: ("split alliance", True, "Split alliance"),
        clinic.other_couple_id: ("not judged", False, ""),
    }

    data = review.caseload_review(
        db,
        clinic.admin,
        ReviewFilters(start=date(2026, 1, 1)),
        today=TODAY,
        record_view=False,
    )
    listed = data.attention.set_index("couple_id")
    assert list(listed.index) == [clinic.couple_id]  # a reason of its own, not "not on track"
    row = listed.loc[clinic.couple_id]
    assert (row["flags"], row["reasons"], row["attention_key"]) == (
        "Split alliance",
        SPLIT_REASON,
        "split_alliance",
    )
    assert (int(data.totals["split_alliance"]), int(data.totals["alliance_judged"])) == (1, 1)
    assert int(data.totals["not_on_track"]) == 0 and int(data.totals["needs_attention"]) == 1
    assert data.alliance_in_use

    # A supervisor marks it reviewed against that key; it stays reviewed.
    supervision.mark_reviewed(
        db, clinic.supervisor, clinic.couple_id, "Talked about the alliance.", today=TODAY
    )
    latest = supervision.latest_reviews(db, [clinic.couple_id]).iloc[0]
    assert latest["attention_key"] == "split_alliance"


def test_the_latest_session_with_both_totals_decides(
    db: Session, clinic: Clinic, log: Log, backend: str
) -> None:
    instruments.set_licence(db, clinic.admin, "srs", licensed=True)
    log(clinic.couple_id, date(2026, 3, 2), 35.9, 36.0)  # split
    log(clinic.couple_id, date(2026, 3, 9), 36.0, 36.0)  # both at the cutoff: not split
    log(clinic.couple_id, date(2026, 3, 16), 20.0, None)  # one partner only: skipped
    assert _flags(db, clinic)[clinic.couple_id] == ("no split alliance", False, "")
    view = timeline.timeline_view(db, clinic.admin, clinic.couple_id, record_view=False)
    assert (view.alliance.session_date, view.alliance.total_a, view.alliance.total_b) == (
        date(2026, 3, 9),
        36.0,
        36.0,
    )
    assert _status(db, clinic, clinic.couple_id)[-1] == (
        f"No split alliance: at the session of 9 Mar 2026 {view.data.partner_a} and "
        f"{view.data.partner_b} both rated the session with the counselor at or above the "
        "SRS cutoff 36 (36.0 and 36.0)."
    )
    data = review.caseload_review(
        db, clinic.admin, ReviewFilters(start=date(2026, 1, 1)), today=TODAY, record_view=False
    )
    assert data.attention.empty
    assert (int(data.totals["split_alliance"]), int(data.totals["alliance_judged"])) == (0, 1)
    # As at 5 Mar, the review reads the sessions up to then: split.
    earlier = review.caseload_review(
        db,
        clinic.admin,
        ReviewFilters(start=date(2026, 1, 1), end=date(2026, 3, 5)),
        today=TODAY,
        record_view=False,
    )
    assert earlier.attention["flags"].tolist() == ["Split alliance"]


def test_the_srs_switched_off_leaves_the_flag_absent_and_says_why(
    db: Session, clinic: Clinic, log: Log, backend: str, tmp_path: Path
) -> None:
    instruments.set_licence(db, clinic.admin, "srs", licensed=True)
    log(clinic.couple_id, date(2026, 3, 2), 35.9, 36.0)
    instruments.set_licence(db, clinic.admin, "srs", licensed=False)
    assert _flags(db, clinic)[clinic.couple_id] == ("not judged", False, "")
    assert _status(db, clinic, clinic.couple_id)[-1] == (
        NEEDS + " The SRS is switched off for this clinic (Admin, licences)."
    )
    data = review.caseload_review(
        db, clinic.admin, ReviewFilters(start=date(2026, 1, 1)), today=TODAY, record_view=False
    )
    assert data.attention.empty and not data.alliance_in_use
    assert int(data.totals["alliance_judged"]) == 0
    # The report, which may be handed to the couple, says nothing of a scale not in use.
    assert "alliance" not in _pdf_status(db, clinic, tmp_path).lower()


def test_demo_clinic_every_couple_agrees_and_the_showcase_is_split(
    db: Session, backend: str
) -> None:
    """The demo clinic (SRS licence on, two PCOMS counselors): the review's vectorized
    rule equals the one-couple rule over totals read with a plain select, couple by
    couple; the stalled showcase couple is split, the diverging one is not."""
    today = date(2026, 12, 3)
    summary = load_demo(db, today=today, bcrypt_rounds=4)
    rule, in_use = instruments.alliance_rule(db)
    assert rule is not None and in_use
    ids = dict(db.execute(select(Couple.case_code, Couple.id)).all())
    totals = instruments.alliance_totals(db, select(Couple.id))
    judged = totals.judged(sorted(ids.values()))

    rows = db.execute(
        select(
            InstrumentTotal.partner,
            InstrumentTotal.total,
            CoupleSession.couple_id,
            CoupleSession.id,
            CoupleSession.session_date,
        )
        .join(CoupleSession, CoupleSession.id == InstrumentTotal.session_id)
        .where(InstrumentTotal.instrument == "srs", CoupleSession.deleted_at.is_(None))
    ).all()
    db.rollback()
    points: dict[int, dict[int, AlliancePoint]] = {}
    for partner, total, couple, session, day in rows:
        mine = points.setdefault(couple, {})
        point = mine.get(session) or AlliancePoint(session, day, None, None)
        key = "total_a" if partner == "A" else "total_b"
        mine[session] = dataclasses.replace(point, **{key: float(total)})
    for couple in ids.values():
        one = split_alliance(list(points.get(couple, {}).values()), rule)
        row = judged.loc[couple]
        flag = None if pd.isna(row["split_alliance"]) else bool(row["split_alliance"])
        assert flag == (one.flagged if one.judged else None), couple
        assert row["alliance_reason"] == one.reason(), couple

    flags = judged["split_alliance"]
    assert int(flags.eq(True).sum()) >= 1 and int(flags.eq(False).sum()) >= 10
    assert int(flags.isna().sum()) >= 10  # couples of counselors without the SRS
    stalled, diverging = ids[summary.showcase["stalled"]], ids[summary.showcase["diverging"]]
    assert bool(judged.loc[stalled, "split_alliance"])
    assert not bool(judged.loc[diverging, "split_alliance"])
    # The timeline reads the same answer for the showcase couple.
    admin = actor_of(db.scalars(select(User).where(User.username == "admin")).one())
    db.rollback()
    assert timeline.timeline_view(db, admin, stalled, record_view=False).alliance.flagged
