"""Writing a planned clinic: bulk inserts, one transaction per chunk of couples."""

from __future__ import annotations

import math
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.demo.archetypes import (
    DemoSummary,
    _plan_clinic,
    _plan_couple_record,
    _plan_session_rows,
)
from dashboard.demo.check_ins import add_check_ins
from dashboard.demo.people import (
    BARRIER_NOTES,
    DEMO_ADMIN,
    DEMO_PASSWORD,
    DEMO_SUPERVISION,
    DEMO_USERS,
    HISTORY_DAYS,
    SPLIT_ALLIANCE,
    SRS,
    SRS_SPLIT_SHOWCASE,
)
from dashboard.demo.plan import _CouplePlan
from dashboard.demo.scaled import (
    COUNSELORS_PER_SUPERVISOR,
    DEMO_SESSIONS_PER_COUPLE,
    _plan_scaled_clinic,
    _scaled_staff,
)
from dashboard.domain.catalog import (
    Attendance,
    CoupleStatus,
    Partner,
    Role,
)
from dashboard.domain.same_source import COUNSELOR, eii_source
from dashboard.domain.scoring import partner_eii
from dashboard.services import audit, couple_summaries, expected, norms
from dashboard.services.auth import hash_password
from dashboard.services.catalog import ensure_seed_barriers
from db.engine import begin_write
from db.models import (
    Barrier,
    Couple,
    CoupleSession,
    HabitAssignment,
    IndicatorRating,
    InstrumentLicence,
    InstrumentTotal,
    SessionBarrier,
    SupervisionLink,
    User,
    utcnow,
)

# ---------------------------------------------------------------------------------------
# Load: bulk writes
# ---------------------------------------------------------------------------------------


def _hash_all(count: int, rounds: int) -> list[str]:
    """One bcrypt hash per user (own salt each); threads, since bcrypt releases the GIL."""
    workers = max(1, min(count, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda _: hash_password(DEMO_PASSWORD, rounds), range(count)))


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hour)


def _insert(db: Session, model: type, rows: list[dict], *, ids: bool = False) -> list[int]:
    """Core executemany (the ORM's per-row bookkeeping is the slow part of a bulk load).

    With `ids`, the new primary keys come back in the order of `rows`, on SQLite and
    PostgreSQL alike, so children can point at their parents without a second query.
    """
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    if not ids:
        db.execute(table.insert(), rows)
        return []
    stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return list(db.scalars(stmt, rows))


def _prepare_empty(db: Session) -> tuple[dict[str, int], dict[str, str]]:
    """Seed barriers, refuse a database with a clinic in it; barrier ids and names by code."""
    ensure_seed_barriers(db)
    begin_write(db)  # one write transaction: the clinic appears whole or not at all
    has_users = db.scalar(select(func.count()).select_from(User))
    has_couples = db.scalar(select(func.count()).select_from(Couple))
    if has_users or has_couples:
        raise ValueError("The demo clinic loads only into an empty database.")
    barriers = db.scalars(
        select(Barrier).where(Barrier.active.is_(True)).order_by(Barrier.sort_order, Barrier.id)
    ).all()
    barrier_ids = {b.code: b.id for b in barriers if b.code in BARRIER_NOTES}
    barrier_names = {b.code: b.name for b in barriers}
    return barrier_ids, barrier_names


@dataclass
class _Tally:
    """What has been written so far (a scaled clinic is written a chunk at a time)."""

    couples: int = 0
    active: int = 0
    paused: int = 0
    closed: int = 0
    sessions: int = 0
    held_sessions: int = 0
    indicator_ratings: int = 0
    barrier_tags: int = 0
    habit_assignments: int = 0
    instrument_totals: int = 0
    safety_flags: int = 0
    archetypes: dict[str, int] = field(default_factory=dict)


