"""The demo's plans: what is drawn for a couple and its sessions before anything is
written (archetypes draws them; pace, questionnaires, notes and writer read them)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from dashboard.demo.people import Archetype
from dashboard.domain.catalog import (
    Attendance,
    CoupleStatus,
)
from dashboard.domain.validation import SessionInput


@dataclass
class _HabitPlan:
    local_id: int
    habit: str
    adherence: int | None = None
    adherence_row: int | None = None  # index into the couple's sessions


@dataclass
class _SessionPlan:
    inp: SessionInput
    habits: list[_HabitPlan]
    created_at: datetime


@dataclass
class _CouplePlan:
    index: int
    archetype: Archetype
    status: CoupleStatus
    closing_reason: str | None = None
    counselor: str = ""
    partner_a: str = ""
    partner_b: str = ""
    topic: str = ""
    intake: date = date.min
    status_note: str | None = None
    status_changed: date | None = None
    presenting: str = ""
    goals: str = ""
    double_regression: bool = False
    showcase: str = ""  # the pattern this couple shows off on the demo counselor's list
    n_sessions: int = 0
    # Session rows of the whole course; more than n_sessions for a couple mid-course,
    # whose sessions so far are the first part of it (0: the same as n_sessions).
    course_length: int = 0
    short: bool = False  # a closed course of 4-8 sessions, which steering leaves alone
    attendance: list[Attendance] = field(default_factory=list)
    same_day: list[bool] = field(default_factory=list)
    intervals: list[int] = field(default_factory=list)
    first: date | None = None
    last_allowed: date | None = None
    sessions: list[_SessionPlan] = field(default_factory=list)
    case_code: str = ""
    # Scaled clinics only: the couple's own generator and session dates, so its sessions
    # can be drawn later, chunk by chunk, independently of every other couple.
    rng: random.Random | None = None
    dates: list[date] = field(default_factory=list)
    # The instruments this couple completes (CSI4, RDAS), and a generator of their own for
    # the totals, so drawing them leaves every other draw of the clinic as it was.
    instruments: tuple[str, ...] = ()
    instrument_rng: random.Random | None = None
    # The demo clinic only: the SRS generator of a PCOMS counselor's couple (alliance.py).
    srs_rng: random.Random | None = None


@dataclass
class _Latent:
    """A couple's smooth course: per-partner start and total change over therapy."""

    archetype: Archetype
    start: dict[str, float]
    delta: dict[str, float]
    shape: float
    setback: tuple[float, float, float] | None  # (from t, to t, depth in EII points)
    honeymoon: float = 0.0

    def progress(self, t: float) -> float:
        """Fraction of the total change reached at t (0..1 of the course)."""
        if self.archetype is Archetype.DETERIORATING:
            # A short honeymoon first, then the slide: -h at t=0.25, 1 at t=1.
            h = self.honeymoon
            if t < 0.25:
                return -h * t / 0.25
            return -h + (1 + h) * ((t - 0.25) / 0.75) ** self.shape
        return t**self.shape

    def level(self, partner: str, t: float) -> float:
        value = self.start[partner] + self.delta[partner] * self.progress(t)
        if self.setback and self.setback[0] <= t <= self.setback[1]:
            value -= self.setback[2]
        return min(95.0, max(5.0, value))

    def couple_level(self, t: float) -> float:
        return (self.level("A", t) + self.level("B", t)) / 2


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _weighted(rng: random.Random, options: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(list(options), weights=list(weights))[0]


def _stopped(plan: _CouplePlan) -> bool:
    """Closed because they stopped attending: their last session was not planned as one."""
    return plan.closing_reason == "dropped_out"
