"""The demo clinic's partner check-ins: for the last six weeks the clinic has asked its
open couples to answer before about half of their sessions, and most partners did.

Every such check-in is closed, taken into its session: the partner's ratings there are
stored as their own ("self"), the timeline draws them as diamonds and the Check-ins tab
lists them. No link of the demo works (each digest is of a secret nobody keeps); a
counselor who wants to try one makes a new check-in. None is left open, so a new session
form starts empty as before.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS, Attendance
from dashboard.domain.check_in import digest, new_token
from dashboard.domain.same_source import SELF
from dashboard.services.audit import audit_key
from db.models import CheckIn, CheckInPartner, Couple, CoupleSession, IndicatorRating

SINCE_DAYS = 42  # check-ins began six weeks before the demo's today
ASKED_SHARE = 0.5  # sessions whose couple was asked
ANSWERED_SHARE = 0.8  # partners asked who answered
NOTES = (
    "We had a better week. I want to talk about the holidays.",
    "Hard week. I did not feel heard on Thursday.",
    "Can we start with the money conversation?",
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isalpha())[:2].upper() or "?"


def add_check_ins(db: Session, rng: random.Random, today: date) -> int:
    """Write the closed check-ins and mark the answered ratings as self-reports; returns
    how many sessions took a partner's own answers."""
    key = audit_key()
    rows = db.execute(
        select(
            CoupleSession.id,
            CoupleSession.session_date,
            CoupleSession.attendance,
            Couple.id.label("couple_id"),
            Couple.counselor_id,
            Couple.partner_a_name,
            Couple.partner_b_name,
        )
        .join(Couple, Couple.id == CoupleSession.couple_id)
        .where(
            Couple.status == "active",
            CoupleSession.session_date >= today - timedelta(days=SINCE_DAYS),
            CoupleSession.session_date <= today,
        )
        .order_by(CoupleSession.session_date, CoupleSession.id)
    ).all()
    ratings: dict[tuple[int, str], dict[str, int]] = {}
    for sid, partner, item, value in db.execute(
        select(
            IndicatorRating.session_id,
            IndicatorRating.partner,
            IndicatorRating.item,
            IndicatorRating.value,
        ).where(IndicatorRating.session_id.in_([r.id for r in rows]))
    ):
        ratings.setdefault((sid, partner), {})[item] = value
    taken = 0
    for r in rows:
        present = {p.value for p in Attendance(r.attendance).partners_present}
        if not present or rng.random() >= ASKED_SHARE:
            continue
        asked_on = r.session_date - timedelta(days=3)
        check_in = CheckIn(
            couple_id=r.couple_id,
            created_by=r.counselor_id,
            created_at=_at(asked_on, 17),
            initials_a=_initials(r.partner_a_name),
            initials_b=_initials(r.partner_b_name),
            instruments="",
            session_id=r.id,
        )
        own = []
        for partner in ("A", "B"):
            answers = ratings.get((r.id, partner), {})
            # A check-in asks all eight items: only a partner rated on all eight answered.
            answered = (
                len(answers) == len(INDICATORS)
                and partner in present
                and rng.random() < ANSWERED_SHARE
            )
            check_in.partners.append(
                CheckInPartner(
                    partner=partner,
                    token_hash=digest(key, new_token()),
                    expires_at=_at(asked_on, 17) + timedelta(hours=72),
                    opened_at=_at(r.session_date - timedelta(days=1), 20) if answered else None,
                    submitted_at=(
                        _at(r.session_date - timedelta(days=1), 20, 5) if answered else None
                    ),
                    revoked_at=None if answered else _at(r.session_date, 9),
                    expiry_recorded=False,
                    answers=(
                        json.dumps({"ratings": answers, "totals": {}}, sort_keys=True)
                        if answered
                        else None
                    ),
                    note=rng.choice(NOTES) if answered and rng.random() < 0.25 else None,
                )
            )
            if answered:
                own.append(partner)
        db.add(check_in)
        for partner in own:
            db.execute(
                update(IndicatorRating)
                .where(IndicatorRating.session_id == r.id, IndicatorRating.partner == partner)
                .values(source="self")
            )
            # Every item is the partner's own answer: so is the stored EII's source.
            column = CoupleSession.source_a if partner == "A" else CoupleSession.source_b
            eii = CoupleSession.eii_a if partner == "A" else CoupleSession.eii_b
            db.execute(
                update(CoupleSession)
                .where(CoupleSession.id == r.id, eii.is_not(None))
                .values({column: SELF})
            )
        taken += bool(own)
    db.flush()
    return taken