def _write_plans(
    db: Session, plans: list[_CouplePlan], user_id: dict[str, int], now: datetime, tally: _Tally
) -> None:
    """Couples with their sessions, ratings, barrier tags, habits and instrument totals,
    in bulk."""

    def stamp(moment: datetime) -> datetime:
        return min(moment, now)  # today's sessions are never written "in the future"

    couple_ids = _insert(
        db,
        Couple,
        [
            {
                "case_code": p.case_code,
                "partner_a_name": p.partner_a,
                "partner_b_name": p.partner_b,
                "counselor_id": user_id[p.counselor],
                "intake_date": p.intake,
                "status": p.status.value,
                "closing_reason": p.closing_reason,
                "status_note": p.status_note,
                "status_changed_at": _at(p.status_changed, 16) if p.status_changed else None,
                "presenting_concerns": p.presenting,
                "goals": p.goals,
                "created_at": stamp(_at(p.intake)),
                "updated_at": stamp(
                    _at(p.status_changed, 16)
                    if p.status_changed
                    else (p.sessions[-1].created_at if p.sessions else _at(p.intake))
                ),
                "version": 1,
            }
            for p in plans
        ],
        ids=True,
    )
    session_rows: list[dict] = []
    for plan, couple_id in zip(plans, couple_ids, strict=True):
        counselor_id = user_id[plan.counselor]
        for s in plan.sessions:
            inp = s.inp
            session_rows.append(
                {
                    "couple_id": couple_id,
                    "session_date": inp.session_date,
                    "duration_minutes": inp.duration_minutes,
                    "format": inp.format,
                    "attendance": inp.attendance,
                    "note_data": inp.note_data,
                    "note_assessment": inp.note_assessment,
                    "note_plan": inp.note_plan,
                    "stage": inp.stage,
                    "safety_flag": inp.safety_flag,
                    "safety_note": inp.safety_note or None,
                    "private_note": inp.private_note or None,
                    # Derived from the ratings written below, as the session service does.
                    "eii_a": partner_eii(inp.rated_items(Partner.A.value)),
                    "eii_b": partner_eii(inp.rated_items(Partner.B.value)),
                    # Counselor-rated here; add_check_ins marks the partners' own.
                    "source_a": eii_source(dict.fromkeys(inp.rated_items("A"), COUNSELOR)),
                    "source_b": eii_source(dict.fromkeys(inp.rated_items("B"), COUNSELOR)),
                    "created_by": counselor_id,
                    "created_at": stamp(s.created_at),
                    "updated_at": stamp(s.created_at),
                    "version": 1,
                }
            )
    session_ids = iter(_insert(db, CoupleSession, session_rows, ids=True))

    ratings: list[dict] = []
    tags: list[dict] = []
    habits: list[dict] = []
    totals: list[dict] = []
    for plan in plans:
        ids = [next(session_ids) for _ in plan.sessions]
        for s, sid in zip(plan.sessions, ids, strict=True):
            for partner in (Partner.A.value, Partner.B.value):
                for item, value in s.inp.rated_items(partner).items():
                    ratings.append(
                        {"session_id": sid, "partner": partner, "item": item, "value": value}
                    )
            for partner, given in s.inp.instrument_totals.items():
                for code, total in given.items():
                    if total is not None:
                        totals.append(
                            {
                                "session_id": sid,
                                "partner": partner,
                                "instrument": code,
                                "total": float(total),
                            }
                        )
            for tag in s.inp.barriers:
                tags.append(
                    {
                        "session_id": sid,
                        "barrier_id": tag.barrier_id,
                        "severity": tag.severity,
                        "note": tag.note,
                    }
                )
            for h in s.habits:
                habits.append(
                    {
                        "session_id": sid,
                        "habit": h.habit,
                        "adherence": h.adherence,
                        "adherence_session_id": None
                        if h.adherence_row is None
                        else ids[h.adherence_row],
                    }
                )
    _insert(db, IndicatorRating, ratings)
    _insert(db, SessionBarrier, tags)
    _insert(db, HabitAssignment, habits)
    _insert(db, InstrumentTotal, totals)

    for plan in plans:
        tally.couples += 1
        tally.active += plan.status is CoupleStatus.ACTIVE
        tally.paused += plan.status is CoupleStatus.PAUSED
        tally.closed += plan.status is CoupleStatus.CLOSED
        kind = plan.archetype.value
        tally.archetypes[kind] = tally.archetypes.get(kind, 0) + 1
        for s in plan.sessions:
            tally.sessions += 1
            tally.held_sessions += Attendance(s.inp.attendance).held
            tally.safety_flags += s.inp.safety_flag
    tally.indicator_ratings += len(ratings)
    tally.barrier_tags += len(tags)
    tally.habit_assignments += len(habits)
    tally.instrument_totals += len(totals)


