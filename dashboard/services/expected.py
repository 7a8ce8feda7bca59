"""Expected courses: fitted from the clinic's own couples, published as versions like the
clinic norms, read as one row per measure (issue 22, point 1).

Every alert (caseload, attention list, timeline, PDF) reads the current version here and
names it. Reading never fits anything: the latest published row per measure, parsed once
per process and checked at every read against the newest row's id and time, so a version
published by another process or replica is used at the next page load. Until a version
exists the rational fallback is used (no change expected, bands from the clinic norms'
S_diff, Jacobson & Truax 1991), labelled so, with the couples counted so far.

Versions are made in two ways only: v1 automatically, once MIN_COUPLES couples have a
second rating from one source (checked after the saves that add ratings have committed,
and by `dashboard migrate` / setup / the demo loaders, never by a page's read); later ones by an admin's Publish
on the Admin page, after a preview of whose alerts would move.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as DbSession

from dashboard.domain import expected_response as er
from dashboard.domain import expected_versions as rules
from dashboard.domain.instruments import Instrument, load_instruments
from dashboard.domain.scoring import RELIABLE_Z, ReliableChangeParams
from dashboard.services import admin, audit
from dashboard.services.actor import Actor
from dashboard.services.errors import ValidationFailed
from dashboard.services.norms import ClinicNorms, clinic_norms
from dashboard.services.published import PublishedCache, Stamp, first_version_turn
from db import course_queries, review_queries
from db.engine import begin_write, data_version
from db.models import ExpectedCourseVersion, User, utcnow

EII = rules.EII
log = logging.getLogger(__name__)
EII_BOUNDS = (0.0, 100.0)


# --- What each measure is -------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A measure an expected course can be fitted for: the EII or an instrument."""

    key: str
    scale: str  # its name in labels ("EII", "CSI-4")
    higher_is_better: bool
    bounds: tuple[float, float]


def measures() -> dict[str, Measure]:
    """The EII and every defined instrument, in display order."""
    found = {EII: Measure(EII, "EII", True, EII_BOUNDS)}
    for key, inst in load_instruments().items():
        found[key] = _instrument_measure(inst)
    return found


def _instrument_measure(inst: Instrument) -> Measure:
    return Measure(inst.key, inst.name, inst.higher_is_better, (inst.total_min, inst.total_max))


def fallback_s_diff(params: ReliableChangeParams) -> float | None:
    """The S_diff behind a measure's reliable-change band: SD·√2·√(1−r), or, for an
    instrument judged by a published threshold (RDAS, ORS), that threshold over 1.96
    (the threshold is 1.96·S_diff in Jacobson & Truax 1991). None for a measure with no
    reliable-change value (SRS): it gets no expected course."""
    if params.s_diff is not None:
        return params.s_diff
    if params.threshold is not None:
        return params.threshold / RELIABLE_Z
    return None


def _params(norms: ClinicNorms, measure: str) -> ReliableChangeParams | None:
    return norms.eii if measure == EII else norms.instruments.get(measure)


def _fallback(measure: Measure, norms: ClinicNorms, label: str) -> er.ExpectedModel:
    params = _params(norms, measure.key)
    s_diff = None if params is None else fallback_s_diff(params)
    if s_diff is None:
        label = rules.no_course_label(measure.scale)
    return er.fallback_model(
        measure.key,
        s_diff,
        label,
        higher_is_better=measure.higher_is_better,
        bounds=measure.bounds,
    )


# --- Reading the current version ------------------------------------------------------


def _latest() -> object:
    return (
        select(
            ExpectedCourseVersion.measure,
            func.max(ExpectedCourseVersion.version).label("version"),
        )
        .group_by(ExpectedCourseVersion.measure)
        .subquery()
    )


# The newest row by its key and its time: the primary key's last entry, one indexed look-up.
_NEWEST = (
    select(ExpectedCourseVersion.id, ExpectedCourseVersion.published_at)
    .order_by(ExpectedCourseVersion.id.desc())
    .limit(1)
)


def _as_stored(row: ExpectedCourseVersion, name: str | None) -> rules.StoredCourse:
    return rules.StoredCourse(
        measure=row.measure,
        version=row.version,
        computed_at=row.computed_at,
        published_at=row.published_at,
        published_by=name,
        couples=row.couples,
        norms_version=row.norms_version,
        model=er.ExpectedModel.from_json(row.model).with_label(row.label),
        row_id=row.id,
    )


def _stored(db: DbSession, *, with_names: bool = False) -> list[rules.StoredCourse]:
    """The latest published row of each measure (one query)."""
    latest = _latest()
    query = select(ExpectedCourseVersion, User.display_name).join(
        latest,
        (latest.c.measure == ExpectedCourseVersion.measure)
        & (latest.c.version == ExpectedCourseVersion.version),
    )
    query = query.outerjoin(User, User.id == ExpectedCourseVersion.published_by)
    return [_as_stored(row, name if with_names else None) for row, name in db.execute(query)]


