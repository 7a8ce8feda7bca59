"""What the couple timeline shows, as plain data: the contract between the timeline
service (which reads the database) and the chart builders (which draw it).

Every frame is in session-date order and keeps a row for every session, so a partner
who missed a session leaves a gap (NaN) rather than an interpolated value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dashboard.domain.expected_bands import PartnerBands

SESSION_COLUMNS = [
    "session_id",  # int
    "session_date",  # datetime64 (midnight)
    "attendance",  # catalog Attendance value
    "held",  # bool: at least one partner attended
    "stage",  # Int64, <NA> when not rated
    "eii_a",  # float, NaN when partner A has no EII that session
    "eii_b",
    "eii_couple",  # NaN unless both partners have one
    "discrepancy",  # |eii_a - eii_b|, NaN unless both
    "self_a",  # bool: partner A's ratings that session are their own check-in answers
    "self_b",
]
RATING_COLUMNS = ["session_id", "session_date", "partner", "item", "value", "source"]
BARRIER_COLUMNS = ["session_id", "session_date", "barrier", "severity", "note"]
HABIT_COLUMNS = ["assigned_on", "habit", "adherence", "recorded_on"]
INSTRUMENT_COLUMNS = ["session_id", "session_date", "partner", "instrument", "total"]


@dataclass(frozen=True)
class Threshold:
    """A line or band on a chart, with the words that say where it comes from."""

    value: float
    label: str  # e.g. "At or above: beyond the range typical of intakes at this clinic (…)"


@dataclass(frozen=True)
class EiiScale:
    """How EII change is judged for this clinic (from scoring.ReliableChangeParams)."""

    reliable_change: float  # points either side of the baseline
    reliable_change_label: str
    cutoff: Threshold | None


@dataclass(frozen=True)
class InstrumentScale:
    code: str
    name: str
    minimum: float
    maximum: float
    higher_is_better: bool
    cutoff: Threshold | None
    reliable_change: float | None
    reliable_change_label: str


@dataclass(frozen=True)
class TimelineData:
    """Everything the timeline charts draw for one couple."""

    case_code: str
    partner_a: str
    partner_b: str
    sessions: pd.DataFrame  # SESSION_COLUMNS
    ratings: pd.DataFrame  # RATING_COLUMNS, long format, values 0-10 as entered
    barriers: pd.DataFrame  # BARRIER_COLUMNS
    habits: pd.DataFrame  # HABIT_COLUMNS
    instruments: pd.DataFrame  # INSTRUMENT_COLUMNS
    eii_scale: EiiScale
    instrument_scales: dict[str, InstrumentScale] = field(default_factory=dict)
    baseline_date: date | None = None  # first session with a couple EII
    # Each partner's expected course behind their line, per measure ("eii" or an
    # instrument key; expected_bands.py): absent where there is no band to draw.
    expected: dict[str, tuple[PartnerBands, ...]] = field(default_factory=dict)

    def expected_for(self, measure: str, partner: str) -> PartnerBands | None:
        return next((b for b in self.expected.get(measure, ()) if b.partner == partner), None)

    def partner_name(self, partner: str) -> str:
        return self.partner_a if partner == "A" else self.partner_b