def _summary(seed: int, today: date, users: int, tally: _Tally, **extra: object) -> DemoSummary:
    return DemoSummary(
        seed=seed,
        today=today,
        users=users,
        couples=tally.couples,
        active=tally.active,
        paused=tally.paused,
        closed=tally.closed,
        sessions=tally.sessions,
        held_sessions=tally.held_sessions,
        indicator_ratings=tally.indicator_ratings,
        barrier_tags=tally.barrier_tags,
        habit_assignments=tally.habit_assignments,
        instrument_totals=tally.instrument_totals,
        safety_flags=tally.safety_flags,
        archetypes=tally.archetypes,
        **extra,  # type: ignore[arg-type]
    )


def load_demo(
    db: Session, *, seed: int = 2026, today: date | None = None, bcrypt_rounds: int = 12
) -> DemoSummary:
    """Fill an empty, migrated database with the demo clinic; returns what was loaded.

    Refuses a database that already holds users or couples: the demo must never mix with
    a real clinic's records.
    """
    started = time.perf_counter()
    today = today or date.today()
    barrier_ids, barrier_names = _prepare_empty(db)

    rng = random.Random(seed)
    plans = _plan_clinic(rng, today, barrier_ids, barrier_names, seed=seed)
    hashes = _hash_all(len(DEMO_USERS), bcrypt_rounds)
    now = utcnow()
    opened = _at(today - timedelta(days=HISTORY_DAYS + 30))

    users = [
        User(
            username=u.username,
            display_name=u.display_name,
            email=f"{u.username}@example.org",
            role=u.role.value,
            password_hash=h,
            active=True,
            created_at=opened,
        )
        for u, h in zip(DEMO_USERS, hashes, strict=True)
    ]
    db.add_all(users)
    db.flush()
    user_id = {u.username: u.id for u in users}
    db.add_all(
        SupervisionLink(
            supervisor_id=user_id[sup], counselor_id=user_id[counselor], created_at=opened
        )
        for counselor, sup in DEMO_SUPERVISION.items()
    )
    # The clinic holds the SRS licence, switched on by its admin before the first session.
    db.add(
        InstrumentLicence(
            instrument=SRS, licensed=True, changed_at=opened, changed_by=user_id[DEMO_ADMIN]
        )
    )
    tally = _Tally()
    _write_plans(db, plans, user_id, now, tally)
    self_reported = add_check_ins(db, random.Random(seed + 12), today)
    showcase = {
        p.showcase: p.case_code for p in sorted(plans, key=lambda p: p.showcase) if p.showcase
    }
    showcase[SPLIT_ALLIANCE] = showcase[SRS_SPLIT_SHOWCASE]  # its SRS shows a split alliance
    summary = _summary(
        seed, today, len(users), tally, showcase=showcase, self_reported_sessions=self_reported
    )
    audit.record(
        db,
        None,
        "load_demo",
        entity="clinic",
        username="demo",
        detail=(
            f"seed={seed} today={today.isoformat()} users={summary.users} "
            f"couples={summary.couples} sessions={summary.sessions} licensed={SRS}"
        ),
    )
    db.commit()
    norms.ensure_first_version(db)  # a demo with 30 intakes has published norms v1
    expected.ensure_first_version(db)  # and 100 couples with a course, expected course v1
    couple_summaries.ensure_built(db)  # the clinic was written in bulk: its summary rows
    return replace(summary, seconds=time.perf_counter() - started)