@dataclass(frozen=True)
class ExpectedCourses:
    """The models in use per measure, and the version they come from (None: the
    rational fallback, no version published yet)."""

    models: dict[str, er.ExpectedModel]
    version: int | None = None
    published_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.models[EII].label


def _build(stored: list[rules.StoredCourse], db: DbSession) -> ExpectedCourses:
    """The published models; a measure without a row (an instrument defined after the
    version) gets the rational fallback with the current norms, labelled so."""
    by_measure = {s.measure: s for s in stored}
    eii = by_measure[EII]
    norms = clinic_norms(db)
    models = {}
    for key, measure in measures().items():
        if key in by_measure:
            models[key] = by_measure[key].model
        else:
            label = f"{rules.FALLBACK_CITATION}; not in expected course v{eii.version}"
            models[key] = _fallback(measure, norms, label)
    return ExpectedCourses(models, eii.version, eii.published_at)


def _fallbacks(db: DbSession) -> ExpectedCourses:
    """Before v1: every measure's rational fallback, its label counting the couples with
    a course so far."""
    norms = clinic_norms(db)
    counts = course_queries.couples_with_courses(db)
    models = {}
    for key, m in measures().items():
        found = counts.get(key, {})
        models[key] = rules.with_counts(
            _fallback(m, norms, rules.fallback_label(found, m.scale)), found
        )
    return ExpectedCourses(models)


def _courses_stamp(db: DbSession) -> Stamp:
    """The newest stored row and the norms in use (a measure missing from a version
    follows them); before v1 the data version too: the fallback's label counts couples."""
    newest = db.execute(_NEWEST).first()
    norms = clinic_norms(db).label
    if newest is not None:
        return (tuple(newest), norms)
    return ("fallback", data_version(db), norms)


def _load_courses(db: DbSession) -> tuple[Stamp, ExpectedCourses]:
    stamp = _courses_stamp(db)
    stored = _stored(db)
    return stamp, (_build(stored, db) if stored else _fallbacks(db))


COURSES_CACHE: PublishedCache[ExpectedCourses] = PublishedCache(_courses_stamp, _load_courses)


def expected_courses(db: DbSession) -> ExpectedCourses:
    """Every measure's expected course in use (published, or the labelled fallback)."""
    return COURSES_CACHE.get(db)


def expected_model(db: DbSession, measure: str = EII) -> er.ExpectedModel:
    """The expected course in use for one measure ("eii" or an instrument key): the
    latest published version, or the rational fallback, its label saying which and why.
    Cheap: one indexed look-up per call once cached."""
    return expected_courses(db).models[measure]


# --- Computing a candidate -------------------------------------------------------------


@dataclass(frozen=True)
class Fitted:
    """One measure's candidate: the model fitted now and the course rows behind it."""

    measure: Measure
    model: er.ExpectedModel
    couples: int  # couples with a second rating from some source
    course_rows: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Candidate:
    """Expected courses fitted now from every couple: what a new version would publish."""

    fitted: dict[str, Fitted]
    norms_version: int | None
    sessions: pd.DataFrame = field(repr=False)  # the EII sessions, to judge the alerts

    @property
    def eii(self) -> Fitted:
        return self.fitted[EII]

    def courses(self) -> list[tuple[str, er.ExpectedModel, int]]:
        """Per measure: its key, the model fitted and the couples behind it."""
        return [(key, f.model, f.couples) for key, f in self.fitted.items()]


def _fit(measure: Measure, frame: pd.DataFrame, norms: ClinicNorms) -> Fitted | None:
    params = _params(norms, measure.key)
    s_diff = None if params is None else fallback_s_diff(params)
    if s_diff is None and measure.key != EII:
        return None  # no reliable-change value: no course
    rows = er.courses(frame) if len(frame) else pd.DataFrame(columns=er.COURSE_COLUMNS)
    model = er.fit(
        rows,
        measure=measure.key,
        fallback_s_diff=s_diff,
        min_couples=er.MIN_COUPLES,
        higher_is_better=measure.higher_is_better,
        bounds=measure.bounds,
    )
    return Fitted(measure, model, rules.couples_behind(rows), rows)


def candidate(db: DbSession) -> Candidate:
    """Courses fitted now from every live couple, with the norms in use for the
    fallback: reads every rating (seconds at 150k sessions), never called by a read."""
    norms = clinic_norms(db)
    couples = course_queries.live_couples()
    sessions = review_queries.review_sessions(db, couples)
    fitted: dict[str, Fitted] = {}
    for key, measure in measures().items():
        frame = sessions if key == EII else course_queries.instrument_sessions(db, couples, key)
        found = _fit(measure, frame, norms)
        if found is not None:
            fitted[key] = found
    return Candidate(fitted, norms.version, sessions)


