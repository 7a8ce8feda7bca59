"""My caseload's attention flags are the supervisor's attention list, couple for couple."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.services import couples, review, sessions, supervision
from dashboard.services.auth import actor_of
from dashboard.services.review import ReviewFilters
from db.models import User
from tests.conftest import Clinic


def _actor(db: Session, username: str):  # type: ignore[no-untyped-def]
    actor = actor_of(db.scalars(select(User).where(User.username == username)).one())
    db.rollback()
    return actor


def test_flags_equal_the_attention_list_for_every_couple_of_a_demo_counselor(
    backend: str, db: Session
) -> None:
    today = date(2026, 12, 3)
    load_demo(db, today=today, bcrypt_rounds=4)
    counselor, supervisor = _actor(db, "c.rivera"), _actor(db, "sup.okafor")
    frame = couples.list_caseload(db, counselor, statuses=["active", "paused", "closed"])
    flags = review.caseload_flags(db, counselor, frame["couple_id"].tolist(), today=today)
    mine = flags[flags["needs_attention"]].set_index("couple_id")

    rivera = next(
        cid
        for cid, name in review.review_choices(db, supervisor).counselors
        if name == "Dana Rivera"
    )
    listed = review.caseload_review(
        db,
        supervisor,
        ReviewFilters(counselor_ids=(rivera,), statuses=("active", "paused", "closed")),
        today=today,
    ).attention.set_index("couple_id")
    assert len(listed) >= 3  # the demo gives c.rivera couples in trouble
    assert sorted(mine.index) == sorted(listed.index)
    assert mine["flags"].to_dict() == listed["flags"].to_dict()
    assert mine["reasons"].to_dict() == listed["reasons"].to_dict()
    # Every other couple carries no flag at all.
    calm = flags[~flags["needs_attention"]]
    assert (calm["flags"] == "").all() and (calm["reasons"] == "").all()


def test_a_safety_flag_at_the_last_session_and_the_review_marker(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    today = date(2026, 11, 1)
    sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(safety_flag=True, safety_note="Raised voices at home"),
        today=today,
    )
    flags = review.caseload_flags(
        db, clinic.counselor, [clinic.couple_id, clinic.other_couple_id], today=today
    )
    # The other counselor's couple is out of scope: nothing is read about it.
    assert flags["couple_id"].tolist() == [clinic.couple_id]
    row = flags.iloc[0]
    assert row["flags"] == "Safety"
    assert row["reasons"] == "Safety flag at the session of 2 Mar 2026"
    assert pd_isna(row["reviewed_at"]) and row["reviewer"] == ""

    supervision.mark_reviewed(
        db, clinic.supervisor, clinic.couple_id, "Call me after the next session.", today=today
    )
    row = review.caseload_flags(db, clinic.counselor, [clinic.couple_id], today=today).iloc[0]
    assert row["reviewer"] == "Sam Super"
    assert not pd_isna(row["reviewed_at"])


def pd_isna(value: object) -> bool:
    return bool(pd.isna(value))


def test_couple_by_couple_and_vectorized_flags_agree_on_the_whole_demo_clinic(
    backend: str, db: Session, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from dashboard.domain import review as review_domain
    from dashboard.domain.expected_response import courses, fit
    from dashboard.services.expected import expected_model
    from dashboard.services.timeline import clinic_norms
    from db import review_queries
    from db.models import Couple

    today = date(2026, 12, 3)
    load_demo(db, today=today, bcrypt_rounds=4)
    every = select(Couple.id).where(Couple.deleted_at.is_(None))
    couples_frame = review_queries.review_couples(db, every)
    sessions_frame = review_queries.review_sessions(db, every)
    params = clinic_norms(db).eii
    in_use = expected_model(db)  # what the pages use (published, or the fallback)
    db.rollback()
    # The demo's own couples, fitted with a minimum low enough for its 100 couples.
    fitted = fit(
        courses(sessions_frame), measure="eii", fallback_s_diff=params.s_diff, min_couples=20
    )
    assert not fitted.uses_fallback("counselor")
    for model in (None, in_use, fitted):
        monkeypatch.setattr(review_domain, "PER_COUPLE_FLAGS_MAX", 10_000)
        one_by_one = review_domain.couple_flags(
            couples_frame, sessions_frame, params, today, expected=model
        )
        monkeypatch.setattr(review_domain, "PER_COUPLE_FLAGS_MAX", 0)
        vectorized = review_domain.couple_flags(
            couples_frame, sessions_frame, params, today, expected=model
        )
        assert len(one_by_one) == 100 and int(one_by_one["needs_attention"].sum()) >= 10
        pd.testing.assert_frame_equal(one_by_one.sort_index(), vectorized.sort_index())
        if model is not None:  # every couple has an alert, some below the expected course
            assert one_by_one["expected"].ne("").all()
            assert one_by_one["expected_rank"].ge(2).any()


def test_a_safety_flag_stays_through_calm_sessions_as_on_the_attention_list(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    """Safety is judged over the whole course: a no-show and a calm held session after a
    flagged one keep the flag, with its date; a second flag adds its date. At each step
    My caseload says what the supervisor's list says, and a review filed for the first
    flag stays valid until the second."""
    today = date(2026, 11, 1)

    def log(**fields) -> None:  # type: ignore[no-untyped-def]
        sessions.log_session(
            db, clinic.counselor, clinic.couple_id, make_input(**fields), today=today
        )

    def both_lists() -> tuple[str, str]:
        mine = review.caseload_flags(db, clinic.counselor, [clinic.couple_id], today=today)
        listed = review.caseload_review(
            db, clinic.supervisor, ReviewFilters(), today=today, record_view=False
        ).attention.set_index("couple_id")
        theirs = listed["flags"].get(clinic.couple_id, "")
        assert mine.iloc[0]["flags"] == theirs
        return str(mine.iloc[0]["flags"]), str(mine.iloc[0]["reasons"])

    def reviewed() -> bool:
        listed = review.review_with_attention(
            db, clinic.supervisor, ReviewFilters(), today=today, record_view=False
        )[1].set_index("couple_id")
        return bool(listed.loc[clinic.couple_id, "reviewed"])

    log(safety_flag=True, safety_note="Raised voices at home")  # 2 Mar 2026
    first = ("Safety", "Safety flag at the session of 2 Mar 2026")
    assert both_lists() == first
    supervision.mark_reviewed(db, clinic.supervisor, clinic.couple_id, "Plan seen.", today=today)
    assert reviewed()

    no_show = dict(attendance="no_show", duration_minutes=None, stage=None, barriers=[])
    log(session_date=date(2026, 3, 9), ratings={}, **no_show)
    log(session_date=date(2026, 3, 16))  # held, no safety flag
    log(session_date=date(2026, 3, 23))  # held, no safety flag
    # Two calm sessions later the flag is still there, and the review still stands.
    assert both_lists() == first
    assert reviewed()

    log(session_date=date(2026, 3, 30), safety_flag=True, safety_note="Doorway blocked")
    assert both_lists() == ("Safety", "Safety flag at 2 sessions: 2 Mar 2026, 30 Mar 2026")
    assert not reviewed()  # a new flag brings the couple back to the supervisor