def load_clinic(
    db: Session,
    *,
    seed: int,
    counselors: int,
    couples: int,
    target_sessions: int,
    supervisors: int | None = None,
    today: date | None = None,
    bcrypt_rounds: int = 4,
    long_couples: int = 1,
    long_sessions: int = 40,
    history_days: int | None = None,
    chunk_couples: int = 200,
) -> DemoSummary:
    """Fill an empty, migrated database with a synthetic clinic of any size (benchmarks).

    The demo's couples at scale: the same kinds of course in the same proportions, the
    same rules for ratings, stages, barriers, habits, notes and attendance, and every
    session passes `validate_session`. Exactly `target_sessions` session rows when the
    target is reachable at a believable pace (ValueError otherwise).

    - Users: `admin`, `sup.001`..., `c.0001`...; all share DEMO_PASSWORD. The password is
      hashed once and that hash reused for every account (bcrypt per user is 0.2 s at
      12 rounds, so 40 s for 200 accounts): fine for synthetic data, never for real
      accounts. `supervisors` defaults to one per five counselors, each supervising a
      block of counselors.
    - Caseloads follow each counselor's hours (0.6 to 1.4 of a full post).
    - A clinic with more sessions per couple than the demo's 15 gets proportionally longer
      courses and a proportionally longer history (`history_days`, default 18 months
      times that ratio, e.g. 3 years at 30 sessions a couple), so the pace stays weekly
      or fortnightly; a longer history also closes more couples.
    - `long_couples` active couples (on c.0001's list) have exactly `long_sessions`
      sessions, all held; their case codes are `summary.long_couples` and
      `summary.showcase["long"]` (then "long_2", ...).
    - Written `chunk_couples` couples at a time in one transaction, so memory stays flat
      whatever the size.
    """
    started = time.perf_counter()
    if counselors < 1:
        raise ValueError("A clinic needs at least one counselor.")
    if not 0 <= long_couples <= couples:
        raise ValueError("long_couples must be between 0 and the number of couples.")
    if long_couples and long_sessions < 2:
        raise ValueError("A long couple needs at least two sessions.")
    if supervisors is None:
        supervisors = max(1, math.ceil(counselors / COUNSELORS_PER_SUPERVISOR))
    today = today or date.today()
    regular = couples - long_couples
    mean = (target_sessions - long_couples * long_sessions) / max(1, regular)
    if history_days is None:
        history_days = max(
            HISTORY_DAYS,
            math.ceil(HISTORY_DAYS * mean / DEMO_SESSIONS_PER_COUPLE),
            11 * long_sessions + 60,
        )
    barrier_ids, barrier_names = _prepare_empty(db)

    rng = random.Random(seed)
    staff, supervision = _scaled_staff(rng, counselors, supervisors)
    plans = _plan_scaled_clinic(
        rng,
        today,
        history_days,
        couples=couples,
        target_sessions=target_sessions,
        long_couples=long_couples,
        long_sessions=long_sessions,
        counselors=[u.username for u in staff if u.role is Role.COUNSELOR],
        seed=seed,
    )
    password_hash = hash_password(DEMO_PASSWORD, bcrypt_rounds)
    now = utcnow()
    opened = _at(today - timedelta(days=history_days + 30))
    ids = _insert(
        db,
        User,
        [
            {
                "username": u.username,
                "display_name": u.display_name,
                "email": f"{u.username}@example.org",
                "role": u.role.value,
                "password_hash": password_hash,
                "active": True,
                "created_at": opened,
            }
            for u in staff
        ],
        ids=True,
    )
    user_id = {u.username: i for u, i in zip(staff, ids, strict=True)}
    _insert(
        db,
        SupervisionLink,
        [
            {"supervisor_id": user_id[s], "counselor_id": user_id[c], "created_at": opened}
            for c, s in supervision.items()
        ],
    )

    tally = _Tally()
    next_habit_id = [1]
    for start in range(0, len(plans), chunk_couples):
        chunk = plans[start : start + chunk_couples]
        for plan in chunk:
            assert plan.rng is not None
            _plan_session_rows(
                plan.rng, plan, plan.dates, today, barrier_ids, barrier_names, next_habit_id
            )
            _plan_couple_record(plan.rng, plan, today)
        _write_plans(db, chunk, user_id, now, tally)
        for plan in chunk:  # keep only what the summary needs
            plan.sessions, plan.dates, plan.rng, plan.instrument_rng = [], [], None, None
            plan.attendance, plan.same_day, plan.intervals = [], [], []

    long = tuple(p.case_code for p in sorted(plans, key=lambda p: p.index) if p.showcase)
    summary = _summary(
        seed,
        today,
        len(staff),
        tally,
        showcase={
            p.showcase: p.case_code for p in sorted(plans, key=lambda p: p.index) if p.showcase
        },
        history_days=history_days,
        label="a synthetic clinic",
        long_couples=long,
    )
    audit.record(
        db,
        None,
        "load_clinic",
        entity="clinic",
        username="demo",
        detail=(
            f"seed={seed} today={today.isoformat()} users={summary.users} "
            f"couples={summary.couples} sessions={summary.sessions} "
            f"history_days={history_days}"
        ),
    )
    db.commit()
    norms.ensure_first_version(db)  # a demo with 30 intakes has published norms v1
    expected.ensure_first_version(db)  # and 100 couples with a course, expected course v1
    couple_summaries.ensure_built(db)  # the clinic was written in bulk: its summary rows
    return replace(summary, seconds=time.perf_counter() - started)
