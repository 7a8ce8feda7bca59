"""Clinic norms: published versions, read as one row per measure (issue 21, point 6).

Every reliable-change result (timeline, review, caseload, PDF, extract) reads the
current version here and names it. Reading never touches the sessions: the latest
published row per measure, one indexed query, kept per process. A page sees a version
published by another process or replica at its next load, because every read first
asks the database for the newest row's id and time (the primary key's last entry) and
rebuilds only when it moved. Until a version exists the documented defaults
are used, labelled so, with the intakes counted so far.

Versions are made in two ways only: v1 automatically, once the clinic has
MIN_LOCAL_INTAKES intakes (checked by the writes that add intake ratings and by
`dashboard migrate` / setup / the demo loaders, never by a read); later ones by an
admin's Publish on the Admin page, after a preview of whose status would move.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session as DbSession

from dashboard.domain import norms as rules
from dashboard.domain.instruments import Instrument, instrument_params, load_instruments
from dashboard.domain.outcomes import caseload_outcomes
from dashboard.domain.scoring import MIN_LOCAL_INTAKES, ReliableChangeParams, eii_params
from dashboard.services import admin, audit
from dashboard.services.actor import Actor
from dashboard.services.errors import ValidationFailed
from dashboard.services.published import PublishedCache, Stamp, first_version_turn
from db import queries, review_queries
from db.engine import begin_write, data_version
from db.models import Couple, CoupleSession, NormsVersion, User, utcnow


@dataclass(frozen=True)
class ClinicNorms:
    """Reliable-change parameters for EII and every instrument, with the version they
    come from (None: documented defaults, no version published yet)."""

    eii: ReliableChangeParams
    instruments: dict[str, ReliableChangeParams]
    version: int | None = None
    label: str = ""  # "clinic norms v3 of 2 Nov 2026, 198 intakes" / the defaults' words
    published_at: datetime | None = None


def defaults(intakes: int) -> ClinicNorms:
    """The documented defaults, labelled as such ('12 of 30 intakes')."""
    label = rules.defaults_label(intakes)
    return ClinicNorms(
        eii=replace(_eii_base(), n=intakes, norms_label=label),
        instruments={
            key: replace(_instrument_base(inst), norms_label=label)
            for key, inst in load_instruments().items()
        },
        label=label,
    )


# --- Reading the current version ---------------------------------------------------


# What rebuilding the parameters needs: the hot path reads only these, and no user
# names (who published is for the Admin page: `_stored_with_names`).
_HOT = [f for f in rules.FIGURES if f not in ("threshold", "method", "source_mix")]


def _latest() -> Any:
    return (
        select(NormsVersion.measure, func.max(NormsVersion.version).label("version"))
        .group_by(NormsVersion.measure)
        .subquery()
    )


def _hot_rows() -> Any:
    latest = _latest()
    return select(
        NormsVersion.id,
        NormsVersion.measure,
        NormsVersion.version,
        NormsVersion.published_at,
        *(getattr(NormsVersion, f) for f in _HOT),
    ).join(
        latest,
        (latest.c.measure == NormsVersion.measure) & (latest.c.version == NormsVersion.version),
    )


# Built once: composing a statement costs more than running it on a table this small.
_HOT_ROWS = _hot_rows()
# The newest row by its key and its time (a restored backup with as many rows is still
# told apart): the primary key's last entry, one indexed look-up.
_NEWEST = (
    select(NormsVersion.id, NormsVersion.published_at).order_by(NormsVersion.id.desc()).limit(1)
)


def _stored(db: DbSession) -> list[rules.StoredNorms]:
    """The latest published row of each measure, in one query: what every cold read
    costs, so plain columns, no ORM objects and no join beyond the latest version."""
    return [
        rules.StoredNorms(
            measure=r[1],
            version=r[2],
            computed_at=None,  # not needed to judge anything: the Admin page reads it
            published_at=r[3],
            published_by=None,
            figures=dict(zip(_HOT, r[4:], strict=True)),
            row_id=r[0],
        )
        for r in db.execute(_HOT_ROWS).all()
    ]


def _stored_with_names(db: DbSession) -> list[rules.StoredNorms]:
    """The latest row of each measure with every figure and who published it."""
    latest = _latest()
    rows = db.execute(
        select(NormsVersion, User.display_name)
        .join(
            latest,
            (latest.c.measure == NormsVersion.measure) & (latest.c.version == NormsVersion.version),
        )
        .outerjoin(User, User.id == NormsVersion.published_by)
    ).all()
    return [_as_stored(row, name) for row, name in rows]


def _as_stored(row: NormsVersion, name: str | None) -> rules.StoredNorms:
    return rules.StoredNorms(
        measure=row.measure,
        version=row.version,
        computed_at=row.computed_at,
        published_at=row.published_at,
        published_by=name,
        figures={f: getattr(row, f) for f in rules.FIGURES},
        row_id=row.id,
    )


@functools.cache
def _eii_base() -> ReliableChangeParams:
    return eii_params([])


@functools.cache
def _instrument_base(instrument: Instrument) -> ReliableChangeParams:
    """A definition's parameters with no intakes (its scale, published values, sources)."""
    return instrument_params(instrument, [])