def _rows(
    courses: list[tuple[str, er.ExpectedModel, int]],
    norms_version: int | None,
    version: int,
    by: int | None,
    computed: datetime,
) -> list[ExpectedCourseVersion]:
    """The rows of a version: per measure (key, model, couples behind it)."""
    now = utcnow()
    scales = {key: m.scale for key, m in measures().items()}
    rows = []
    for key, model, couples in courses:
        label = rules.published_label(model, version, now, scales.get(key, key))
        rows.append(
            ExpectedCourseVersion(
                measure=key,
                version=version,
                computed_at=computed,
                published_at=now,
                published_by=by,
                couples=couples,
                method=rules.methods_json(model),
                model=model.with_label(label).to_json(),
                norms_version=norms_version,
                label=label,
            )
        )
    return rows


def _next_version(db: DbSession) -> int:
    return int(db.scalar(select(func.max(ExpectedCourseVersion.version))) or 0) + 1


# --- v1, automatically ---------------------------------------------------------------


def _couples_due(db: DbSession) -> bool:
    """Some source of the EII has MIN_COUPLES couples with a second rating (one query
    over the EII ratings: before v1 the clinic has fewer couples than that with a course)."""
    counts = course_queries.couples_with_courses(db, instruments=False).get(EII, {})
    return max(counts.values(), default=0) >= er.MIN_COUPLES


def _has_version(db: DbSession) -> bool:
    """One look-up of the primary key's index."""
    return db.scalar(select(ExpectedCourseVersion.id).limit(1)) is not None


# Any fixed number: the PostgreSQL advisory lock that publishes v1 one writer at a time.
_FIRST_VERSION_LOCK = 220017


def publish_first_if_due(db: DbSession, found: Candidate) -> bool:
    """In the caller's short write transaction: publish `found` (fitted in a read
    before it) as v1 unless another writer published v1 meanwhile. True when it did."""
    if _has_version(db):
        return False
    first_version_turn(db, _FIRST_VERSION_LOCK)
    if _has_version(db):
        return False  # another writer published v1 while this one waited
    if not rules.has_clinic_course(found.eii.model):
        return False  # only the fallback: it stays labelled so, never "v1"
    db.add_all(_rows(found.courses(), found.norms_version, 1, None, utcnow()))
    audit.record(
        db,
        None,
        "publish_expected_course",
        entity="expected_course",
        username="automatic",
        detail=f"v1 published automatically at {found.eii.couples} couples with a course",
    )
    return True


def ensure_first_version(db: DbSession) -> bool:
    """v1 on a clinic that has enough couples with a course: after a save that added
    ratings, and at `dashboard migrate`, setup, start-up and the demo loaders. Once a
    version exists, one indexed look-up; before, one count of the EII's courses. Both
    and the fit (seconds at 150k sessions) are made in a read, outside any write; the
    write takes only the insert. True when it published."""
    if _has_version(db) or not _couples_due(db):
        db.rollback()
        return False
    found = candidate(db)
    db.rollback()
    begin_write(db)
    published = publish_first_if_due(db, found)
    db.commit()
    return published


def first_version_after_save(db: DbSession) -> bool:
    """Called by a save of ratings once it has committed, so the counselor's write holds
    the lock for the save alone (review finding 8). Never fails the save, which is
    already stored: an error is logged and the next save, or start-up, tries again."""
    try:
        return ensure_first_version(db)
    except SQLAlchemyError:
        db.rollback()
        log.exception("expected course v1 was not published after a save; the next save retries")
        return False


# --- The admin's preview and publish ---------------------------------------------------


@dataclass(frozen=True)
class CoursesStatus:
    """The Admin page's Expected course section, cheap part: what is in use and since
    when, and how v1 was made."""

    current: ExpectedCourses
    stored: dict[str, rules.StoredCourse]  # measure -> its current row
    first: rules.StoredCourse | None  # the EII's v1


@dataclass(frozen=True)
class Previewed:
    """What an admin's preview fitted, kept until they press Publish: exactly this is
    published, however many sessions were saved meanwhile (a refit at publish could
    move alerts the preview never showed). Plain values only: the page keeps it in
    session state, which must pickle."""

    based_on: int | None  # the version in use when the preview was made
    computed_at: datetime  # when the fit read the ratings (the version's computed_at)
    norms_version: int | None  # the norms whose S_diff its fallback bands use
    courses: tuple[tuple[str, str, int], ...]  # per measure: key, model JSON, couples

    def models(self) -> list[tuple[str, er.ExpectedModel, int]]:
        return [(key, er.ExpectedModel.from_json(text), n) for key, text, n in self.courses]


