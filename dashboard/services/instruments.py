"""Which validated instruments the clinic records, and the admin's licence switch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session as DbSession

from dashboard.domain.alliance import AllianceTotals
from dashboard.domain.instruments import Instrument, SplitAllianceRule, load_instruments
from dashboard.services import admin, audit
from dashboard.services.actor import Actor
from dashboard.services.errors import ValidationFailed
from db import review_queries
from db.engine import begin_write
from db.models import InstrumentLicence, User, utcnow


def available_instruments(db: DbSession) -> dict[str, Instrument]:
    """Instruments whose totals may be entered: free ones, and licensed ones switched on."""
    licensed = set(
        db.scalars(select(InstrumentLicence.instrument).where(InstrumentLicence.licensed))
    )
    return {
        key: inst
        for key, inst in load_instruments().items()
        if not inst.requires_licence or key in licensed
    }


def alliance_rule(db: DbSession) -> tuple[SplitAllianceRule | None, bool]:
    """The split-alliance rule of the alliance scale a definition file states one for
    (the SRS: [split_alliance] in srs.toml), and whether the clinic uses that scale (its
    licence switched on). (None, False) when no file states a rule."""
    for inst in load_instruments().values():
        if inst.split_alliance is not None:
            in_use = inst.key in available_instruments(db)
            return inst.split_alliance, in_use
    return None, False


def alliance_totals(db: DbSession, couple_ids: Select) -> AllianceTotals:
    """The alliance scale's totals of these couples with its split-alliance rule; no
    totals are read while the clinic does not use the scale (its licence off)."""
    rule, in_use = alliance_rule(db)
    if rule is None or not in_use:
        return AllianceTotals(rule=rule, in_use=in_use)
    totals = review_queries.review_alliance_totals(db, couple_ids, rule.instrument)
    return AllianceTotals(totals, rule, in_use)


@dataclass(frozen=True)
class LicenceStatus:
    key: str
    name: str
    licence_note: str
    licensed: bool
    changed_by: str
    changed_at: str


def licences(db: DbSession, actor: Actor) -> list[LicenceStatus]:
    """The instruments that need a licence, and whether the clinic has said it holds one."""
    admin.require_admin(db, actor, "view_licences")
    rows = {r.instrument: r for r in db.scalars(select(InstrumentLicence))}
    names = {uid: name for uid, name in db.execute(select(User.id, User.display_name))}
    db.commit()
    return [
        LicenceStatus(
            key=key,
            name=inst.name,
            licence_note=inst.licence_note,
            licensed=bool(rows.get(key) and rows[key].licensed),
            changed_by=names.get(rows[key].changed_by, "") if key in rows else "",
            changed_at=f"{rows[key].changed_at:%d %b %Y}" if key in rows else "",
        )
        for key, inst in load_instruments().items()
        if inst.requires_licence
    ]


def set_licence(db: DbSession, actor: Actor, key: str, *, licensed: bool) -> None:
    """Record that the clinic holds (or no longer holds) an instrument's licence."""
    begin_write(db)
    admin.require_admin(db, actor, "set_licence")
    inst = load_instruments().get(key)
    if inst is None or not inst.requires_licence:
        raise ValidationFailed({"instrument": "That instrument needs no licence switch."})
    row = db.get(InstrumentLicence, key)
    if row is None:
        row = InstrumentLicence(instrument=key, changed_by=actor.user_id)
        db.add(row)
    row.licensed = licensed
    row.changed_by = actor.user_id
    row.changed_at = utcnow()
    audit.record(
        db,
        actor,
        "set_licence",
        entity="instrument",
        detail=f"{key}: {'on' if licensed else 'off'}",
    )
    db.commit()
    # The split-alliance rule in use moved: rows judged before are stale, so readers
    # compute those couples from their sessions until the next start rebuilds them.
