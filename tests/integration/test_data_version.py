"""Cached page reads are never stale: the clinic's data version moves with every
committed clinical change, and only then (dashboard/services/memo.py, db/engine.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.domain.validation import CoupleInput
from dashboard.services import couples, drafts, review, sessions, timeline
from dashboard.services.memo import PAGES
from dashboard.services.review import ReviewFilters
from db.engine import begin_write, data_version
from db.models import Couple
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    PAGES.clear()


def _version(db: Session) -> int:
    version = data_version(db)
    db.rollback()
    assert version is not None
    return version


def test_a_clinical_write_moves_the_version_and_a_view_or_draft_does_not(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    start = _version(db)
    couples.get_couple(db, clinic.counselor, clinic.couple_id)  # audited: a write, not clinical
    drafts.save_draft(
        db, clinic.counselor, couple_id=clinic.couple_id, session_id=None, values={"x": "typed"}
    )
    assert _version(db) == start
    sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    assert _version(db) == start + 1
    # A change that is rolled back moves nothing.
    begin_write(db)
    db.get_one(Couple, clinic.couple_id).goals = "never saved"
    db.flush()
    db.rollback()
    assert _version(db) == start + 1


def test_a_transaction_that_wrote_reads_no_cached_result(
    backend: str, db: Session, clinic: Clinic
) -> None:
    before = couples.get_couple(db, clinic.counselor, clinic.couple_id, record_view=False)
    begin_write(db)
    db.get_one(Couple, clinic.couple_id).goals = "Talk daily"
    db.flush()
    assert data_version(db) is None  # what this transaction reads is newer than any number
    inside = couples.get_couple(db, clinic.counselor, clinic.couple_id, record_view=False)
    assert (before.goals, inside.goals) == ("Talk weekly", "Talk daily")


def test_every_cached_page_read_shows_a_change_as_soon_as_it_is_saved(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    counselor, supervisor = clinic.counselor, clinic.supervisor
    filters = ReviewFilters(start=date(2026, 1, 1), end=TODAY)

    def read() -> tuple[int, int, str, int, int]:
        frame = couples.list_caseload(db, counselor, today=TODAY, record_view=False)
        row = frame.set_index("couple_id").loc[clinic.couple_id]
        detail = couples.get_couple(db, counselor, clinic.couple_id, record_view=False)
        view = timeline.timeline_view(db, counselor, clinic.couple_id, record_view=False)
        held = review.caseload_review(db, supervisor, filters, today=TODAY, record_view=False)
        return (
            int(row["sessions"]),
            len(detail.sessions),
            detail.goals,
            len(view.data.sessions),
            int(held.couples.loc[clinic.couple_id, "sessions_held"]),
        )

    first = read()
    assert read() == first  # the second read is served from the cache ...
    assert PAGES.hits >= 4
    # ... and a saved session or a saved intake shows at once, on every page.
    sessions.log_session(db, counselor, clinic.couple_id, make_input(), today=TODAY)
    second = read()
    assert second[0] == first[0] + 1 and second[1] == first[1] + 1
    assert second[3] == first[3] + 1 and second[4] == first[4] + 1
    version = db.get_one(Couple, clinic.couple_id).version
    db.rollback()
    couples.update_couple(
        db,
        counselor,
        clinic.couple_id,
        CoupleInput("Alex", "Blair", date(2026, 1, 5), "Drifting apart", "Talk daily"),
        expected_version=version,
        today=TODAY,
    )
    assert read()[2] == "Talk daily"


def test_results_of_an_earlier_version_are_dropped_at_the_first_read_after_a_change(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    couples.list_caseload(db, clinic.counselor, today=TODAY, record_view=False)
    couples.get_couple(db, clinic.counselor, clinic.couple_id, record_view=False)
    assert len(PAGES) == 2
    sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    couples.list_caseload(db, clinic.counselor, today=TODAY, record_view=False)
    assert len(PAGES) == 1  # the new caseload only: nothing of the old version is kept


def test_two_users_never_share_an_entry(backend: str, db: Session, clinic: Clinic) -> None:
    mine = couples.list_caseload(db, clinic.counselor, today=TODAY, record_view=False)
    theirs = couples.list_caseload(db, clinic.other_counselor, today=TODAY, record_view=False)
    assert mine["couple_id"].tolist() == [clinic.couple_id]
    assert theirs["couple_id"].tolist() == [clinic.other_couple_id]
    again = couples.list_caseload(db, clinic.counselor, today=TODAY, record_view=False)
    assert again["couple_id"].tolist() == [clinic.couple_id]


def test_a_page_that_changes_its_copy_changes_nothing_stored(
    backend: str, db: Session, clinic: Clinic
) -> None:
    frame = couples.list_caseload(db, clinic.counselor, today=TODAY, record_view=False)
    frame["partners"] = "changed by a page"
    frame.loc[0, "sessions"] = 999
    again = couples.list_caseload(db, clinic.counselor, today=TODAY, record_view=False)
    assert "changed by a page" not in again["partners"].tolist()
    assert 999 not in again["sessions"].tolist()


def test_a_cached_view_is_still_scope_checked_and_audited(
    backend: str, db: Session, clinic: Clinic
) -> None:
    from dashboard.services.errors import AccessDenied

    timeline.timeline_view(db, clinic.counselor, clinic.couple_id)
    with pytest.raises(AccessDenied):
        timeline.timeline_view(db, clinic.other_counselor, clinic.couple_id)
    timeline.timeline_view(db, clinic.counselor, clinic.couple_id)
    rows = db.execute(
        text(
            "SELECT username, success FROM audit_events WHERE action = 'view_timeline' ORDER BY id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (clinic.counselor.username, True),
        (clinic.other_counselor.username, False),
        (clinic.counselor.username, True),
    ]