@dataclass(frozen=True)
class CoursesPreview:
    """What publishing now would change: the candidate and how many couples' alerts
    (on the EII, as the caseload shows them) would move, per direction."""

    based_on: int | None  # the version in use when the preview was made
    candidate: Candidate
    moves: list[tuple[str, int]] = field(default_factory=list)
    couples: int = 0  # couples judged (every live couple with a session)
    computed_at: datetime = field(default_factory=utcnow)

    def summary_rows(self) -> list[dict[str, str]]:
        """Per measure and source: method, couples, expected change by rating 4."""
        rows = []
        for fitted in self.candidate.fitted.values():
            rows += rules.summary_rows(fitted.model, fitted.measure.scale, fitted.course_rows)
        return rows

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(self.summary_rows())

    def to_publish(self) -> Previewed:
        """What Publish stores: this preview's models, as fitted."""
        courses = tuple((key, model.to_json(), n) for key, model, n in self.candidate.courses())
        return Previewed(self.based_on, self.computed_at, self.candidate.norms_version, courses)


def courses_status(db: DbSession, actor: Actor) -> CoursesStatus:
    """The current version per measure and how v1 was made (admins only; cheap)."""
    admin.require_admin(db, actor, "view_expected_course")
    current = expected_courses(db)
    stored = {s.measure: s for s in _stored(db, with_names=True)}
    first = db.execute(
        select(ExpectedCourseVersion, User.display_name)
        .outerjoin(User, User.id == ExpectedCourseVersion.published_by)
        .where(ExpectedCourseVersion.measure == EII, ExpectedCourseVersion.version == 1)
    ).first()
    db.rollback()
    return CoursesStatus(current, stored, None if first is None else _as_stored(*first))


def preview(db: DbSession, actor: Actor) -> CoursesPreview:
    """The candidate fitted now, and how many couples' alerts it would move against the
    course in use: a read, outside any write; seconds at 150k sessions, so the page asks
    for it."""
    admin.require_admin(db, actor, "preview_expected_course")
    in_use = expected_courses(db)
    current, based_on = in_use.models[EII], in_use.version
    computed = utcnow()
    found = candidate(db)
    db.rollback()  # end the read: what follows is arithmetic
    sessions = found.sessions
    if sessions.empty:
        return CoursesPreview(based_on, found, computed_at=computed)
    before = er.caseload_alerts(sessions, current)
    after = er.caseload_alerts(sessions, found.eii.model)
    moves = rules.alert_moves(before, after)
    return CoursesPreview(based_on, found, moves, len(before), computed)


def publish(db: DbSession, actor: Actor, previewed: Previewed) -> ExpectedCourses:
    """Publish the courses an admin previewed as the next version (admins only, audited).

    Exactly the previewed models are stored, nothing is refitted: what the admin saw
    (and whose alerts it would move) is what every alert then uses. If another admin
    published after the preview was made, nothing is written and the admin is asked to
    look again. The write holds only the insert.
    """
    admin.require_admin(db, actor, "publish_expected_course")
    courses = previewed.models()
    eii = next((model for key, model, _ in courses if key == EII), None)
    if eii is None or not rules.has_clinic_course(eii):
        counts = {} if eii is None else {s: c.couples for s, c in eii.curves.items()}
        db.rollback()
        raise ValidationFailed(
            {
                "expected_course": "The clinic's own expected course needs "
                f"{er.MIN_COUPLES} couples with two ratings from one source; the clinic has "
                f"{max(counts.values(), default=0)}. Until then the rational fallback is used."
            }
        )
    begin_write(db)
    latest = db.scalar(select(func.max(ExpectedCourseVersion.version)))
    if latest != previewed.based_on:
        db.rollback()
        raise ValidationFailed(
            {
                "expected_course": f"Another admin published expected course v{latest} "
                "meanwhile: look at the preview again before publishing."
            }
        )
    version = _next_version(db)
    db.add_all(
        _rows(courses, previewed.norms_version, version, actor.user_id, previewed.computed_at)
    )
    scales = {key: m.scale for key, m in measures().items()}
    measures_in = ", ".join(scales.get(key, key) for key, _, _ in courses)
    couples = next(n for key, _, n in courses if key == EII)
    audit.record(
        db,
        actor,
        "publish_expected_course",
        entity="expected_course",
        detail=f"v{version}: EII from {couples} couples with a course ({measures_in})",
    )
    db.commit()
    courses = expected_courses(db)
    return courses


def when_made(stored: rules.StoredCourse) -> str:
    """'v1, published automatically once 100 couples had a course on 6 Dec 2026' /
    'v2, published by Ada Admin on 9 Jan 2027'."""
    how = (
        f"by {stored.published_by}"
        if stored.published_by
        else f"automatically once {er.MIN_COUPLES} couples had a course"
    )
    return f"v{stored.version}, published {how} on {rules.day_label(stored.published_at)}"
