"""Validators for what a counselor types. Pure: data in, {field: message} out.

Messages are written for the counselor and keyed by form field, so the page can put
each one next to the field it is about. An empty dict means the input may be saved.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from dashboard.domain.catalog import (
    ADHERENCE,
    CLOSING_REASONS,
    HABIT_BY_KEY,
    INDICATOR_BY_KEY,
    RATING_MAX,
    RATING_MIN,
    SEVERITIES,
    STAGE_BY_NUMBER,
    Attendance,
    CoupleStatus,
    Partner,
    SessionFormat,
)
from dashboard.domain.instruments import Instrument
from dashboard.domain.typed_text import is_blank, normalised, text_problem

NOTE_SECTION_MAX = 5000
PRIVATE_NOTE_MAX = 5000
SAFETY_NOTE_MAX = 1000
BARRIER_NOTE_MAX = 200
NAME_MAX = 80
INTAKE_TEXT_MAX = 2000
STATUS_NOTE_MAX = 500
DURATION_MIN, DURATION_MAX = 5, 240

Errors = dict[str, str]


@dataclass
class BarrierTag:
    barrier_id: int
    severity: int | None
    note: str = ""

    def __post_init__(self) -> None:
        self.note = normalised(self.note)


@dataclass
class SessionInput:
    """Everything the Log session form collects, before it is saved."""

    session_date: date | None
    duration_minutes: int | None
    format: str | None
    attendance: str | None
    note_data: str = ""
    note_assessment: str = ""
    note_plan: str = ""
    stage: int | None = None
    barriers: list[BarrierTag] = field(default_factory=list)
    # ratings[partner][indicator key] = 0..10 or None (not rated)
    ratings: dict[str, dict[str, int | None]] = field(default_factory=dict)
    habits_assigned: list[str] = field(default_factory=list)
    # adherence[habit assignment id] = 0..3 or None (not recorded)
    adherence: dict[int, int | None] = field(default_factory=dict)
    # instrument_totals[partner][instrument key] = total, or None (not given)
    instrument_totals: dict[str, dict[str, float | None]] = field(default_factory=dict)
    safety_flag: bool = False
    safety_note: str = ""
    private_note: str = ""
    # Saved text the counselor ticked "Clear" for: only these may be emptied by an edit.
    clear: frozenset[str] = frozenset()
    # A new session's form: the check-in answers it showed, by partner (check-in ids).
    self_reports: dict[str, int] = field(default_factory=dict)
    # Why a partner's own check-in answers are changed, by partner (an override).
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in SESSION_TEXTS:
            setattr(self, key, normalised(getattr(self, key)))

    def rated_items(self, partner: str) -> dict[str, int]:
        """The items a partner actually rated (blanks dropped)."""
        return {k: v for k, v in self.ratings.get(partner, {}).items() if v is not None}


@dataclass
class CoupleInput:
    partner_a_name: str
    partner_b_name: str
    intake_date: date | None
    presenting_concerns: str = ""
    goals: str = ""
    # Saved text the counselor ticked "Clear" for: only these may be emptied by an edit.
    clear: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for key in ("partner_a_name", "partner_b_name", *COUPLE_TEXTS):
            setattr(self, key, normalised(getattr(self, key)))


def _cap(errors: Errors, key: str, text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        errors[key] = f"{what} is {len(text):,} characters; the limit is {limit:,}."


def _characters(errors: Errors, texts: Mapping[str, tuple[str, str, bool]]) -> None:
    """A field error for each text holding a character that cannot be stored
    (dashboard/domain/typed_text.py); `texts` maps field -> (text, what, multiline)."""
    for key, (text, what, multiline) in texts.items():
        problem = text_problem(text, what, multiline=multiline)
        if problem and key not in errors:
            errors[key] = problem


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_session(
    inp: SessionInput,
    *,
    intake_date: date,
    today: date,
    active_barrier_ids: Collection[int],
    open_assignment_ids: Collection[int] = (),
    instruments: Mapping[str, Instrument] | None = None,
) -> Errors:
    """Check a session against the rules of DOMAIN.md before anything is written.

    `instruments` are the ones this clinic may record (licensed ones only once an admin
    has said the clinic holds the licence); a total for any other is refused.
    """
    errors: Errors = {}

    if inp.session_date is None:
        errors["session_date"] = "Enter the session date."
    elif inp.session_date > today:
        errors["session_date"] = "The session date cannot be in the future."
    elif inp.session_date < intake_date:
        errors["session_date"] = (
            f"The session date is before the couple's intake date ({intake_date:%d %b %Y})."
        )

    if inp.format not in set(SessionFormat):
        errors["format"] = "Choose how the session was held."

    try:
        attendance = Attendance(inp.attendance)
    except ValueError:
        errors["attendance"] = "Choose who attended."
        return errors
    present = {p.value for p in attendance.partners_present}

    if attendance.held:
        if inp.duration_minutes is None:
            errors["duration_minutes"] = "Enter the session length in minutes."
        elif not _is_int(inp.duration_minutes) or not (
            DURATION_MIN <= inp.duration_minutes <= DURATION_MAX
        ):
            errors["duration_minutes"] = (
                f"Session length must be {DURATION_MIN} to {DURATION_MAX} minutes."
            )
        if inp.stage is None:
            errors["stage"] = "Rate the couple's stage of emotional intimacy."
        elif inp.stage not in STAGE_BY_NUMBER:
            errors["stage"] = "The stage must be 1 to 4."
        for key, label in (
            ("note_data", "Data"),
            ("note_assessment", "Assessment"),
            ("note_plan", "Plan"),
        ):
            if is_blank(getattr(inp, key)):
                errors[key] = f"Write the {label} part of the DAP note."
    else:
        if inp.duration_minutes is not None and not (
            _is_int(inp.duration_minutes) and 0 <= inp.duration_minutes <= DURATION_MAX
        ):
            errors["duration_minutes"] = f"Session length must be 0 to {DURATION_MAX} minutes."
        if inp.stage is not None:
            errors["stage"] = "No stage rating when nobody attended."
        if inp.barriers:
            errors["barriers"] = "No barrier tags when nobody attended."
        if inp.habits_assigned:
            errors["habits_assigned"] = "No habits can be assigned when nobody attended."

    for key, label in (
        ("note_data", "Data"),
        ("note_assessment", "Assessment"),
        ("note_plan", "Plan"),
    ):
        _cap(errors, key, getattr(inp, key), NOTE_SECTION_MAX, label)

    # Indicator ratings: 0..10, only for partners who attended, only known items.
    for partner in (Partner.A, Partner.B):
        rated = inp.rated_items(partner.value)
        if not rated:
            continue
        key = f"ratings_{partner.value}"
        unknown = [k for k in rated if k not in INDICATOR_BY_KEY]
        bad = [k for k, v in rated.items() if not _is_int(v) or not RATING_MIN <= v <= RATING_MAX]
        if partner.value not in present:
            errors[key] = f"Partner {partner.value} did not attend: leave their ratings blank."
        elif unknown:
            errors[key] = f"Unknown indicator: {', '.join(sorted(unknown))}."
        elif bad:
            labels = ", ".join(INDICATOR_BY_KEY[k].label for k in bad)
            errors[key] = f"Ratings must be whole numbers 0 to 10 ({labels})."

    seen: set[int] = set()
    for tag in inp.barriers:
        key = f"barrier_{tag.barrier_id}"
        if tag.barrier_id not in active_barrier_ids:
            errors[key] = "This barrier is not in the clinic's active catalog."
        elif tag.barrier_id in seen:
            errors[key] = "This barrier is tagged twice."
        elif tag.severity not in SEVERITIES:
            errors[key] = "Severity must be 1 (mild), 2 (moderate) or 3 (severe)."
        elif len(tag.note) > BARRIER_NOTE_MAX:
            errors[key] = (
                f"The barrier note is {len(tag.note)} characters; the limit is {BARRIER_NOTE_MAX}."
            )
        seen.add(tag.barrier_id)

    unknown_habits = [h for h in inp.habits_assigned if h not in HABIT_BY_KEY]
    if unknown_habits:
        errors["habits_assigned"] = f"Unknown habit: {', '.join(unknown_habits)}."
    elif len(set(inp.habits_assigned)) != len(inp.habits_assigned):
        errors["habits_assigned"] = "A habit is listed twice."

    for assignment_id, value in inp.adherence.items():
        key = f"adherence_{assignment_id}"
        if assignment_id not in open_assignment_ids:
            errors[key] = "This habit was not assigned at the previous session."
        elif value is not None and value not in ADHERENCE:
            errors[key] = "Adherence must be 0 (none) to 3 (fully)."

    available = instruments or {}
    for partner in (Partner.A, Partner.B):
        given = {
            k: v for k, v in inp.instrument_totals.get(partner.value, {}).items() if v is not None
        }
        if not given:
            continue
        key = f"instruments_{partner.value}"
        if partner.value not in present:
            errors[key] = f"Partner {partner.value} did not attend: leave their totals blank."
            continue
        for code, total in given.items():
            instrument = available.get(code)
            message = (
                instrument.validate_total(total)
                if instrument
                else f"{code} is not an instrument this clinic records."
            )
            if message:
                errors[f"instrument_{partner.value}_{code}"] = message

    if inp.safety_flag and is_blank(inp.safety_note):
        errors["safety_note"] = "Describe the safety concern: a flag needs a note."
    _cap(errors, "safety_note", inp.safety_note, SAFETY_NOTE_MAX, "The safety note")

    _characters(
        errors,
        {key: (getattr(inp, key), f"The {label}", True) for key, label in SESSION_TEXTS.items()},
    )
    for tag in inp.barriers:
        _characters(errors, {f"barrier_{tag.barrier_id}": (tag.note, "The barrier note", False)})
    if not is_blank(inp.private_note):
        if not attendance.individual:
            errors["private_note"] = (
                "A private note belongs to an individual session (one partner attending)."
            )
        else:
            _cap(errors, "private_note", inp.private_note, PRIVATE_NOTE_MAX, "The private note")
    return errors


def validate_couple(inp: CoupleInput, *, today: date, first_session: date | None = None) -> Errors:
    """Intake details: both partners named, a real intake date, text within limits."""
    errors: Errors = {}
    for key, label in (("partner_a_name", "Partner A"), ("partner_b_name", "Partner B")):
        value = getattr(inp, key).strip()
        if is_blank(value):
            errors[key] = f"Enter {label}'s display name or initials."
        elif len(value) > NAME_MAX:
            errors[key] = f"{label}'s name is {len(value)} characters; the limit is {NAME_MAX}."
    if inp.intake_date is None:
        errors["intake_date"] = "Enter the intake date."
    elif inp.intake_date > today:
        errors["intake_date"] = "The intake date cannot be in the future."
    elif first_session is not None and inp.intake_date > first_session:
        errors["intake_date"] = (
            f"The intake date cannot be after the first session ({first_session:%d %b %Y})."
        )
    _cap(
        errors,
        "presenting_concerns",
        inp.presenting_concerns,
        INTAKE_TEXT_MAX,
        "Presenting concerns",
    )
    _cap(errors, "goals", inp.goals, INTAKE_TEXT_MAX, "Goals")
    _characters(
        errors,
        {
            "partner_a_name": (inp.partner_a_name, "Partner A's name", False),
            "partner_b_name": (inp.partner_b_name, "Partner B's name", False),
            "presenting_concerns": (inp.presenting_concerns, "Presenting concerns", True),
            "goals": (inp.goals, "Goals", True),
        },
    )
    return errors


# Text an edit may only empty on purpose (a "Clear" tick next to the field), with the
# words the counselor sees. A save that blanks one otherwise is refused: an emptied form
# (a lost widget state, a slip) must never erase what was written.
SESSION_TEXTS = {
    "note_data": "Data note",
    "note_assessment": "Assessment note",
    "note_plan": "Plan note",
    "safety_note": "safety note",
    "private_note": "private note",
}
COUPLE_TEXTS = {"presenting_concerns": "presenting concerns", "goals": "goals"}


def blanked_text(
    saved: Mapping[str, str | None],
    new: Mapping[str, str],
    labels: Mapping[str, str],
    clear: Collection[str],
) -> Errors:
    """Fields that hold saved text and would be emptied without the counselor's "Clear"."""
    errors: Errors = {}
    for key, label in labels.items():
        if not is_blank(saved.get(key) or "") and is_blank(new.get(key, "")) and key not in clear:
            errors[key] = (
                f"This would erase the saved {label}. Tick “Clear {label}” if you mean "
                "to empty it (the earlier text stays in the history)."
            )
    return errors


def validate_status_change(new_status: str, closing_reason: str | None, note: str) -> Errors:
    """Closing needs a reason; 'Other' needs words."""
    errors: Errors = {}
    try:
        status = CoupleStatus(new_status)
    except ValueError:
        return {"status": "Choose active, paused or closed."}
    if status is CoupleStatus.CLOSED:
        if closing_reason not in CLOSING_REASONS:
            errors["closing_reason"] = "Choose why the case is closing."
        elif closing_reason == "other" and is_blank(note):
            errors["status_note"] = "Say why the case is closing."
    _cap(errors, "status_note", note, STATUS_NOTE_MAX, "The note")
    _characters(errors, {"status_note": (note, "The note", False)})
    return errors
