"""A partner's own check-in answers inside a session: what the form fills in, what may
not change without a reason, and which ratings are stored as "self".

Called by dashboard/services/sessions.py inside its own scope checks and transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from dashboard.domain.catalog import INDICATOR_BY_KEY, Attendance
from dashboard.domain.check_in import OwnAnswers, changed_answers, override_problems
from dashboard.domain.instruments import load_instruments
from dashboard.domain.typed_text import normalised
from dashboard.domain.validation import SessionInput
from dashboard.services import check_ins
from db.models import CheckIn, CheckInPartner, Couple, CoupleSession


@dataclass(frozen=True)
class SelfReported:
    """A partner's own answers as a session form shows them."""

    partner: str
    ratings: dict[str, int]
    totals: dict[str, float]
    answered_at: datetime | None = None
    note: str = ""
    # A new session's form: the check-in the answers come from (none for an edit).
    check_in_partner_id: int | None = None

    @property
    def own(self) -> OwnAnswers:
        return OwnAnswers(self.ratings, self.totals)


def waiting(db: DbSession, couple_id: int) -> dict[str, SelfReported]:
    """The open check-in's answers: what a new session of the couple starts from."""
    return {
        p: SelfReported(p, r.ratings, r.totals, r.submitted_at, r.note, r.check_in_partner_id)
        for p, r in check_ins.self_reports(db, couple_id).items()
    }


def stored(db: DbSession, row: CoupleSession) -> dict[str, SelfReported]:
    """A saved session's ratings and totals that are the partners' own answers."""
    found: dict[str, SelfReported] = {}
    answered = {
        p.partner: (p.submitted_at, p.note or "")
        for p in db.scalars(
            select(CheckInPartner)
            .join(CheckIn, CheckIn.id == CheckInPartner.check_in_id)
            .where(CheckIn.session_id == row.id)
        )
    }
    for p in ("A", "B"):
        ratings = {r.item: r.value for r in row.ratings if r.partner == p and r.source == "self"}
        totals = {
            t.instrument: t.total
            for t in row.instrument_totals
            if t.partner == p and t.source == "self"
        }
        if ratings or totals:
            when, note = answered.get(p, (None, ""))
            found[p] = SelfReported(p, ratings, totals, when, note)
    return found


def taken(db: DbSession, couple_id: int, inp: SessionInput) -> dict[str, SelfReported]:
    """The answers a new session's form showed, still waiting in the couple's open
    check-in (a form cannot name another couple's or an already used check-in)."""
    available = waiting(db, couple_id)
    return {
        p: report
        for p, report in available.items()
        if inp.self_reports.get(p) == report.check_in_partner_id
    }


@dataclass
class Outcome:
    """What a save does with the partners' own answers."""

    errors: dict[str, str] = field(default_factory=dict)
    # partner -> the answers stored as "self" (unchanged, and the partner attended)
    kept: dict[str, OwnAnswers] = field(default_factory=dict)
    # partner -> (reason, changed fields) for an override
    overridden: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


def check(couple: Couple, reports: Mapping[str, SelfReported], inp: SessionInput) -> Outcome:
    """Own answers must reach the session as given, unless a reason says why not."""
    outcome = Outcome()
    if inp.attendance not in {a.value for a in Attendance}:
        return outcome  # validation names the attendance; nothing to compare yet
    present = {p.value for p in Attendance(inp.attendance).partners_present}
    names = {"A": couple.partner_a_name, "B": couple.partner_b_name}
    for p, report in reports.items():
        if p not in present:
            continue  # an absent partner's answers are not taken into the session
        changed = changed_answers(
            report.own, inp.ratings.get(p, {}), inp.instrument_totals.get(p, {})
        )
        reason = inp.overrides.get(p)
        outcome.errors |= override_problems(names[p], changed, reason, p)
        if changed:
            outcome.overridden[p] = (normalised(reason or "").strip(), changed)
        else:
            outcome.kept[p] = report.own
    return outcome


def _label(key: str) -> str:
    item = INDICATOR_BY_KEY.get(key)
    if item is not None:
        return item.label.lower()
    instrument = load_instruments().get(key)
    return instrument.name if instrument else key


def override_text(couple: Couple, outcome: Outcome) -> str | None:
    """The amendment's reason in words: whose answers, which, and why."""
    names = {"A": couple.partner_a_name, "B": couple.partner_b_name}
    parts = [
        f"{names[p]}'s own answers changed ({', '.join(_label(k) for k in changed)}): {reason}"
        for p, (reason, changed) in sorted(outcome.overridden.items())
    ]
    return "\n".join(parts) or None


def answers_snapshot(reports: Mapping[str, SelfReported], outcome: Outcome) -> str:
    """The overridden partners' own answers as JSON, kept with the amendment."""
    return json.dumps(
        {
            "self_report": {
                p: {"ratings": reports[p].ratings, "totals": reports[p].totals}
                for p in sorted(outcome.overridden)
            }
        },
        sort_keys=True,
    )
