"""Sessions: logging, validation that writes nothing, amendments, edit conflicts,
soft delete and restore, habits and their adherence at the next held session."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.validation import BarrierTag, SessionInput
from dashboard.services import couples, sessions
from dashboard.services.errors import AccessDenied, EditConflict, ValidationFailed
from db.engine import begin_write
from db.models import (
    Barrier,
    CoupleSession,
    HabitAssignment,
    IndicatorRating,
    SessionAmendment,
    SessionBarrier,
)
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)
MakeInput = Callable[..., SessionInput]


def log(db: Session, clinic: Clinic, inp: SessionInput) -> int:
    return sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)


def no_show(on: date) -> SessionInput:
    return SessionInput(
        session_date=on, duration_minutes=None, format="phone", attendance="no_show"
    )


# --- logging ------------------------------------------------------------------------


def test_logged_session_reads_back_as_entered(
    db: Session, clinic: Clinic, make_input: MakeInput, barrier_ids, audits, backend: str
) -> None:
    inp = make_input(
        note_data="  Data text  ",
        barriers=[
            BarrierTag(barrier_ids["stress_distraction"], 3, " Night shifts "),
            BarrierTag(barrier_ids["fear_of_vulnerability"], 1),
        ],
        ratings={"A": {"feel_seen": 0, "talk_honestly": 10, "growing_silence": None}, "B": {}},
        habits_assigned=["daily_appreciation", "stay_curious"],
        safety_flag=True,
        safety_note="Raised voices at home",
    )
    session_id = log(db, clinic, inp)

    form = sessions.session_form(db, clinic.counselor, session_id)
    assert form.session_id == session_id and form.version == 1
    assert form.can_edit is True
    values = form.values
    assert values is not None
    assert values.session_date == date(2026, 3, 2)
    assert (values.duration_minutes, values.format, values.attendance) == (50, "in_person", "both")
    assert values.note_data == "Data text"
    assert values.stage == 2
    assert sorted((t.barrier_id, t.severity, t.note) for t in values.barriers) == sorted(
        [
            (barrier_ids["stress_distraction"], 3, "Night shifts"),
            (barrier_ids["fear_of_vulnerability"], 1, ""),
        ]
    )
    # A blank rating is not stored as a zero; a real zero is kept.
    assert values.ratings == {"A": {"feel_seen": 0, "talk_honestly": 10}, "B": {}}
    assert values.habits_assigned == ["daily_appreciation", "stay_curious"]
    assert (values.safety_flag, values.safety_note) == (True, "Raised voices at home")
    assert form.amendments == ()

    [summary] = couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions
    assert summary.session_id == session_id
    assert summary.attendance == "Both partners"
    assert summary.format == "In person"
    assert summary.stage == "2. Trust and Vulnerability"
    assert summary.safety_flag is True and summary.amended is False

    [event] = audits(action="create_session")
    assert (event.entity, event.entity_id, event.success) == ("session", session_id, True)
    assert event.user_id == clinic.counselor.user_id


def test_sessions_sharing_a_date_are_all_kept_newest_first(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    early = log(db, clinic, make_input(session_date=date(2026, 2, 1)))
    first = log(db, clinic, make_input(session_date=date(2026, 3, 2)))
    second = log(db, clinic, make_input(session_date=date(2026, 3, 2), stage=3))
    listed = couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions
    assert [s.session_id for s in listed] == [second, first, early]


def test_individual_session_keeps_its_private_note(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    inp = make_input(attendance="partner_b", ratings={"B": {"feel_seen": 3}}, private_note="Only B")
    session_id = log(db, clinic, inp)
    values = sessions.session_form(db, clinic.counselor, session_id).values
    assert values is not None and values.private_note == "Only B"


def test_no_show_is_logged_without_clinical_fields(
    db: Session, clinic: Clinic, backend: str
) -> None:
    session_id = log(db, clinic, no_show(date(2026, 3, 9)))
    [summary] = couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions
    assert summary.session_id == session_id
    assert (summary.attendance, summary.stage) == ("No-show", "—")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"session_date": date(2026, 11, 2)}, "session_date"),
        ({"session_date": date(2026, 1, 4)}, "session_date"),
        ({"ratings": {"A": {"feel_seen": 11}}}, "ratings_A"),
        ({"attendance": "partner_a", "ratings": {"B": {"feel_seen": 5}}}, "ratings_B"),
        ({"stage": None}, "stage"),
        ({"note_plan": "   "}, "note_plan"),
        ({"note_data": "x" * 5001}, "note_data"),
        ({"habits_assigned": ["juggling"]}, "habits_assigned"),
        ({"private_note": "joint sessions have none"}, "private_note"),
        ({"adherence": {999: 2}}, "adherence_999"),
    ],
)
def test_invalid_session_is_refused_by_field_and_writes_nothing(
    db: Session,
    clinic: Clinic,
    make_input: MakeInput,
    overrides: dict,
    field: str,
    rows,
    audits,
    backend: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        log(db, clinic, make_input(**overrides))
    assert field in caught.value.errors
    for model in (CoupleSession, IndicatorRating, SessionBarrier, HabitAssignment):
        assert rows(model) == 0, model.__name__
    assert audits(action="create_session") == []


def test_bad_barrier_severity_is_refused_and_writes_nothing(
    db: Session, clinic: Clinic, make_input: MakeInput, barrier_ids, rows, backend: str
) -> None:
    barrier = barrier_ids["poor_communication"]
    with pytest.raises(ValidationFailed) as caught:
        log(db, clinic, make_input(barriers=[BarrierTag(barrier, 4)]))
    assert list(caught.value.errors) == [f"barrier_{barrier}"]
    assert rows(CoupleSession) == 0 and rows(SessionBarrier) == 0


def test_inactive_barrier_cannot_be_tagged_but_stays_on_old_sessions(
    db: Session, clinic: Clinic, make_input: MakeInput, barrier_ids, backend: str
) -> None:
    code = "stress_distraction"
    session_id = log(db, clinic, make_input())
    begin_write(db)
    db.get_one(Barrier, barrier_ids[code]).active = False
    db.commit()

    offered = {
        b.barrier_id
        for b in sessions.new_session_form(db, clinic.counselor, clinic.couple_id).barriers
    }
    assert barrier_ids[code] not in offered and len(offered) == 3
    with pytest.raises(ValidationFailed):
        log(db, clinic, make_input(session_date=date(2026, 3, 9)))

    # The session tagged before the switch-off can still be edited with its tag.
    form = sessions.session_form(db, clinic.counselor, session_id)
    assert barrier_ids[code] in {b.barrier_id for b in form.barriers}
    sessions.update_session(
        db,
        clinic.counselor,
        session_id,
        make_input(note_plan="Revised plan"),
        expected_version=1,
        today=TODAY,
    )


# --- edits and amendments -----------------------------------------------------------


def test_edit_keeps_the_earlier_text_as_an_amendment(
    db: Session, clinic: Clinic, make_input: MakeInput, barrier_ids, audits, backend: str
) -> None:
    session_id = log(db, clinic, make_input())
    edited = make_input(
        note_data="Corrected data",
        note_assessment="Corrected assessment",
        stage=3,
        barriers=[BarrierTag(barrier_ids["stress_distraction"], 1, "Easing")],
        ratings={"A": {"feel_seen": 9}, "B": {"feel_seen": 8}},
    )
    sessions.update_session(
        db, clinic.counselor, session_id, edited, expected_version=1, today=TODAY
    )

    form = sessions.session_form(db, clinic.counselor, session_id)
    assert form.version == 2
    assert form.values is not None
    assert form.values.note_data == "Corrected data"
    assert form.values.stage == 3
    assert form.values.ratings == {"A": {"feel_seen": 9}, "B": {"feel_seen": 8}}
    assert [(t.severity, t.note) for t in form.values.barriers] == [(1, "Easing")]

    [amendment] = form.amendments
    assert amendment.version == 1
    assert amendment.amended_by == "Cara Couns"
    assert amendment.note_data == "They described a week of short answers."
    assert amendment.note_assessment == "Withdrawal when stressed."
    assert amendment.note_plan == "Practice a ten-minute check-in."

    snapshot_text = db.scalar(select(SessionAmendment.snapshot))
    db.commit()
    snapshot = json.loads(snapshot_text)
    assert snapshot["version"] == 1
    assert snapshot["stage"] == 2
    assert snapshot["session_date"] == "2026-03-02"
    assert snapshot["barriers"] == [
        {"barrier_id": barrier_ids["stress_distraction"], "severity": 2, "note": "New job"}
    ]
    assert snapshot["ratings"]["A"]["feel_seen"] == 6
    assert snapshot["ratings"]["B"]["talk_honestly"] == 4

    summary = couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions[0]
    assert summary.amended is True
    assert [e.success for e in audits(action="update_session")] == [True]


def test_every_edit_adds_an_amendment_newest_first(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    session_id = log(db, clinic, make_input(note_plan="Plan v1"))
    for version in (1, 2):
        sessions.update_session(
            db,
            clinic.counselor,
            session_id,
            make_input(note_plan=f"Plan v{version + 1}"),
            expected_version=version,
            today=TODAY,
        )
    form = sessions.session_form(db, clinic.counselor, session_id)
    assert [(a.version, a.note_plan) for a in form.amendments] == [(2, "Plan v2"), (1, "Plan v1")]
    assert form.values is not None and form.values.note_plan == "Plan v3"


def test_invalid_edit_changes_nothing(
    db: Session, clinic: Clinic, make_input: MakeInput, rows, backend: str
) -> None:
    session_id = log(db, clinic, make_input())
    with pytest.raises(ValidationFailed) as caught:
        sessions.update_session(
            db,
            clinic.counselor,
            session_id,
            make_input(note_data="New", ratings={"B": {"feel_seen": -1}}),
            expected_version=1,
            today=TODAY,
        )
    assert list(caught.value.errors) == ["ratings_B"]
    form = sessions.session_form(db, clinic.counselor, session_id)
    assert form.version == 1 and form.amendments == ()
    assert form.values is not None and form.values.note_data.startswith("They described")
    assert rows(SessionAmendment) == 0


def test_second_of_two_editors_gets_a_conflict_and_overwrites_nothing(
    db: Session, other_db: Session, clinic: Clinic, make_input: MakeInput, audits, backend: str
) -> None:
    """Two people open the same session; the one who saves second is told, not obeyed."""
    session_id = log(db, clinic, make_input())
    mine = sessions.session_form(db, clinic.counselor, session_id)
    theirs = sessions.session_form(other_db, clinic.counselor, session_id)

    sessions.update_session(
        other_db,
        clinic.counselor,
        session_id,
        make_input(note_data="Saved first", stage=3),
        expected_version=theirs.version or 0,
        today=TODAY,
    )
    with pytest.raises(EditConflict) as caught:
        sessions.update_session(
            db,
            clinic.counselor,
            session_id,
            make_input(note_data="Saved second", stage=1, ratings={}),
            expected_version=mine.version or 0,
            today=TODAY,
        )
    assert "nothing was overwritten" in str(caught.value)

    after = sessions.session_form(other_db, clinic.counselor, session_id)
    assert after.version == 2
    assert after.values is not None
    assert (after.values.note_data, after.values.stage) == ("Saved first", 3)
    assert after.values.ratings["A"]["feel_seen"] == 6
    assert [a.note_data for a in after.amendments] == ["They described a week of short answers."]
    assert [(e.success, e.detail) for e in audits(action="update_session")] == [
        (True, ""),
        (False, "edit conflict"),
    ]


def test_conflict_caught_by_the_database_at_the_same_moment(
    db: Session, other_db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    """Holding the row keeps a stale copy in this session: only the UPDATE can spot the race."""
    session_id = log(db, clinic, make_input())
    held = db.get_one(CoupleSession, session_id)
    _ = (held.barrier_tags, held.ratings, held.habits, held.amendments)
    db.commit()
    sessions.update_session(
        other_db,
        clinic.counselor,
        session_id,
        make_input(note_data="Saved first"),
        expected_version=1,
        today=TODAY,
    )
    with pytest.raises(EditConflict):
        sessions.update_session(
            db,
            clinic.counselor,
            session_id,
            make_input(note_data="Saved second", ratings={}),
            expected_version=1,
            today=TODAY,
        )
    after = sessions.session_form(other_db, clinic.counselor, session_id)
    assert after.values is not None and after.values.note_data == "Saved first"
    assert after.values.ratings["B"]["feel_seen"] == 4
    assert len(after.amendments) == 1


# --- soft delete and restore --------------------------------------------------------


def test_deleted_session_leaves_the_record_but_stays_in_the_database(
    db: Session, clinic: Clinic, make_input: MakeInput, rows, audits, backend: str
) -> None:
    keep = log(db, clinic, make_input(session_date=date(2026, 3, 2)))
    gone = log(db, clinic, make_input(session_date=date(2026, 3, 9)))
    sessions.delete_session(db, clinic.counselor, gone)

    listed = couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions
    assert [s.session_id for s in listed] == [keep]
    with pytest.raises(AccessDenied):
        sessions.session_form(db, clinic.counselor, gone)
    assert rows(CoupleSession) == 2 and rows(IndicatorRating) == 32
    row = db.get_one(CoupleSession, gone)
    assert row.deleted_at is not None and row.deleted_by == clinic.counselor.user_id
    db.commit()
    [event] = audits(action="delete_session")
    assert (event.entity_id, event.success) == (gone, True)
    assert "2026-03-09" in event.detail


@pytest.mark.parametrize("who", ["counselor", "supervisor", "other_counselor"])
def test_only_an_admin_may_restore(
    db: Session, clinic: Clinic, make_input: MakeInput, who: str, audits, backend: str
) -> None:
    session_id = log(db, clinic, make_input())
    sessions.delete_session(db, clinic.counselor, session_id)
    actor = getattr(clinic, who)
    with pytest.raises(AccessDenied):
        sessions.restore_session(db, actor, session_id)
    assert couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions == ()
    [event] = audits(action="restore_session")
    assert (event.user_id, event.entity_id, event.success) == (actor.user_id, session_id, False)


def test_admin_restores_a_session_exactly_as_it_was(
    db: Session, clinic: Clinic, make_input: MakeInput, audits, backend: str
) -> None:
    session_id = log(db, clinic, make_input(habits_assigned=["stay_curious"]))
    before = sessions.session_form(db, clinic.counselor, session_id).values
    sessions.delete_session(db, clinic.counselor, session_id)
    sessions.restore_session(db, clinic.admin, session_id)

    after = sessions.session_form(db, clinic.counselor, session_id)
    assert after.values == before
    [summary] = couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions
    # Delete and restore are not edits of the note: nothing reads as amended.
    assert summary.amended is False and after.amendments == ()
    [event] = audits(action="restore_session")
    assert (event.user_id, event.success) == (clinic.admin.user_id, True)


def test_admin_cannot_delete_a_counselors_session(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    session_id = log(db, clinic, make_input())
    with pytest.raises(AccessDenied):
        sessions.delete_session(db, clinic.admin, session_id)
    assert len(couples.get_couple(db, clinic.counselor, clinic.couple_id).sessions) == 1


# --- habits and adherence -----------------------------------------------------------


def test_habits_assigned_at_a_session_are_followed_up_at_the_next_held_one(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    first = log(db, clinic, make_input(habits_assigned=["daily_appreciation", "stay_curious"]))
    # A no-show in between is not where adherence is recorded.
    log(db, clinic, no_show(date(2026, 3, 9)))

    open_now = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    assert [(h.habit, h.label, h.assigned_on, h.adherence) for h in open_now] == [
        ("daily_appreciation", "Show appreciation daily", date(2026, 3, 2), None),
        ("stay_curious", "Stay curious about each other", date(2026, 3, 2), None),
    ]
    appreciation, curious = (h.assignment_id for h in open_now)
    second = log(
        db,
        clinic,
        make_input(
            session_date=date(2026, 3, 16),
            adherence={appreciation: 3, curious: None},
            habits_assigned=["empathic_listening"],
        ),
    )

    shown = sessions.session_form(db, clinic.counselor, second).open_habits
    assert [(h.habit, h.adherence) for h in shown] == [
        ("daily_appreciation", 3),
        ("stay_curious", None),
    ]
    # The first session's own form shows what it assigned, not adherence to it.
    assert sessions.session_form(db, clinic.counselor, first).open_habits == ()
    # The next new session follows up the second session's homework.
    upcoming = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    assert [h.habit for h in upcoming] == ["empathic_listening"]


def test_adherence_can_be_corrected_and_cleared_by_editing(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    log(db, clinic, make_input(habits_assigned=["stay_curious"]))
    [habit] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    second = log(
        db, clinic, make_input(session_date=date(2026, 3, 9), adherence={habit.assignment_id: 1})
    )
    sessions.update_session(
        db,
        clinic.counselor,
        second,
        make_input(session_date=date(2026, 3, 9), adherence={habit.assignment_id: 2}),
        expected_version=1,
        today=TODAY,
    )
    [shown] = sessions.session_form(db, clinic.counselor, second).open_habits
    assert shown.adherence == 2
    # The amendment keeps the adherence as it was before the correction.
    earlier = json.loads(db.scalars(select(SessionAmendment.snapshot)).one())
    db.commit()
    assert earlier["adherence"] == [
        {"assignment_id": habit.assignment_id, "habit": "stay_curious", "adherence": 1}
    ]
    # The form sends "not recorded" for the habit: that, and only that, clears it.
    sessions.update_session(
        db,
        clinic.counselor,
        second,
        make_input(session_date=date(2026, 3, 9), adherence={habit.assignment_id: None}),
        expected_version=2,
        today=TODAY,
    )
    [shown] = sessions.session_form(db, clinic.counselor, second).open_habits
    assert shown.adherence is None
    assignment = db.get_one(HabitAssignment, habit.assignment_id)
    assert (assignment.adherence, assignment.adherence_session_id) == (None, None)
    db.commit()


def test_an_edit_that_does_not_mention_adherence_keeps_it(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    log(db, clinic, make_input(habits_assigned=["stay_curious"]))
    [habit] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    second = log(
        db, clinic, make_input(session_date=date(2026, 3, 9), adherence={habit.assignment_id: 2})
    )
    sessions.update_session(
        db,
        clinic.counselor,
        second,
        make_input(session_date=date(2026, 3, 9), note_plan="Only the plan changed"),
        expected_version=1,
        today=TODAY,
    )
    [shown] = sessions.session_form(db, clinic.counselor, second).open_habits
    assert (shown.habit, shown.adherence) == ("stay_curious", 2)


def test_adherence_only_for_the_previous_sessions_habits(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    log(db, clinic, make_input(habits_assigned=["stay_curious"]))
    [old] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    log(
        db,
        clinic,
        make_input(session_date=date(2026, 3, 9), habits_assigned=["daily_appreciation"]),
    )
    with pytest.raises(ValidationFailed) as caught:
        log(
            db, clinic, make_input(session_date=date(2026, 3, 16), adherence={old.assignment_id: 2})
        )
    assert list(caught.value.errors) == [f"adherence_{old.assignment_id}"]


def test_late_entry_follows_up_the_session_before_it_not_a_later_one(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    """A note entered late, dated between two sessions, answers the earlier one's homework."""
    log(db, clinic, make_input(session_date=date(2026, 3, 2), habits_assigned=["stay_curious"]))
    [earlier] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    log(
        db,
        clinic,
        make_input(session_date=date(2026, 3, 16), habits_assigned=["daily_appreciation"]),
    )
    [later] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    assert later.habit == "daily_appreciation"

    with pytest.raises(ValidationFailed) as caught:
        log(
            db,
            clinic,
            make_input(session_date=date(2026, 3, 9), adherence={later.assignment_id: 2}),
        )
    assert list(caught.value.errors) == [f"adherence_{later.assignment_id}"]

    late = log(
        db, clinic, make_input(session_date=date(2026, 3, 9), adherence={earlier.assignment_id: 2})
    )
    [shown] = sessions.session_form(db, clinic.counselor, late).open_habits
    assert (shown.habit, shown.adherence) == ("stay_curious", 2)


