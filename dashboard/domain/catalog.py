"""The seed's clinical vocabulary: stages, barriers, indicators, habits.

Every word a counselor sees comes from the article in `shared/seed/`. Keys are stable
identifiers stored in the database; labels are what the screen shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

FRAMEWORK_NOTE = (
    "The stages are a clinical framework for conversation and planning, not a validated scale."
)


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    description: str

    @property
    def label(self) -> str:
        return f"{self.number}. {self.name}"


STAGES: tuple[Stage, ...] = (
    Stage(
        1, "Curiosity and Comfort", "Light conversations, laughter and small moments of comfort."
    ),
    Stage(2, "Trust and Vulnerability", "Partners feel safe sharing personal truths."),
    Stage(3, "Interdependence, Not Dependence", "Rely on each other without losing independence."),
    Stage(4, "Deep Partnership", "Decisions, plans and even silence become shared."),
)
STAGE_BY_NUMBER = {s.number: s for s in STAGES}


def stage_label(number: int | None) -> str:
    """Label for a stored stage number; an empty cell reads as not rated."""
    if number is None:
        return "Not rated"
    return STAGE_BY_NUMBER[number].label


@dataclass(frozen=True)
class SeedBarrier:
    code: str
    name: str
    description: str


SEED_BARRIERS: tuple[SeedBarrier, ...] = (
    SeedBarrier(
        "fear_of_vulnerability",
        "Fear of vulnerability",
        "Past rejection or heartbreak makes a partner hesitant to open up again.",
    ),
    SeedBarrier(
        "poor_communication",
        "Poor communication habits",
        "Interrupting, ignoring, or shutting down during tough talks.",
    ),
    SeedBarrier(
        "unresolved_trauma",
        "Unresolved trauma or insecurity",
        "Old pain from childhood or previous relationships creates invisible walls.",
    ),
    SeedBarrier(
        "stress_distraction",
        "Stress and distraction",
        "Constant busyness or emotional burnout slowly pulls the couple apart.",
    ),
)

SEVERITIES: dict[int, str] = {1: "Mild", 2: "Moderate", 3: "Severe"}


class IndicatorKind(StrEnum):
    SIGN = "sign"  # higher is better
    WARNING = "warning"  # reverse-scored


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    kind: IndicatorKind

    @property
    def reverse_scored(self) -> bool:
        return self.kind is IndicatorKind.WARNING


INDICATORS: tuple[Indicator, ...] = (
    Indicator("talk_honestly", "We talk honestly", IndicatorKind.SIGN),
    Indicator("feel_seen", "I feel seen", IndicatorKind.SIGN),
    Indicator("conflict_with_care", "We handle conflict with care", IndicatorKind.SIGN),
    Indicator("emotional_support", "We offer emotional support", IndicatorKind.SIGN),
    Indicator("celebrate_wins", "We celebrate each other's wins", IndicatorKind.SIGN),
    Indicator("growing_silence", "Growing silence or short answers", IndicatorKind.WARNING),
    Indicator("feeling_unseen", "Feeling unseen or misunderstood", IndicatorKind.WARNING),
    Indicator("emotional_coldness", "Emotional coldness or tension", IndicatorKind.WARNING),
)
INDICATOR_BY_KEY = {i.key: i for i in INDICATORS}
RATING_MIN, RATING_MAX = 0, 10


@dataclass(frozen=True)
class Habit:
    key: str
    label: str


HABITS: tuple[Habit, ...] = (
    Habit("open_communication", "Keep communication open and honest"),
    Habit("daily_appreciation", "Show appreciation daily"),
    Habit("empathic_listening", "Practice empathic listening"),
    Habit("stay_curious", "Stay curious about each other"),
    Habit("closeness_independence", "Balance closeness with independence"),
)
HABIT_BY_KEY = {h.key: h for h in HABITS}
ADHERENCE: dict[int, str] = {0: "None", 1: "A little", 2: "Mostly", 3: "Fully"}


def adherence_word(mean: float) -> str:
    """A mean of 0-3 adherence scores in words: the nearest level, a tie going to the
    lower one, so a mean never reads better than it is (2.5 -> "Mostly": half the
    follow-ups fully done is not "Fully"; 2.6 -> "Fully"; 0.5 -> "None")."""
    level = math.ceil(round(mean, 9) - 0.5)  # round(…, 9): float noise, not a tie
    return ADHERENCE[min(3, max(0, level))]


class Partner(StrEnum):
    A = "A"
    B = "B"


class SessionFormat(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"


FORMAT_LABELS = {
    SessionFormat.IN_PERSON: "In person",
    SessionFormat.VIDEO: "Video",
    SessionFormat.PHONE: "Phone",
}


class Attendance(StrEnum):
    BOTH = "both"
    PARTNER_A = "partner_a"
    PARTNER_B = "partner_b"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def partners_present(self) -> tuple[Partner, ...]:
        return {
            Attendance.BOTH: (Partner.A, Partner.B),
            Attendance.PARTNER_A: (Partner.A,),
            Attendance.PARTNER_B: (Partner.B,),
        }.get(self, ())

    @property
    def held(self) -> bool:
        """A session took place: at least one partner was in the room."""
        return bool(self.partners_present)

    @property
    def individual(self) -> bool:
        return len(self.partners_present) == 1


ATTENDANCE_LABELS = {
    Attendance.BOTH: "Both partners",
    Attendance.PARTNER_A: "Partner A only",
    Attendance.PARTNER_B: "Partner B only",
    Attendance.NO_SHOW: "No-show",
    Attendance.CANCELLED: "Cancelled",
}


class CoupleStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


STATUS_LABELS = {
    CoupleStatus.ACTIVE: "Active",
    CoupleStatus.PAUSED: "Paused",
    CoupleStatus.CLOSED: "Closed",
}

CLOSING_REASONS: dict[str, str] = {
    "goals_met": "Goals met",
    "mutual_decision": "Mutual decision to end",
    "referred": "Referred elsewhere",
    "dropped_out": "Stopped attending",
    "separated": "Couple separated",
    "other": "Other",
}


class Role(StrEnum):
    COUNSELOR = "counselor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.COUNSELOR: "Counselor",
    Role.SUPERVISOR: "Supervisor",
    Role.ADMIN: "Clinic admin",
}
