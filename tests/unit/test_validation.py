"""Validators: every rule a counselor can break, reported next to the field it is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import (
    BARRIER_NOTE_MAX,
    INTAKE_TEXT_MAX,
    NAME_MAX,
    NOTE_SECTION_MAX,
    PRIVATE_NOTE_MAX,
    SAFETY_NOTE_MAX,
    STATUS_NOTE_MAX,
    BarrierTag,
    CoupleInput,
    SessionInput,
    validate_couple,
    validate_session,
    validate_status_change,
)

TODAY = date(2026, 11, 1)
INTAKE = date(2026, 1, 5)
BARRIERS = {1, 2, 3, 4}


def rated(value: int = 5) -> dict[str, int | None]:
    return {i.key: value for i in INDICATORS}


def joint(**overrides: object) -> SessionInput:
    """A joint session that passes every rule."""
    base = SessionInput(
        session_date=date(2026, 3, 2),
        duration_minutes=50,
        format="video",
        attendance="both",
        note_data="Data",
        note_assessment="Assessment",
        note_plan="Plan",
        stage=2,
        barriers=[BarrierTag(1, 2, "note")],
        ratings={"A": rated(6), "B": rated(4)},
        habits_assigned=["daily_appreciation"],
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def check(inp: SessionInput, **kwargs: object) -> dict[str, str]:
    params: dict = {
        "intake_date": INTAKE,
        "today": TODAY,
        "active_barrier_ids": BARRIERS,
        "open_assignment_ids": (),
    }
    params.update(kwargs)
    return validate_session(inp, **params)


def test_a_complete_joint_session_passes() -> None:
    assert check(joint()) == {}


# --- date ---------------------------------------------------------------------------


def test_session_date_is_required() -> None:
    assert "session_date" in check(joint(session_date=None))


def test_session_date_cannot_be_in_the_future() -> None:
    errors = check(joint(session_date=date(2026, 11, 2)))
    assert errors == {"session_date": "The session date cannot be in the future."}


def test_session_today_and_on_the_intake_day_are_fine() -> None:
    assert check(joint(session_date=TODAY)) == {}
    assert check(joint(session_date=INTAKE)) == {}


def test_session_date_cannot_be_before_intake() -> None:
    errors = check(joint(session_date=date(2026, 1, 4)))
    assert list(errors) == ["session_date"]
    assert "05 Jan 2026" in errors["session_date"]


# --- required fields --------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, "", "carrier pigeon"])
def test_format_must_be_one_of_the_three(bad: str | None) -> None:
    assert list(check(joint(format=bad))) == ["format"]


@pytest.mark.parametrize("bad", [None, "", "everyone"])
def test_attendance_must_be_one_of_the_five(bad: str | None) -> None:
    assert "attendance" in check(joint(attendance=bad))


def test_held_session_needs_length_stage_and_every_dap_part() -> None:
    errors = check(
        joint(duration_minutes=None, stage=None, note_data=" ", note_assessment="", note_plan="")
    )
    assert set(errors) == {
        "duration_minutes",
        "stage",
        "note_data",
        "note_assessment",
        "note_plan",
    }


@pytest.mark.parametrize("minutes", [4, 241, -1])
def test_held_session_length_is_5_to_240_minutes(minutes: int) -> None:
    assert list(check(joint(duration_minutes=minutes))) == ["duration_minutes"]


@pytest.mark.parametrize("stage", [0, 5])
def test_stage_is_1_to_4(stage: int) -> None:
    assert check(joint(stage=stage)) == {"stage": "The stage must be 1 to 4."}


@pytest.mark.parametrize("attendance", ["no_show", "cancelled"])
def test_a_session_nobody_attended_needs_no_note_or_stage(attendance: str) -> None:
    inp = SessionInput(
        session_date=date(2026, 3, 2),
        duration_minutes=None,
        format="phone",
        attendance=attendance,
    )
    assert check(inp) == {}


def test_a_session_nobody_attended_carries_no_clinical_ratings() -> None:
    inp = joint(attendance="no_show")
    errors = check(inp)
    assert {"stage", "barriers", "habits_assigned", "ratings_A", "ratings_B"} <= set(errors)


# --- ratings ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, 11])
def test_ratings_are_0_to_10(value: int) -> None:
    ratings = rated(5)
    ratings["feel_seen"] = value
    errors = check(joint(ratings={"A": ratings, "B": rated(5)}))
    assert list(errors) == ["ratings_A"]
    assert "I feel seen" in errors["ratings_A"]


def test_ratings_at_the_ends_of_the_scale_pass() -> None:
    assert check(joint(ratings={"A": rated(0), "B": rated(10)})) == {}


def test_fractional_ratings_are_refused() -> None:
    ratings: dict = rated(5)
    ratings["feel_seen"] = 5.5
    assert list(check(joint(ratings={"A": rated(5), "B": ratings}))) == ["ratings_B"]


def test_unrated_items_are_fine() -> None:
    assert check(joint(ratings={"A": dict.fromkeys(rated(), None), "B": {}})) == {}


def test_unknown_indicator_is_refused() -> None:
    errors = check(joint(ratings={"A": {"made_up": 3}}))
    assert list(errors) == ["ratings_A"]


@pytest.mark.parametrize(("attendance", "absent"), [("partner_a", "B"), ("partner_b", "A")])
def test_only_partners_who_attended_can_be_rated(attendance: str, absent: str) -> None:
    present = "A" if absent == "B" else "B"
    errors = check(joint(attendance=attendance, ratings={present: rated(5), absent: rated(5)}))
    assert list(errors) == [f"ratings_{absent}"]
    assert "did not attend" in errors[f"ratings_{absent}"]
    assert check(joint(attendance=attendance, ratings={present: rated(5)})) == {}


# --- barriers ---------------------------------------------------------------------


@pytest.mark.parametrize("severity", [0, 4, None])
def test_barrier_severity_is_1_to_3(severity: int | None) -> None:
    errors = check(joint(barriers=[BarrierTag(2, severity)]))
    assert list(errors) == ["barrier_2"]
    assert "Severity" in errors["barrier_2"]


def test_barrier_outside_the_active_catalog_is_refused() -> None:
    assert list(check(joint(barriers=[BarrierTag(99, 2)]))) == ["barrier_99"]


def test_a_barrier_can_be_tagged_only_once_per_session() -> None:
    errors = check(joint(barriers=[BarrierTag(1, 1), BarrierTag(1, 3)]))
    assert errors == {"barrier_1": "This barrier is tagged twice."}


def test_barrier_note_has_a_length_cap() -> None:
    assert check(joint(barriers=[BarrierTag(1, 1, "x" * BARRIER_NOTE_MAX)])) == {}
    errors = check(joint(barriers=[BarrierTag(1, 1, "x" * (BARRIER_NOTE_MAX + 1))]))
    assert list(errors) == ["barrier_1"]


# --- habits and adherence -----------------------------------------------------------


def test_unknown_or_repeated_habits_are_refused() -> None:
    assert list(check(joint(habits_assigned=["juggling"]))) == ["habits_assigned"]
    repeated = ["stay_curious", "stay_curious"]
    assert list(check(joint(habits_assigned=repeated))) == ["habits_assigned"]


def test_adherence_only_for_habits_open_from_the_previous_session() -> None:
    assert check(joint(adherence={7: 3}), open_assignment_ids={7}) == {}
    assert check(joint(adherence={7: None}), open_assignment_ids={7}) == {}
    assert list(check(joint(adherence={8: 2}), open_assignment_ids={7})) == ["adherence_8"]


@pytest.mark.parametrize("value", [-1, 4])
def test_adherence_is_0_to_3(value: int) -> None:
    errors = check(joint(adherence={7: value}), open_assignment_ids={7})
    assert list(errors) == ["adherence_7"]


# --- safety and private notes -----------------------------------------------------


def test_a_safety_flag_needs_a_note() -> None:
    assert list(check(joint(safety_flag=True))) == ["safety_note"]
    assert check(joint(safety_flag=True, safety_note="Disclosed threats")) == {}


def test_private_note_only_at_an_individual_session() -> None:
    errors = check(joint(private_note="Only for A"))
    assert list(errors) == ["private_note"]
    individual = joint(attendance="partner_a", ratings={"A": rated(5)}, private_note="Only A")
    assert check(individual) == {}


# --- length caps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "limit", "extra"),
    [
        ("note_data", NOTE_SECTION_MAX, {}),
        ("note_assessment", NOTE_SECTION_MAX, {}),
        ("note_plan", NOTE_SECTION_MAX, {}),
        ("safety_note", SAFETY_NOTE_MAX, {}),
        ("private_note", PRIVATE_NOTE_MAX, {"attendance": "partner_b", "ratings": {}}),
    ],
)
def test_session_text_has_length_caps(field: str, limit: int, extra: dict) -> None:
    assert check(joint(**{field: "x" * limit, **extra})) == {}
    errors = check(joint(**{field: "x" * (limit + 1), **extra}))
    assert list(errors) == [field]
    assert f"{limit:,}" in errors[field]


def test_every_broken_rule_is_reported_at_once_keyed_by_field() -> None:
    errors = check(
        joint(
            session_date=date(2027, 1, 1),
            format="fax",
            duration_minutes=500,
            stage=9,
            note_plan="",
            barriers=[BarrierTag(3, 4)],
            ratings={"A": {"feel_seen": 12}},
        )
    )
    assert set(errors) == {
        "session_date",
        "format",
        "duration_minutes",
        "stage",
        "note_plan",
        "barrier_3",
        "ratings_A",
    }
    assert all(isinstance(m, str) and m for m in errors.values())


# --- couples ----------------------------------------------------------------------


def couple(**overrides: object) -> CoupleInput:
    base = CoupleInput("Alex", "Blair", date(2026, 1, 5), "Drifting apart", "Talk weekly")
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_a_complete_intake_passes() -> None:
    assert validate_couple(couple(), today=TODAY) == {}


def test_both_partners_need_a_name() -> None:
    errors = validate_couple(couple(partner_a_name="  ", partner_b_name=""), today=TODAY)
    assert set(errors) == {"partner_a_name", "partner_b_name"}


def test_intake_date_is_required_and_not_in_the_future() -> None:
    assert list(validate_couple(couple(intake_date=None), today=TODAY)) == ["intake_date"]
    errors = validate_couple(couple(intake_date=date(2026, 11, 2)), today=TODAY)
    assert errors == {"intake_date": "The intake date cannot be in the future."}


def test_intake_date_cannot_move_after_the_first_session() -> None:
    first = date(2026, 2, 1)
    assert validate_couple(couple(intake_date=first), today=TODAY, first_session=first) == {}
    errors = validate_couple(couple(intake_date=date(2026, 2, 2)), today=TODAY, first_session=first)
    assert list(errors) == ["intake_date"]


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("partner_a_name", NAME_MAX),
        ("partner_b_name", NAME_MAX),
        ("presenting_concerns", INTAKE_TEXT_MAX),
        ("goals", INTAKE_TEXT_MAX),
    ],
)
def test_intake_text_has_length_caps(field: str, limit: int) -> None:
    assert validate_couple(couple(**{field: "x" * limit}), today=TODAY) == {}
    assert list(validate_couple(couple(**{field: "x" * (limit + 1)}), today=TODAY)) == [field]


# --- status changes ---------------------------------------------------------------


def test_pausing_and_reopening_need_nothing_more() -> None:
    assert validate_status_change("paused", None, "") == {}
    assert validate_status_change("active", None, "") == {}


def test_unknown_status_is_refused() -> None:
    assert list(validate_status_change("archived", None, "")) == ["status"]


def test_closing_needs_a_known_reason() -> None:
    assert list(validate_status_change("closed", None, "")) == ["closing_reason"]
    assert list(validate_status_change("closed", "bored", "")) == ["closing_reason"]
    assert validate_status_change("closed", "goals_met", "") == {}


def test_closing_for_another_reason_needs_words() -> None:
    assert list(validate_status_change("closed", "other", " ")) == ["status_note"]
    assert validate_status_change("closed", "other", "Moved abroad") == {}


def test_status_note_has_a_length_cap() -> None:
    assert validate_status_change("paused", None, "x" * STATUS_NOTE_MAX) == {}
    assert list(validate_status_change("paused", None, "x" * (STATUS_NOTE_MAX + 1))) == [
        "status_note"
    ]
