"""Couples: opening a case, editing intake details, status changes, the caseload table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.services import couples, sessions
from dashboard.services.errors import AccessDenied, EditConflict, ValidationFailed
from db.models import Couple, CoupleAmendment
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


def new_couple(db: Session, clinic: Clinic, a: str, b: str, intake: date = date(2026, 3, 1)) -> int:
    return couples.create_couple(db, clinic.counselor, CoupleInput(a, b, intake), today=TODAY)


# --- opening a case -----------------------------------------------------------------


def test_new_couple_gets_the_next_case_code_of_its_intake_year(
    db: Session, clinic: Clinic, backend: str
) -> None:
    first = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    assert first.case_code == "C-2026-0001"
    new_id = couples.create_couple(
        db,
        clinic.counselor,
        CoupleInput("  Jo  ", " Kim ", date(2026, 4, 1), " Trust ", " Rebuild "),
        today=TODAY,
    )
    detail = couples.get_couple(db, clinic.counselor, new_id)
    # The other counselor's couple took 0002: numbers are clinic-wide, not per counselor.
    assert detail.case_code == "C-2026-0003"
    assert (detail.partner_a_name, detail.partner_b_name) == ("Jo", "Kim")
    assert (detail.presenting_concerns, detail.goals) == ("Trust", "Rebuild")
    assert detail.counselor_id == clinic.counselor.user_id
    assert detail.counselor == "Cara Couns"
    assert detail.status == "active" and detail.status_text == "Active"
    assert detail.can_edit is True
    assert detail.sessions == ()

    other_year = new_couple(db, clinic, "Lee", "Max", intake=date(2025, 12, 30))
    assert couples.get_couple(db, clinic.counselor, other_year).case_code == "C-2025-0001"


def test_opening_a_couple_is_audited(db: Session, clinic: Clinic, audits, backend: str) -> None:
    new_id = new_couple(db, clinic, "Jo", "Kim")
    [event] = audits(action="create_couple", entity_id=new_id)
    assert event.user_id == clinic.counselor.user_id
    assert event.username == "cara.couns"
    assert event.entity == "couple" and event.success is True
    assert event.detail == "C-2026-0003"


def test_invalid_intake_writes_nothing(
    db: Session, clinic: Clinic, rows, audits, backend: str
) -> None:
    before = rows(Couple)
    with pytest.raises(ValidationFailed) as caught:
        couples.create_couple(
            db,
            clinic.counselor,
            CoupleInput("", "B" * 81, date(2026, 11, 2), goals="g" * 2001),
            today=TODAY,
        )
    assert set(caught.value.errors) == {
        "partner_a_name",
        "partner_b_name",
        "intake_date",
        "goals",
    }
    assert rows(Couple) == before
    # Only the fixture's couple was ever created by this counselor.
    created = audits(action="create_couple", user_id=clinic.counselor.user_id)
    assert [e.entity_id for e in created] == [clinic.couple_id]


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_only_counselors_open_couples(
    db: Session, clinic: Clinic, who: str, rows, audits, backend: str
) -> None:
    actor = getattr(clinic, who)
    before = rows(Couple)
    with pytest.raises(AccessDenied):
        couples.create_couple(db, actor, CoupleInput("Jo", "Kim", date(2026, 3, 1)), today=TODAY)
    assert rows(Couple) == before
    [event] = audits(action="create_couple", user_id=actor.user_id)
    assert event.success is False


# --- editing intake details ----------------------------------------------------------


def test_update_couple_saves_and_moves_the_version(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    before = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("Alexis", "Blair", date(2026, 1, 6), "Distance", "Weekly talks"),
        expected_version=before.version,
        today=TODAY,
    )
    after = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    assert after.partners == "Alexis & Blair"
    assert after.intake_date == date(2026, 1, 6)
    assert after.presenting_concerns == "Distance"
    assert after.version == before.version + 1
    [event] = audits(action="update_couple")
    assert event.entity_id == clinic.couple_id and event.success is True


def test_stale_couple_form_is_refused_and_overwrites_nothing(
    db: Session, other_db: Session, clinic: Clinic, audits, backend: str
) -> None:
    """Two people edit the same couple: the second save is refused, the first one stands."""
    opened = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    seen_by_other = couples.get_couple(other_db, clinic.counselor, clinic.couple_id)
    couples.update_couple(
        other_db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("First", "Save", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
        expected_version=seen_by_other.version,
        today=TODAY,
    )
    with pytest.raises(EditConflict) as caught:
        couples.update_couple(
            db,
            clinic.counselor,
            clinic.couple_id,
            CoupleInput("Second", "Save", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
            expected_version=opened.version,
            today=TODAY,
        )
    assert "Nothing was overwritten" in str(caught.value)
    fresh = couples.get_couple(other_db, clinic.counselor, clinic.couple_id)
    assert fresh.partners == "First & Save"
    assert fresh.version == opened.version + 1
    assert [(e.success, e.detail) for e in audits(action="update_couple")] == [
        (True, ""),
        (False, "edit conflict"),
    ]


def test_save_racing_a_colleague_at_the_same_moment_is_refused(
    db: Session, other_db: Session, clinic: Clinic, audits, backend: str
) -> None:
    """The version check in the UPDATE itself catches a save that slips past the form check.

    Holding the loaded row keeps it in this session's identity map, so the service sees
    the version as it was when the form opened: only the database can spot the race.
    """
    held = db.get(Couple, clinic.couple_id)
    assert held is not None and held.version == 1
    db.commit()
    seen_by_other = couples.get_couple(other_db, clinic.counselor, clinic.couple_id)
    couples.update_couple(
        other_db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("First", "Save", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
        expected_version=seen_by_other.version,
        today=TODAY,
    )
    with pytest.raises(EditConflict):
        couples.update_couple(
            db,
            clinic.counselor,
            clinic.couple_id,
            CoupleInput("Second", "Save", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
            expected_version=1,
            today=TODAY,
        )
    fresh = couples.get_couple(other_db, clinic.counselor, clinic.couple_id)
    assert (fresh.partners, fresh.version) == ("First & Save", 2)
    assert [e.success for e in audits(action="update_couple")] == [True, False]


def test_intake_date_cannot_move_past_the_first_session(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(session_date=date(2026, 2, 1)),
        today=TODAY,
    )
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    with pytest.raises(ValidationFailed) as caught:
        couples.update_couple(
            db,
            clinic.counselor,
            clinic.couple_id,
            CoupleInput("Alex", "Blair", date(2026, 2, 2), "Drifting apart", "Talk weekly"),
            expected_version=version,
            today=TODAY,
        )
    assert list(caught.value.errors) == ["intake_date"]
    assert couples.get_couple(db, clinic.counselor, clinic.couple_id).intake_date == date(
        2026, 1, 5
    )


# --- status -------------------------------------------------------------------------


def test_closing_needs_a_reason_and_shows_it(db: Session, clinic: Clinic, backend: str) -> None:
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    with pytest.raises(ValidationFailed) as caught:
        couples.change_status(
            db, clinic.counselor, clinic.couple_id, new_status="closed", expected_version=version
        )
    assert list(caught.value.errors) == ["closing_reason"]
    assert couples.get_couple(db, clinic.counselor, clinic.couple_id).status == "active"

    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status="closed",
        closing_reason="goals_met",
        note="Ended well",
        expected_version=version,
    )
    closed = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    assert closed.status == "closed"
    assert closed.status_text == "Closed: Goals met (Ended well)"
    assert closed.status_changed_at is not None
    assert closed.version == version + 1


def test_reopening_clears_the_closing_reason(
    db: Session, clinic: Clinic, audits, backend: str
) -> None:
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status="closed",
        closing_reason="referred",
        expected_version=version,
    )
    couples.change_status(
        db, clinic.counselor, clinic.couple_id, new_status="active", expected_version=version + 1
    )
    detail = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    assert (detail.status, detail.closing_reason, detail.status_text) == ("active", None, "Active")
    assert [e.detail for e in audits(action="change_status")] == [
        "active -> closed",
        "closed -> active",
    ]


def test_stale_status_change_is_refused(db: Session, clinic: Clinic, backend: str) -> None:
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    couples.change_status(
        db, clinic.counselor, clinic.couple_id, new_status="paused", expected_version=version
    )
    with pytest.raises(EditConflict):
        couples.change_status(
            db,
            clinic.counselor,
            clinic.couple_id,
            new_status="closed",
            closing_reason="dropped_out",
            expected_version=version,
        )
    assert couples.get_couple(db, clinic.counselor, clinic.couple_id).status == "paused"


# --- history of the record ---------------------------------------------------------

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def set_status(db: Session, clinic: Clinic, status: str, at: datetime, **kwargs: str) -> None:
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status=status,
        expected_version=version,
        now=at,
        **kwargs,
    )


def test_reopening_keeps_why_the_case_was_closed_in_its_history(
    db: Session, clinic: Clinic, backend: str
) -> None:
    set_status(db, clinic, "closed", NOW, closing_reason="goals_met", note="Ended well")
    set_status(db, clinic, "active", NOW + timedelta(days=30))

    detail = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    assert detail.status_text == "Active"
    reopened, closed = detail.history
    assert (reopened.when, reopened.who, reopened.action) == (
        NOW + timedelta(days=30),
        "Cara Couns",
        "change_status",
    )
    assert reopened.what == "Status: closed (Goals met) → active; Status note removed"
    assert closed.when == NOW
    assert closed.changes == ("Status: active → closed (Goals met)", "Status note added")
    # The record as it stood before the reopening, note included, is kept in full.
    snapshot = json.loads(
        db.scalars(select(CoupleAmendment.snapshot).order_by(CoupleAmendment.id.desc())).first()
    )
    db.commit()
    assert (snapshot["status"], snapshot["closing_reason"], snapshot["status_note"]) == (
        "closed",
        "goals_met",
        "Ended well",
    )


def test_intake_edit_keeps_the_earlier_record(db: Session, clinic: Clinic, backend: str) -> None:
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("Alexis", "Blair", date(2026, 1, 6), "Distance", "Talk weekly"),
        expected_version=1,
        today=TODAY,
        now=NOW,
    )
    [change] = couples.get_couple(db, clinic.counselor, clinic.couple_id).history
    assert (change.version, change.when, change.who, change.action) == (
        1,
        NOW,
        "Cara Couns",
        "update_couple",
    )
    assert change.changes == (
        "Partner A: Alex → Alexis",
        "Intake date: 05 Jan 2026 → 06 Jan 2026",
        "Presenting concerns changed",
    )
    [amendment] = db.scalars(select(CoupleAmendment)).all()
    db.commit()
    before = json.loads(amendment.snapshot)
    assert amendment.amended_by == clinic.counselor.user_id
    assert before["partner_a_name"] == "Alex"
    assert before["presenting_concerns"] == "Drifting apart"
    assert before["intake_date"] == "2026-01-05"
    assert before["version"] == 1
    # Every column of the record is in the snapshot.
    assert set(before) == set(Couple.__table__.columns.keys())


def test_a_refused_edit_leaves_no_history(
    db: Session, other_db: Session, clinic: Clinic, rows, backend: str
) -> None:
    with pytest.raises(ValidationFailed):
        couples.update_couple(
            db,
            clinic.counselor,
            clinic.couple_id,
            CoupleInput("", "Blair", date(2026, 1, 5)),
            expected_version=1,
            today=TODAY,
        )
    with pytest.raises(ValidationFailed):
        set_status(db, clinic, "closed", NOW)  # no closing reason
    with pytest.raises(EditConflict):
        couples.change_status(
            db, clinic.counselor, clinic.couple_id, new_status="paused", expected_version=7
        )
    # The racing save caught by the database takes its amendment back with it.
    held = db.get_one(Couple, clinic.couple_id)
    db.commit()
    set_status(other_db, clinic, "paused", NOW)
    with pytest.raises(EditConflict):
        couples.change_status(
            db,
            clinic.counselor,
            clinic.couple_id,
            new_status="closed",
            closing_reason="referred",
            expected_version=held.version,
        )
    assert rows(CoupleAmendment) == 1
    [change] = couples.get_couple(other_db, clinic.counselor, clinic.couple_id).history
    assert change.what == "Status: active → paused"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_history_costs_the_same_queries_however_long_it_is(
    db: Session, engine: Engine, clinic: Clinic, backend: str
) -> None:
    set_status(db, clinic, "paused", NOW)
    with statements(engine) as short:
        assert len(couples.get_couple(db, clinic.counselor, clinic.couple_id).history) == 1
    for day, status in enumerate(["active", "paused", "active", "paused"], start=1):
        set_status(db, clinic, status, NOW + timedelta(days=day))
    with statements(engine) as long:
        history = couples.get_couple(db, clinic.counselor, clinic.couple_id).history
    assert [c.when for c in history] == [NOW + timedelta(days=d) for d in (4, 3, 2, 1, 0)]
    assert len(long) == len(short)


def test_saving_an_unchanged_record_says_so(db: Session, clinic: Clinic, backend: str) -> None:
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("Alex", "Blair", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
        expected_version=1,
        today=TODAY,
        now=NOW,
    )
    [change] = couples.get_couple(db, clinic.counselor, clinic.couple_id).history
    assert change.changes == ("Saved without changes",)


# --- the caseload -------------------------------------------------------------------


def test_caseload_row_shows_stage_sessions_and_days_since(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    log = sessions.log_session
    cid = clinic.couple_id
    log(db, clinic.counselor, cid, make_input(session_date=date(2026, 3, 2), stage=1), today=TODAY)
    log(db, clinic.counselor, cid, make_input(session_date=date(2026, 4, 6), stage=3), today=TODAY)
    # Listed out of date order: the latest *date* decides the stage, not the latest entry.
    log(db, clinic.counselor, cid, make_input(session_date=date(2026, 3, 16), stage=2), today=TODAY)
    # A no-show is not a held session and carries no stage.
    no_show = make_input(
        session_date=date(2026, 5, 4),
        attendance="no_show",
        stage=None,
        barriers=[],
        ratings={},
        duration_minutes=None,
    )
    log(db, clinic.counselor, cid, no_show, today=TODAY)
    # An individual session counts as held; a cancelled one does not.
    individual = make_input(
        session_date=date(2026, 3, 23), attendance="partner_b", stage=None, ratings={}
    )
    with pytest.raises(ValidationFailed):  # a held session needs its stage
        log(db, clinic.counselor, cid, individual, today=TODAY)
    individual.stage = 2
    log(db, clinic.counselor, cid, individual, today=TODAY)
    cancelled = replace(no_show, session_date=date(2026, 5, 11), attendance="cancelled")
    log(db, clinic.counselor, cid, cancelled, today=TODAY)

    frame = couples.list_caseload(db, clinic.counselor, today=date(2026, 4, 16))
    assert list(frame.columns) == couples.CASELOAD_COLUMNS
    row = frame.set_index("couple_id").loc[cid]
    assert row["case_code"] == "C-2026-0001"
    assert row["partners"] == "Alex & Blair"
    assert row["counselor"] == "Cara Couns"
    assert row["status"] == "Active"
    assert row["stage"] == "3. Interdependence, Not Dependence"
    assert row["sessions"] == 4
    assert row["last_session"] == date(2026, 4, 6)
    assert row["days_since_last"] == 10
    assert row["days_without_session"] == 10


def test_caseload_leaves_deleted_sessions_out(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    cid = clinic.couple_id
    sessions.log_session(db, clinic.counselor, cid, make_input(stage=1), today=TODAY)
    later = sessions.log_session(
        db, clinic.counselor, cid, make_input(session_date=date(2026, 6, 1), stage=4), today=TODAY
    )
    sessions.delete_session(db, clinic.counselor, later)
    row = couples.list_caseload(db, clinic.counselor, today=TODAY).iloc[0]
    assert (row["sessions"], row["last_session"]) == (1, date(2026, 3, 2))
    assert row["stage"].startswith("1.")


def test_couple_without_sessions_reads_not_rated(db: Session, clinic: Clinic, backend: str) -> None:
    row = couples.list_caseload(db, clinic.counselor, today=TODAY).iloc[0]
    assert row["stage"] == "Not rated"
    assert row["sessions"] == 0
    assert row["last_session"] is None
    assert row["days_since_last"] is pd.NA
    # Overdue is judged from intake (5 Jan 2026) for a couple not yet seen.
    assert row["days_without_session"] == (TODAY - date(2026, 1, 5)).days


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("counselor", ["C-2026-0001"]),
        ("other_counselor", ["C-2026-0002"]),
        ("supervisor", ["C-2026-0001"]),
        ("admin", ["C-2026-0001", "C-2026-0002"]),
    ],
)
def test_caseload_is_scoped_to_the_viewer(
    db: Session, clinic: Clinic, who: str, expected: list[str], audits, backend: str
) -> None:
    actor = getattr(clinic, who)
    frame = couples.list_caseload(db, actor, today=TODAY)
    assert list(frame["case_code"]) == expected
    [event] = audits(action="view_caseload", user_id=actor.user_id)
    assert event.success is True


@pytest.fixture
def named(db: Session, clinic: Clinic) -> Clinic:
    """Couples whose names test search: a literal percent sign and underscore."""
    new_couple(db, clinic, "Morgan", "Quinn_Lee")
    new_couple(db, clinic, "Rae 100%", "Sky")
    new_couple(db, clinic, "Tam", "Uma")
    new_couple(db, clinic, "Émile", "Zoë")
    return clinic


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("", ["Alex", "Morgan", "Rae 100%", "Tam", "Émile"]),
        ("alex", ["Alex"]),
        ("BLAIR", ["Alex"]),
        ("quinn", ["Morgan"]),
        ("  uma  ", ["Tam"]),
        ("c-2026-0004", ["Rae 100%"]),
        ("%", ["Rae 100%"]),
        ("_", ["Morgan"]),
        ("n_l", ["Morgan"]),
        ("a%", []),
        ("émile", ["Émile"]),
        ("ZOË", ["Émile"]),
        ("nobody", []),
    ],
)
def test_search_matches_code_or_partner_case_insensitively_and_literally(
    db: Session, named: Clinic, search: str, expected: list[str], backend: str
) -> None:
    frame = couples.list_caseload(db, named.counselor, search=search, today=TODAY)
    assert [p.split(" & ")[0] for p in frame["partners"]] == expected


def test_search_never_reaches_outside_the_caseload(
    db: Session, named: Clinic, backend: str
) -> None:
    frame = couples.list_caseload(db, named.counselor, search="Casey", today=TODAY)
    assert frame.empty


def test_status_filter(db: Session, named: Clinic, backend: str) -> None:
    target = couples.list_caseload(db, named.counselor, search="Tam", today=TODAY)
    couple_id = int(target["couple_id"].iloc[0])
    version = couples.get_couple(db, named.counselor, couple_id).version
    couples.change_status(
        db, named.counselor, couple_id, new_status="paused", expected_version=version
    )
    paused = couples.list_caseload(db, named.counselor, statuses=["paused"], today=TODAY)
    assert list(paused["couple_id"]) == [couple_id]
    assert list(paused["status"]) == ["Paused"]
    both = couples.list_caseload(db, named.counselor, statuses=["active", "paused"], today=TODAY)
    assert len(both) == 5
    assert couples.list_caseload(db, named.counselor, statuses=["closed"], today=TODAY).empty


def test_caseload_flags_active_couples_unseen_for_more_than_three_weeks(
    db: Session, named: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    """Alex & Blair were seen 21 days ago, Morgan 22 days ago, Rae 100% and Tam never
    (intake 1 Mar); Tam's case is paused."""
    today = date(2026, 3, 23)
    by_name = {
        p.split(" & ")[0]: int(c)
        for p, c in couples.list_caseload(db, named.counselor, today=TODAY)[
            ["partners", "couple_id"]
        ].itertuples(index=False)
    }
    for name, seen in (("Alex", date(2026, 3, 2)), ("Morgan", date(2026, 3, 1))):
        sessions.log_session(
            db, named.counselor, by_name[name], make_input(session_date=seen), today=TODAY
        )
    version = couples.get_couple(db, named.counselor, by_name["Tam"]).version
    couples.change_status(
        db, named.counselor, by_name["Tam"], new_status="paused", expected_version=version
    )

    frame = couples.list_caseload(db, named.counselor, today=today)
    assert list(frame.columns)[-1] == "overdue"
    assert frame["overdue"].dtype == bool
    flagged = dict(zip(frame["partners"].str.split(" & ").str[0], frame["overdue"], strict=True))
    assert flagged == {
        "Alex": False,  # 21 days: not yet
        "Morgan": True,  # 22 days
        "Rae 100%": True,  # never seen: 22 days since intake
        "Tam": False,  # paused
        "Émile": True,
    }