def test_a_habit_followed_up_later_cannot_be_removed(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    first = log(db, clinic, make_input(habits_assigned=["stay_curious"]))
    [habit] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    log(db, clinic, make_input(session_date=date(2026, 3, 9), adherence={habit.assignment_id: 3}))
    with pytest.raises(ValidationFailed) as caught:
        sessions.update_session(
            db,
            clinic.counselor,
            first,
            make_input(habits_assigned=[]),
            expected_version=1,
            today=TODAY,
        )
    assert "already recorded" in caught.value.errors["habits_assigned"]
    values = sessions.session_form(db, clinic.counselor, first).values
    assert values is not None and values.habits_assigned == ["stay_curious"]


def test_moving_a_session_to_another_date_keeps_the_adherence_it_recorded(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    """A corrected date changes which homework the session's form offers, but the
    adherence it already recorded stays recorded: nothing is unlinked implicitly.

    (It used to be cleared silently; that same rule is what lost adherence when an
    earlier session was deleted and a later one edited.)"""
    log(db, clinic, make_input(session_date=date(2026, 3, 2), habits_assigned=["stay_curious"]))
    [curious] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    middle = log(
        db,
        clinic,
        make_input(session_date=date(2026, 3, 16), habits_assigned=["daily_appreciation"]),
    )
    late = log(
        db, clinic, make_input(session_date=date(2026, 3, 9), adherence={curious.assignment_id: 2})
    )
    # The date was wrong: the session happened after the 16 March one.
    sessions.update_session(
        db,
        clinic.counselor,
        late,
        make_input(session_date=date(2026, 3, 20)),
        expected_version=1,
        today=TODAY,
    )
    [shown] = sessions.session_form(db, clinic.counselor, late).open_habits
    assert (shown.habit, shown.adherence) == ("daily_appreciation", None)
    assignment = db.get_one(HabitAssignment, curious.assignment_id)
    assert (assignment.adherence, assignment.adherence_session_id) == (2, late)
    db.commit()
    # The 16 March session now follows the 2 March one, but is not offered its habit:
    # adherence to it is on record already.
    assert sessions.session_form(db, clinic.counselor, middle).open_habits == ()


# --- adherence across soft delete and restore ---------------------------------------


@pytest.fixture
def three_sessions(db: Session, clinic: Clinic, make_input: MakeInput) -> dict[str, int]:
    """S1 assigns a habit; S2 records adherence 3 to it and assigns another; S3 records
    adherence 1 to S2's habit."""
    s1 = log(
        db, clinic, make_input(session_date=date(2026, 3, 2), habits_assigned=["stay_curious"])
    )
    [h1] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    s2 = log(
        db,
        clinic,
        make_input(
            session_date=date(2026, 3, 9),
            adherence={h1.assignment_id: 3},
            habits_assigned=["daily_appreciation"],
        ),
    )
    [h2] = sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits
    s3 = log(
        db, clinic, make_input(session_date=date(2026, 3, 16), adherence={h2.assignment_id: 1})
    )
    return {"s1": s1, "s2": s2, "s3": s3, "h1": h1.assignment_id, "h2": h2.assignment_id}


def adherence_shown(db: Session, clinic: Clinic, session_id: int) -> list[tuple[str, int | None]]:
    form = sessions.session_form(db, clinic.counselor, session_id)
    return [(h.habit, h.adherence) for h in form.open_habits]


def test_deleting_a_session_then_editing_the_next_one_loses_no_adherence(
    db: Session, clinic: Clinic, make_input: MakeInput, three_sessions: dict, backend: str
) -> None:
    ids = three_sessions
    sessions.delete_session(db, clinic.counselor, ids["s2"])
    # S3 now follows S1, whose habit was answered at the deleted S2: nothing to offer.
    form = sessions.session_form(db, clinic.counselor, ids["s3"])
    assert form.open_habits == ()
    # The page sends back adherence for each habit it shows, and the edited plan.
    sessions.update_session(
        db,
        clinic.counselor,
        ids["s3"],
        make_input(
            session_date=date(2026, 3, 16),
            note_plan="Revised plan",
            adherence={h.assignment_id: h.adherence for h in form.open_habits},
        ),
        expected_version=form.version or 0,
        today=TODAY,
    )
    sessions.restore_session(db, clinic.admin, ids["s2"])

    assert adherence_shown(db, clinic, ids["s2"]) == [("stay_curious", 3)]
    assert adherence_shown(db, clinic, ids["s3"]) == [("daily_appreciation", 1)]
    values = sessions.session_form(db, clinic.counselor, ids["s3"]).values
    assert values is not None and values.note_plan == "Revised plan"


def test_adherence_recorded_at_a_deleted_session_cannot_be_overwritten(
    db: Session, clinic: Clinic, make_input: MakeInput, three_sessions: dict, backend: str
) -> None:
    ids = three_sessions
    sessions.delete_session(db, clinic.counselor, ids["s2"])
    with pytest.raises(ValidationFailed) as caught:
        sessions.update_session(
            db,
            clinic.counselor,
            ids["s3"],
            make_input(session_date=date(2026, 3, 16), adherence={ids["h1"]: 0}),
            expected_version=1,
            today=TODAY,
        )
    assert "already recorded" in caught.value.errors[f"adherence_{ids['h1']}"]
    # A new session while S2 and S3 are deleted follows S1: its habit is not offered.
    sessions.delete_session(db, clinic.counselor, ids["s3"])
    assert sessions.new_session_form(db, clinic.counselor, clinic.couple_id).open_habits == ()
    with pytest.raises(ValidationFailed):
        log(db, clinic, make_input(session_date=date(2026, 3, 23), adherence={ids["h1"]: 0}))

    for deleted in ("s2", "s3"):
        sessions.restore_session(db, clinic.admin, ids[deleted])
    assert adherence_shown(db, clinic, ids["s2"]) == [("stay_curious", 3)]
    assert adherence_shown(db, clinic, ids["s3"]) == [("daily_appreciation", 1)]


# --- closed cases -------------------------------------------------------------------


def close_case(db: Session, clinic: Clinic, *, status: str = "closed") -> None:
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    couples.change_status(
        db,
        clinic.counselor,
        clinic.couple_id,
        new_status=status,
        closing_reason="goals_met" if status == "closed" else None,
        expected_version=version,
    )


CLOSED = {"status": "This case is closed: reopen it to log a session."}


def test_a_closed_case_takes_no_new_session_and_nothing_is_written(
    db: Session, clinic: Clinic, make_input: MakeInput, rows, audits, backend: str
) -> None:
    close_case(db, clinic)
    with pytest.raises(ValidationFailed) as opening:
        sessions.new_session_form(db, clinic.counselor, clinic.couple_id)
    assert opening.value.errors == CLOSED
    with pytest.raises(ValidationFailed) as saving:
        log(db, clinic, make_input())
    assert saving.value.errors == CLOSED
    assert rows(CoupleSession) == 0
    assert audits(action="open_session_form") == []
    assert audits(action="create_session") == []

    # Reopened, the case takes sessions again.
    version = couples.get_couple(db, clinic.counselor, clinic.couple_id).version
    couples.change_status(
        db, clinic.counselor, clinic.couple_id, new_status="active", expected_version=version
    )
    sessions.new_session_form(db, clinic.counselor, clinic.couple_id)
    assert log(db, clinic, make_input()) > 0


def test_a_paused_case_still_takes_sessions(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    close_case(db, clinic, status="paused")
    sessions.new_session_form(db, clinic.counselor, clinic.couple_id)
    assert log(db, clinic, make_input()) > 0


def test_sessions_of_a_closed_case_can_still_be_corrected(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    session_id = log(db, clinic, make_input())
    close_case(db, clinic)
    sessions.update_session(
        db,
        clinic.counselor,
        session_id,
        make_input(note_plan="Corrected after closing"),
        expected_version=1,
        today=TODAY,
    )
    values = sessions.session_form(db, clinic.counselor, session_id).values
    assert values is not None and values.note_plan == "Corrected after closing"


def test_a_colleague_is_refused_a_closed_case_as_out_of_scope_not_as_closed(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    """The closed-case message would tell a stranger the case exists and is closed."""
    close_case(db, clinic)
    with pytest.raises(AccessDenied):
        sessions.new_session_form(db, clinic.other_counselor, clinic.couple_id)
    with pytest.raises(AccessDenied):
        sessions.log_session(
            db, clinic.other_counselor, clinic.couple_id, make_input(), today=TODAY
        )