def _build(stored: list[rules.StoredNorms]) -> ClinicNorms:
    """ClinicNorms from stored rows; a measure without a row (an instrument defined
    after the version) keeps its definition's parameters with no intakes."""
    by_measure = {s.measure: s for s in stored}

    def params(measure: str, base: ReliableChangeParams) -> ReliableChangeParams:
        # A questionnaire judged by its published value has no clinic figures to take.
        if measure in by_measure and base.threshold_override is None:
            return rules.params_from(base, by_measure[measure])
        return base

    eii = by_measure[rules.EII]
    return ClinicNorms(
        eii=params(rules.EII, _eii_base()),
        instruments={
            key: params(key, _instrument_base(inst)) for key, inst in load_instruments().items()
        },
        version=eii.version,
        label=eii.label,
        published_at=eii.published_at,
    )


def intake_count(db: DbSession) -> int:
    """Partners with an EII at some live session of a live couple: the intakes so far
    (the `n` eii_params would count)."""
    live = CoupleSession.deleted_at.is_(None) & Couple.deleted_at.is_(None)
    partners = union_all(
        *(
            select(CoupleSession.couple_id)
            .join(Couple, Couple.id == CoupleSession.couple_id)
            .where(live, column.is_not(None))
            .distinct()
            for column in (CoupleSession.eii_a, CoupleSession.eii_b)
        )
    ).subquery()
    return int(db.scalar(select(func.count()).select_from(partners)) or 0)


def _norms_stamp(db: DbSession) -> Stamp:
    """The newest stored row; before v1 the defaults' label counts intakes, so it moves
    with the data."""
    newest = db.execute(_NEWEST).first()
    return tuple(newest) if newest is not None else ("defaults", data_version(db))


def _load_norms(db: DbSession) -> tuple[Stamp, ClinicNorms]:
    stored = _stored(db)
    if stored:
        newest = max(stored, key=lambda s: s.row_id)
        return (newest.row_id, newest.published_at), _build(stored)
    return ("defaults", data_version(db)), defaults(intake_count(db))


NORMS_CACHE: PublishedCache[ClinicNorms] = PublishedCache(_norms_stamp, _load_norms)


def clinic_norms(db: DbSession) -> ClinicNorms:
    """The clinic's current published norms (or the labelled defaults before v1)."""
    return NORMS_CACHE.get(db)


# --- Computing a candidate -----------------------------------------------------------


