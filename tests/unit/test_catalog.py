"""The seed catalog: the words a counselor sees come from the article, in its order.

The expected names below are copied from the article's headings and bullet points, so a
renamed or dropped item fails here before it reaches a screen or a report.
"""

from __future__ import annotations

import pytest

from dashboard.domain.catalog import (
    ADHERENCE,
    ATTENDANCE_LABELS,
    CLOSING_REASONS,
    FORMAT_LABELS,
    FRAMEWORK_NOTE,
    HABIT_BY_KEY,
    HABITS,
    INDICATOR_BY_KEY,
    INDICATORS,
    RATING_MAX,
    RATING_MIN,
    ROLE_LABELS,
    SEED_BARRIERS,
    SEVERITIES,
    STAGE_BY_NUMBER,
    STAGES,
    STATUS_LABELS,
    Attendance,
    CoupleStatus,
    IndicatorKind,
    Partner,
    Role,
    SessionFormat,
    stage_label,
)


def _plain(text: str) -> str:
    """Compare wording without caring about case or typographic apostrophes."""
    return text.replace("\u2019", "'").lower()


def test_four_stages_in_the_article_order() -> None:
    assert [(s.number, s.name) for s in STAGES] == [
        (1, "Curiosity and Comfort"),
        (2, "Trust and Vulnerability"),
        (3, "Interdependence, Not Dependence"),
        (4, "Deep Partnership"),
    ]
    assert set(STAGE_BY_NUMBER) == {1, 2, 3, 4}
    assert all(s.description for s in STAGES)


def test_stage_label_numbers_the_stage_and_reads_blank_as_not_rated() -> None:
    assert stage_label(2) == "2. Trust and Vulnerability"
    assert stage_label(None) == "Not rated"
    with pytest.raises(KeyError):
        stage_label(5)


def test_framework_note_says_the_stages_are_not_a_validated_scale() -> None:
    assert "not a validated scale" in FRAMEWORK_NOTE


def test_seed_barriers_are_the_articles_four() -> None:
    assert [_plain(b.name) for b in SEED_BARRIERS] == [
        "fear of vulnerability",
        "poor communication habits",
        "unresolved trauma or insecurity",
        "stress and distraction",
    ]
    codes = [b.code for b in SEED_BARRIERS]
    assert len(set(codes)) == len(codes)
    assert all(b.description for b in SEED_BARRIERS)


def test_severity_runs_mild_to_severe() -> None:
    assert SEVERITIES == {1: "Mild", 2: "Moderate", 3: "Severe"}


def test_indicators_are_five_signs_then_three_reverse_scored_warnings() -> None:
    signs = [i for i in INDICATORS if i.kind is IndicatorKind.SIGN]
    warnings = [i for i in INDICATORS if i.kind is IndicatorKind.WARNING]
    assert len(INDICATORS) == 8 and len(signs) == 5 and len(warnings) == 3
    assert not any(i.reverse_scored for i in signs)
    assert all(i.reverse_scored for i in warnings)
    assert len(INDICATOR_BY_KEY) == 8  # keys are unique


@pytest.mark.parametrize(
    "seed_wording",
    [
        "talk honestly",
        "feel seen",
        "handle conflict with care",
        "offer emotional support",
        "celebrate each other\u2019s wins",
    ],
)
def test_each_sign_of_intimacy_keeps_the_articles_wording(seed_wording: str) -> None:
    labels = [_plain(i.label) for i in INDICATORS if i.kind is IndicatorKind.SIGN]
    assert any(_plain(seed_wording) in label for label in labels), labels


def test_warning_signs_keep_the_articles_wording() -> None:
    assert [_plain(i.label) for i in INDICATORS if i.kind is IndicatorKind.WARNING] == [
        "growing silence or short answers",
        "feeling unseen or misunderstood",
        "emotional coldness or tension",
    ]


def test_ratings_run_zero_to_ten() -> None:
    assert (RATING_MIN, RATING_MAX) == (0, 10)


def test_habits_are_the_articles_five_with_adherence_none_to_fully() -> None:
    assert [_plain(h.label) for h in HABITS] == [
        "keep communication open and honest",
        "show appreciation daily",
        "practice empathic listening",
        "stay curious about each other",
        "balance closeness with independence",
    ]
    assert len(HABIT_BY_KEY) == 5
    assert ADHERENCE == {0: "None", 1: "A little", 2: "Mostly", 3: "Fully"}


@pytest.mark.parametrize(
    ("attendance", "present", "held", "individual"),
    [
        (Attendance.BOTH, (Partner.A, Partner.B), True, False),
        (Attendance.PARTNER_A, (Partner.A,), True, True),
        (Attendance.PARTNER_B, (Partner.B,), True, True),
        (Attendance.NO_SHOW, (), False, False),
        (Attendance.CANCELLED, (), False, False),
    ],
)
def test_attendance_says_who_was_in_the_room(
    attendance: Attendance, present: tuple[Partner, ...], held: bool, individual: bool
) -> None:
    assert attendance.partners_present == present
    assert attendance.held is held
    assert attendance.individual is individual


@pytest.mark.parametrize(
    ("enum", "labels"),
    [
        (SessionFormat, FORMAT_LABELS),
        (Attendance, ATTENDANCE_LABELS),
        (CoupleStatus, STATUS_LABELS),
        (Role, ROLE_LABELS),
    ],
)
def test_every_choice_has_a_label(enum: type, labels: dict) -> None:
    assert set(labels) == set(enum)
    assert all(labels.values())


def test_closing_reasons_include_other() -> None:
    assert "other" in CLOSING_REASONS
    assert all(CLOSING_REASONS.values())
