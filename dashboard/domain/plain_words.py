"""The couple's status in a counselor's words: names and plain language, same facts.

The technical line (RCI, S_diff, method) stays available beside it ("How is this
calculated?"); these sentences say the same classification without statistics:

- "reliable" change       -> "a change larger than measurement noise"
- no reliable change      -> "about the same as at intake: any change is within
                              measurement noise"
- on the healthy side of the cutoff -> "in the healthy range"
- clinically significant improvement (reliable improvement AND crossed the cutoff)
                          -> "much better than at intake, ..., now in the healthy range"
- the same on too short a course (scoring.EARLY_CHANGE_MIN_SESSIONS)
                          -> "better than at intake, ..., now in the healthy range; early
                              change: 3 rated sessions over 14 days so far (...)"

The timeline page and the PDF report both print `status_sentences`, so the two never
drift apart. Pure: trajectory in, sentences out.
"""

from __future__ import annotations

import re
from datetime import date

from dashboard.domain.catalog import CLOSING_REASONS, STATUS_LABELS, CoupleStatus
from dashboard.domain.scoring import (
    DIVERGING_GAP,
    DIVERGING_SESSIONS,
    NOT_ON_TRACK_AFTER_SESSIONS,
    Change,
    ChangeResult,
    CoupleTrajectory,
    PartnerTrajectory,
    early_change_rule,
)
from dashboard.domain.timeline import TimelineData

NOISE = "a change larger than measurement noise"


def _range_clause(change: ChangeResult) -> str:
    """Where the latest score sits against the cutoff, when there is one."""
    if change.meets_cutoff is None:
        return ""
    return ", in the healthy range" if change.meets_cutoff else ", not yet in the healthy range"


def change_words(change: ChangeResult) -> str:
    """One judged change, without statistics: 'better than at intake, ...'."""
    if change.status is None:
        return "not judged for change (this measure has no reliable-change value)" + (
            _range_clause(change)
        )
    if change.status is Change.IMPROVED:
        if change.clinically_significant:
            return f"much better than at intake, {NOISE}, now in the healthy range"
        if change.early_change and change.course is not None:
            return (
                f"better than at intake, {NOISE}, now in the healthy range; early change: "
                f"{change.course.describe()} so far ({early_change_rule()})"
            )
        if change.meets_cutoff:
            return f"better than at intake, {NOISE}; already in the healthy range at intake"
        return f"better than at intake, {NOISE}" + _range_clause(change)
    if change.status is Change.DETERIORATED:
        return f"worse than at intake, {NOISE}" + _range_clause(change)
    return "about the same as at intake: any change is within measurement noise" + (
        _range_clause(change)
    )


def partner_words(name: str, partner: PartnerTrajectory) -> str:
    """'Priya: much better than at intake, ..., now in the healthy range.'"""
    if partner.change is not None:
        return f"{name}: {change_words(partner.change)}."
    # Too early: say what is missing, not only that nothing can be said yet.
    if partner.ratings == 1:
        return (
            f"{name}: rated at one session so far, the baseline; "
            "a second rated session is needed to judge change."
        )
    return f"{name}: not rated yet; two rated sessions are needed to judge change."


def couple_words(couple: ChangeResult | None) -> str:
    if couple is None:
        return "As a couple: not judged yet; it needs two sessions where both partners were rated."
    return f"As a couple: {change_words(couple)}."


def _plain_reason(reason: str, names: dict[str, str], held: int) -> str:
    """A not-on-track or partners-diverging reason from scoring, with names, no statistics."""
    for partner, name in names.items():
        if reason.startswith(f"{partner} reliably deteriorated"):
            return f"{name} is worse than at intake"
    if reason.startswith("no reliable improvement after"):
        return (
            f"nobody has improved beyond measurement noise after {held} sessions "
            f"(the rule looks after {NOT_ON_TRACK_AFTER_SESSIONS})"
        )
    match = re.fullmatch(r"stage regressed twice in a row \((.+)\)", reason)
    if match:
        return f"the stage dropped twice in a row ({match.group(1)})"
    match = re.fullmatch(
        r"(Partner [AB]) reliably improved while (Partner [AB]) reliably deteriorated", reason
    )
    if match:
        return f"{names[match.group(1)]} is better while {names[match.group(2)]} is worse"
    if reason.startswith(f"partners more than {DIVERGING_GAP:g} EII points apart"):
        a, b = names.values()
        return (
            f"{a} and {b} rated the relationship more than {DIVERGING_GAP:g} points "
            f"apart at each of the last {DIVERGING_SESSIONS} sessions where both were rated"
        )
    return reason  # a rule added later still says its fact, in its own words


def status_sentences(name_a: str, name_b: str, trajectory: CoupleTrajectory) -> tuple[str, ...]:
    """The timeline's first lines and the report's status: one per partner, the couple,
    then why the couple needs attention (if it does)."""
    names = {"Partner A": name_a, "Partner B": name_b}
    lines = [
        partner_words(name_a, trajectory.partner_a),
        partner_words(name_b, trajectory.partner_b),
        couple_words(trajectory.couple),
    ]
    held = trajectory.sessions_held
    if trajectory.not_on_track:
        reasons = [_plain_reason(r, names, held) for r in trajectory.not_on_track_reasons]
        lines.append("Not on track: " + "; ".join(reasons) + ".")
    if trajectory.diverging:
        reasons = [_plain_reason(r, names, held) for r in trajectory.diverging_reasons]
        lines.append("Partners diverging: " + "; ".join(reasons) + ".")
    return tuple(lines)


def partner_names(partner_a: str, partner_b: str) -> tuple[str, str]:
    """The partners' names as every sentence and chart says them: 'Partner A' for a
    blank name, and two equal names kept apart ('Alex (A)', 'Alex (B)')."""
    a = (partner_a or "").strip() or "Partner A"
    b = (partner_b or "").strip() or "Partner B"
    if a == b:
        a, b = f"{a} (A)", f"{b} (B)"
    return a, b


def status_lines(data: TimelineData, trajectory: CoupleTrajectory) -> tuple[str, ...]:
    """The couple's status by name: the timeline's first lines and the report's status."""
    return status_sentences(*partner_names(data.partner_a, data.partner_b), trajectory)


def case_status(status: str, closing_reason: str | None, changed_on: date | None) -> str:
    """'Closed 12 Apr 2026 (Goals met)': a report read months later, or a closed couple's
    timeline, must say the case ended and why, not look like an open one."""
    label = STATUS_LABELS.get(CoupleStatus(status), status)
    when = f" {changed_on.day} {changed_on:%b %Y}" if changed_on else ""
    if status == CoupleStatus.PAUSED:
        return f"{label} since{when}" if when else label
    if status == CoupleStatus.CLOSED:
        reason = CLOSING_REASONS.get(closing_reason or "", closing_reason or "")
        return f"{label}{when}" + (f" ({reason})" if reason else "")
    return label