def candidate(db: DbSession) -> ClinicNorms:
    """Norms computed now from every intake: what a new version would publish. Scans
    the clinic's intakes (seconds at 150k sessions): never called by a page's read."""
    intakes: dict[tuple[int, str], dict[str, int | None]] = {}
    sources: dict[tuple[int, str], str] = {}
    for couple_id, partner, item, value, source in queries.intake_ratings(db):
        intakes.setdefault((couple_id, partner), {})[item] = value
        if source == "self":  # any item from the partner's own check-in
            sources[(couple_id, partner)] = "self"
    instruments = load_instruments()
    totals: dict[str, list[float]] = {code: [] for code in instruments}
    for code, total in queries.intake_instrument_totals(db):
        if code in totals:
            totals[code].append(float(total))
    keys = list(intakes)
    return ClinicNorms(
        eii=eii_params([intakes[k] for k in keys], [sources.get(k, "counselor") for k in keys]),
        instruments={
            code: instrument_params(inst, totals[code]) for code, inst in instruments.items()
        },
    )


def _rows(
    found: ClinicNorms, version: int, by: int | None, computed: datetime
) -> list[NormsVersion]:
    now = utcnow()
    measures = {rules.EII: found.eii, **found.instruments}
    return [
        NormsVersion(
            measure=measure,
            version=version,
            computed_at=computed,
            published_at=now,
            published_by=by,
            **rules.figures_of(params),
        )
        for measure, params in measures.items()
    ]


def _next_version(db: DbSession) -> int:
    return int(db.scalar(select(func.max(NormsVersion.version))) or 0) + 1


# --- v1, automatically ----------------------------------------------------------------


# Any fixed number: the PostgreSQL advisory lock that publishes v1 one save at a time.
_FIRST_VERSION_LOCK = 210016


def publish_first_if_due(db: DbSession) -> bool:
    """In the caller's write transaction: publish v1 when none exists and the clinic
    has reached MIN_LOCAL_INTAKES intakes. Cheap once a version exists (one indexed
    look-up); before that, one count of intakes. True when it published."""
    if db.scalar(select(NormsVersion.id).limit(1)) is not None:
        return False
    first_version_turn(db, _FIRST_VERSION_LOCK)
    if db.scalar(select(NormsVersion.id).limit(1)) is not None:
        return False  # another save published v1 while this one waited
    db.flush()  # the intake being saved counts
    if intake_count(db) < MIN_LOCAL_INTAKES:
        return False
    found = candidate(db)
    # The same rule as eii_params: 30 EIIs, and figures of the clinic's own. With 30 EIIs
    # but too few intakes rated on every item (or an unusable α), the candidate is the
    # documented defaults: published as "clinic norms v1" they would pose as the clinic's
    # own and never change by themselves, so they stay labelled defaults until then.
    if found.eii.n < MIN_LOCAL_INTAKES or found.eii.source != "locally derived":
        return False
    db.add_all(_rows(found, 1, None, utcnow()))
    audit.record(
        db,
        None,
        "publish_norms",
        entity="clinic_norms",
        username="automatic",
        detail=f"v1 published automatically at {found.eii.n} intakes",
    )
    return True


def ensure_first_version(db: DbSession) -> bool:
    """For `dashboard migrate`, setup, start-up and the demo loaders: v1 on a clinic
    that already has enough intakes. The candidate is computed in a read; the write
    takes only the insert."""
    if db.scalar(select(NormsVersion.id).limit(1)) is not None:
        db.rollback()
        return False
    due = intake_count(db) >= MIN_LOCAL_INTAKES
    db.rollback()
    if not due:
        return False
    begin_write(db)
    published = publish_first_if_due(db)
    db.commit()
    return published


# --- The admin's preview and publish --------------------------------------------------


@dataclass(frozen=True)
class NormsStatus:
    """The Admin page's Clinic norms section, cheap part: what is in use and since when."""

    current: ClinicNorms
    stored: dict[str, rules.StoredNorms]  # measure -> its current row
    first: rules.StoredNorms | None  # the EII's v1: when and how it was made


@dataclass(frozen=True)
class NormsPreview:
    """What publishing now would change: the candidate computed from every intake, and
    how many partners' EII statuses would move, per direction."""

    based_on: int | None  # the version in use when the preview was made
    candidate: ClinicNorms
    moves: list[tuple[str, int]] = field(default_factory=list)
    partners: int = 0  # partners judged (two per live couple)


def _require_admin(db: DbSession, actor: Actor, action: str) -> None:
    """Admins only (refusals audited), as the rest of the Admin page."""
    admin.require_admin(db, actor, action)


def norms_status(db: DbSession, actor: Actor) -> NormsStatus:
    """The current version per measure and how v1 was made (admins only; cheap)."""
    _require_admin(db, actor, "view_norms")
    current = clinic_norms(db)
    stored = {s.measure: s for s in _stored_with_names(db)}
    first = db.execute(
        select(NormsVersion, User.display_name)
        .outerjoin(User, User.id == NormsVersion.published_by)
        .where(NormsVersion.measure == rules.EII, NormsVersion.version == 1)
    ).first()
    db.rollback()
    return NormsStatus(current, stored, None if first is None else _as_stored(*first))


def preview(db: DbSession, actor: Actor) -> NormsPreview:
    """The candidate computed now, and how many partners' EII statuses it would move
    (each direction) against the version in use: a read, outside any write; seconds
    at 150k sessions, so the page asks for it."""
    _require_admin(db, actor, "preview_norms")
    current = clinic_norms(db)
    found = candidate(db)
    every = select(Couple.id).where(Couple.deleted_at.is_(None))
    sessions = review_queries.review_sessions(db, every)
    db.rollback()  # end the read: what follows is arithmetic
    before = caseload_outcomes(sessions, current.eii)
    after = caseload_outcomes(sessions, found.eii)
    return NormsPreview(
        based_on=current.version,
        candidate=found,
        moves=rules.status_moves(before, after),
        partners=2 * len(before),
    )


def publish(db: DbSession, actor: Actor, *, expected_version: int | None) -> ClinicNorms:
    """Publish the norms computed now as the next version (admins only, audited).

    `expected_version` is the version the admin's preview showed: if another admin
    published meanwhile, nothing is written and the admin is asked to look again.
    The candidate is computed in a read first; the write holds only the insert.
    """
    _require_admin(db, actor, "publish_norms")
    computed = utcnow()
    found = candidate(db)
    db.rollback()
    if found.eii.n < MIN_LOCAL_INTAKES:
        raise ValidationFailed(
            {
                "norms": f"Clinic norms need {MIN_LOCAL_INTAKES} intakes; the clinic has "
                f"{found.eii.n}. Until then the documented defaults are used."
            }
        )
    begin_write(db)
    latest = db.scalar(select(func.max(NormsVersion.version)))
    if latest != expected_version:
        db.rollback()
        raise ValidationFailed(
            {
                "norms": "Another admin published clinic norms v"
                f"{latest} meanwhile: look at the preview again before publishing."
            }
        )
    version = _next_version(db)
    db.add_all(_rows(found, version, actor.user_id, computed))
    audit.record(
        db,
        actor,
        "publish_norms",
        entity="clinic_norms",
        detail=f"v{version}: EII from {found.eii.n} intakes ({found.eii.describe()})",
    )
    db.commit()
    norms = clinic_norms(db)
    return norms


def when_made(stored: rules.StoredNorms) -> str:
    """'v1, published automatically on 6 Dec 2026 at 30 intakes' / '… by Ada Admin'."""
    how = (
        f"by {stored.published_by}"
        if stored.published_by
        else f"automatically once the clinic reached {MIN_LOCAL_INTAKES} intakes"
    )
    return f"v{stored.version}, published {how} on {rules.day_label(stored.published_at)}"
