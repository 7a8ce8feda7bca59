"""The demo clinic: its shape, its determinism, and that the app would accept every row.

Most tests read one demo loaded once per module (a load is the slow part); the main
load test takes `backend`, so it also runs on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import itertools
import re
import shutil
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import bcrypt
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import demo
from dashboard.demo.leave import away
from dashboard.domain.catalog import (
    CLOSING_REASONS,
    INDICATORS,
    Attendance,
    IndicatorKind,
    Role,
)
from dashboard.domain.instruments import load_instruments
from dashboard.domain.scoring import discrepancy, partner_eii
from dashboard.domain.validation import BarrierTag, SessionInput, validate_session
from dashboard.services.actor import Actor
from dashboard.services.auth import login_credentials
from dashboard.services.instruments import available_instruments
from dashboard.services.review import ReviewFilters, caseload_review
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_head
from db.models import (
    AuditEvent,
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
)

SEED = 2026
TODAY = date(2026, 3, 2)
CASE_CODE = re.compile(r"^C-(\d{4})-(\d{4})$")
INSTRUMENTS = load_instruments()  # the demo clinic records the free ones and the SRS


@pytest.fixture(scope="module")
def demo_db(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[Session, demo.DemoSummary]]:
    """One demo clinic for the whole module, on a copy of the migrated template."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_sessionmaker(engine)() as session:
        summary = demo.load_demo(session, seed=SEED, today=TODAY, bcrypt_rounds=4)
        yield session, summary
    engine.dispose()


@dataclass
class Visit:
    """One session with what the charts will compute from it."""

    row: CoupleSession
    eii_a: float | None
    eii_b: float | None
    ratings: dict[str, dict[str, int]]
    tags: list[SessionBarrier] = field(default_factory=list)
    # totals[partner][instrument key] = total
    totals: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def couple_eii(self) -> float | None:
        if self.eii_a is None or self.eii_b is None:
            return None
        return (self.eii_a + self.eii_b) / 2


def timelines(db: Session) -> dict[str, list[Visit]]:
    """Every couple's sessions in timeline order (date, then id), keyed by case code."""
    ratings: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: {"A": {}, "B": {}})
    for r in db.scalars(select(IndicatorRating)):
        ratings[r.session_id][r.partner][r.item] = r.value
    tags: dict[int, list[SessionBarrier]] = defaultdict(list)
    for t in db.scalars(select(SessionBarrier)):
        tags[t.session_id].append(t)
    totals: dict[int, dict[str, dict[str, float]]] = defaultdict(dict)
    for it in db.scalars(select(InstrumentTotal)):
        totals[it.session_id].setdefault(it.partner, {})[it.instrument] = it.total
    codes = dict(db.execute(select(Couple.id, Couple.case_code)).all())
    result: dict[str, list[Visit]] = {code: [] for code in codes.values()}
    rows = db.scalars(
        select(CoupleSession).order_by(
            CoupleSession.couple_id, CoupleSession.session_date, CoupleSession.id
        )
    )
    for row in rows:
        r = ratings[row.id]
        result[codes[row.couple_id]].append(
            Visit(row, partner_eii(r["A"]), partner_eii(r["B"]), r, tags[row.id], totals[row.id])
        )
    return result


def couple_change(visits: list[Visit]) -> float | None:
    """Couple EII, last minus first joint rating."""
    values = [v.couple_eii for v in visits if v.couple_eii is not None]
    return values[-1] - values[0] if len(values) >= 2 else None


def longest_diverging_run(visits: list[Visit]) -> int:
    """Longest run of consecutive rated joint sessions with discrepancy above 20."""
    run = best = 0
    for v in visits:
        gap = discrepancy(v.eii_a, v.eii_b)
        if gap is None:
            continue
        run = run + 1 if gap > 20 else 0
        best = max(best, run)
    return best


def regressed_twice(visits: list[Visit]) -> bool:
    stages = [v.row.stage for v in visits if v.row.stage is not None]
    return any(
        stages[i] < stages[i - 1] and stages[i + 1] < stages[i] for i in range(1, len(stages) - 1)
    )


def couples_of(db: Session) -> list[tuple]:
    query = select(
        Couple.case_code, Couple.partner_a_name, Couple.partner_b_name, Couple.intake_date
    )
    return [tuple(row) for row in db.execute(query.order_by(Couple.case_code))]


def dump(db: Session) -> list[tuple]:
    """Everything the demo wrote, by value (ids replaced by what they point at)."""
    users = dict(db.execute(select(User.id, User.username)).all())
    barriers = dict(db.execute(select(Barrier.id, Barrier.code)).all())
    visits = timelines(db)
    where: dict[int, tuple[str, int]] = {
        v.row.id: (code, k) for code, vs in visits.items() for k, v in enumerate(vs)
    }
    habits: dict[int, list[tuple]] = defaultdict(list)
    for h in db.scalars(select(HabitAssignment).order_by(HabitAssignment.id)):
        habits[h.session_id].append(
            (
                h.habit,
                h.adherence,
                where.get(h.adherence_session_id) if h.adherence_session_id else None,
            )
        )
    out: list[tuple] = []
    for c in db.scalars(select(Couple).order_by(Couple.case_code)):
        out.append(
            (
                c.case_code,
                c.partner_a_name,
                c.partner_b_name,
                users[c.counselor_id],
                c.intake_date,
                c.status,
                c.closing_reason,
                c.status_note,
                c.status_changed_at,
                c.presenting_concerns,
                c.goals,
            )
        )
        for v in visits[c.case_code]:
            s = v.row
            out.append(
                (
                    s.session_date,
                    s.duration_minutes,
                    s.format,
                    s.attendance,
                    s.note_data,
                    s.note_assessment,
                    s.note_plan,
                    s.stage,
                    s.safety_flag,
                    s.safety_note,
                    s.private_note,
                    users[s.created_by],
                    s.created_at,
                    sorted(
                        (p, k, val) for p, items in v.ratings.items() for k, val in items.items()
                    ),
                    sorted((barriers[t.barrier_id], t.severity, t.note) for t in v.tags),
                    habits[s.id],
                    sorted(
                        (p, k, val) for p, given in v.totals.items() for k, val in given.items()
                    ),
                )
            )
    return out


# ---------------------------------------------------------------------------------------


def test_load_gives_the_clinic_the_issue_asks_for(db: Session, backend: str) -> None:
    """Counts, roles, supervision, caseloads, anchored to the real today (both backends)."""
    today = date.today()
    summary = demo.load_demo(db, seed=SEED, bcrypt_rounds=4)

    roles = Counter(db.scalars(select(User.role)).all())
    assert roles == {"admin": 1, "supervisor": 2, "counselor": 6}
    usernames = set(db.scalars(select(User.username)).all())
    assert usernames == {u.username for u in demo.DEMO_USERS}
    assert {demo.DEMO_ADMIN, demo.DEMO_SUPERVISOR, demo.DEMO_COUNSELOR} <= usernames

    by_id = dict(db.execute(select(User.id, User.username)).all())
    links = [
        (by_id[s], by_id[c])
        for s, c in db.execute(select(SupervisionLink.supervisor_id, SupervisionLink.counselor_id))
    ]
    assert sorted(links) == sorted((s, c) for c, s in demo.DEMO_SUPERVISION.items())
    assert Counter(s for s, _ in links) == {"sup.okafor": 3, "sup.lindqvist": 3}
    assert {c for s, c in links if s == "sup.okafor"} == {"c.rivera", "c.nakamura", "c.haddad"}

    assert db.scalar(select(func.count()).select_from(Couple)) == 100
    n_sessions = db.scalar(select(func.count()).select_from(CoupleSession))
    assert 850 <= n_sessions <= 950
    caseloads = Counter(by_id[c] for c in db.scalars(select(Couple.counselor_id)))
    assert set(caseloads) == set(demo.DEMO_SUPERVISION)
    assert min(caseloads.values()) >= 11 and max(caseloads.values()) <= 22
    assert len(set(caseloads.values())) >= 4, "caseload sizes should vary"

    # Anchored to today: nothing in the future, intakes across the last 18 months.
    intakes = db.scalars(select(Couple.intake_date)).all()
    assert max(db.scalars(select(CoupleSession.session_date)).all()) <= today
    assert max(intakes) <= today
    assert min(intakes) >= today - timedelta(days=550)
    assert min(intakes) <= today - timedelta(days=365), "intakes should span the history"
    assert today - max(intakes) <= timedelta(days=10), "a couple was opened just now"
    for c in db.scalars(select(Couple)):
        first = db.scalar(
            select(func.min(CoupleSession.session_date)).where(CoupleSession.couple_id == c.id)
        )
        assert first is None or first >= c.intake_date, c.case_code

    statuses = Counter(db.scalars(select(Couple.status)).all())
    # Most couples of 18 months are done; a third are open today (see test_practice_figures).
    assert 60 <= statuses["closed"] <= 70 and statuses["paused"] >= 1
    for c in db.scalars(select(Couple).where(Couple.status == "closed")):
        assert c.closing_reason in CLOSING_REASONS and c.status_changed_at is not None

    # Sessions are written as the counselor's own work.
    for couple_counselor, created_by in db.execute(
        select(Couple.counselor_id, CoupleSession.created_by).join(CoupleSession)
    ):
        assert couple_counselor == created_by

    assert summary.users == 9 and summary.couples == 100 and summary.sessions == n_sessions
    assert summary.indicator_ratings == db.scalar(select(func.count()).select_from(IndicatorRating))
    assert summary.barrier_tags == db.scalar(select(func.count()).select_from(SessionBarrier))
    assert summary.habit_assignments == db.scalar(select(func.count()).select_from(HabitAssignment))
    assert summary.instrument_totals == db.scalar(select(func.count()).select_from(InstrumentTotal))
    assert summary.instrument_totals > 0
    assert sum(summary.archetypes.values()) == 100
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "load_demo"))
    assert event is not None and event.success and f"seed={SEED}" in event.detail


def test_same_seed_and_day_give_the_same_clinic(
    demo_db: tuple[Session, demo.DemoSummary], db: Session
) -> None:
    """Two fresh databases, same seed and today: identical records, row for row."""
    first, _ = demo_db
    demo.load_demo(db, seed=SEED, today=TODAY, bcrypt_rounds=4)
    assert dump(db) == dump(first)


def test_another_seed_on_a_bare_migrated_database(
    demo_db: tuple[Session, demo.DemoSummary], tmp_path: Path
) -> None:
    """Another seed, another clinic; and no seed barriers yet is no obstacle."""
    first, _ = demo_db
    url = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    upgrade_head(url)  # schema only: load_demo must add the seed barriers itself
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as other:
            summary = demo.load_demo(other, seed=SEED + 1, today=TODAY, bcrypt_rounds=4)
            assert couples_of(other) != couples_of(first)
            assert other.scalar(select(func.count()).select_from(Barrier)) == 4
    finally:
        engine.dispose()
    assert 850 <= summary.sessions <= 950 and summary.couples == 100
    assert summary.barrier_tags > 0


def test_every_session_passes_the_apps_own_validation(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    db, _ = demo_db
    assert_every_session_validates(db, TODAY)


def assert_every_session_validates(db: Session, today: date) -> None:
    """Rebuild each session as the Log session form would see it and validate it."""
    intake = dict(db.execute(select(Couple.case_code, Couple.intake_date)).all())
    recordable = available_instruments(db)  # what the clinic's session form offers
    active_barriers = db.scalars(select(Barrier.id).where(Barrier.active.is_(True))).all()
    habits_of: dict[int, list[HabitAssignment]] = defaultdict(list)
    for h in db.scalars(select(HabitAssignment).order_by(HabitAssignment.id)):
        habits_of[h.session_id].append(h)
    checked = 0
    for code, visits in timelines(db).items():
        previous_held: CoupleSession | None = None
        for v in visits:
            s = v.row
            open_habits = habits_of[previous_held.id] if previous_held else []
            inp = SessionInput(
                session_date=s.session_date,
                duration_minutes=s.duration_minutes,
                format=s.format,
                attendance=s.attendance,
                note_data=s.note_data,
                note_assessment=s.note_assessment,
                note_plan=s.note_plan,
                stage=s.stage,
                barriers=[BarrierTag(t.barrier_id, t.severity, t.note) for t in v.tags],
                ratings={p: dict(items) for p, items in v.ratings.items()},
                habits_assigned=[h.habit for h in habits_of[s.id]],
                adherence={
                    h.id: h.adherence for h in open_habits if h.adherence_session_id == s.id
                },
                instrument_totals={p: dict(given) for p, given in v.totals.items()},
                safety_flag=s.safety_flag,
                safety_note=s.safety_note or "",
                private_note=s.private_note or "",
            )
            errors = validate_session(
                inp,
                intake_date=intake[code],
                today=today,
                active_barrier_ids=active_barriers,
                open_assignment_ids=[h.id for h in open_habits]
                if Attendance(s.attendance).held
                else [],
                instruments=recordable,
            )
            assert errors == {}, (code, s.session_date, errors)
            checked += 1
            if Attendance(s.attendance).held:
                previous_held = s
    assert checked == db.scalar(select(func.count()).select_from(CoupleSession))


def test_adherence_is_recorded_at_the_next_held_session(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    db, _ = demo_db
    next_held: dict[int, int | None] = {}
    for visits in timelines(db).values():
        held = [v.row.id for v in visits if Attendance(v.row.attendance).held]
        next_held.update(zip(held, [*held[1:], None], strict=False))
    habits = db.scalars(select(HabitAssignment)).all()
    assert habits
    recorded = [h for h in habits if h.adherence is not None]
    assert len(recorded) >= 0.7 * len(habits)
    for h in habits:
        assert (h.adherence is None) == (h.adherence_session_id is None)
        if h.adherence_session_id is not None:
            assert h.adherence_session_id == next_held[h.session_id]
            assert 0 <= h.adherence <= 3
    per_session = Counter(h.session_id for h in habits)
    assert set(per_session.values()) <= {1, 2}


def test_the_archetypes_show_in_the_data(demo_db: tuple[Session, demo.DemoSummary]) -> None:
    """The patterns the charts and attention lists are meant to find are really there."""
    db, summary = demo_db
    visits = timelines(db)
    changes = {code: couple_change(vs) for code, vs in visits.items()}

    improved = [c for c, d in changes.items() if d is not None and d >= 15]
    assert len(improved) >= 25, sorted(d for d in changes.values() if d is not None)
    both_partners_rose = [
        c
        for c in improved
        if (a := [v.eii_a for v in visits[c] if v.couple_eii is not None])
        and (b := [v.eii_b for v in visits[c] if v.couple_eii is not None])
        and a[-1] - a[0] >= 10
        and b[-1] - b[0] >= 10
    ]
    assert len(both_partners_rose) >= 20
    assert len([c for c, d in changes.items() if d is not None and d <= -10]) >= 4
    assert (
        len([c for c, d in changes.items() if d is not None and abs(d) < 8 and len(visits[c]) >= 8])
        >= 5
    )

    diverging = [c for c, vs in visits.items() if longest_diverging_run(vs) >= 3]
    assert len(diverging) >= 4
    assert any(regressed_twice(vs) for vs in visits.values())

    sessions_per = {c: len(vs) for c, vs in visits.items()}
    active = set(db.scalars(select(Couple.case_code).where(Couple.status == "active")).all())
    assert any(n == 1 for c, n in sessions_per.items() if c in active)
    assert any(n == 0 for c, n in sessions_per.items() if c in active)
    assert sum(1 for n in sessions_per.values() if 1 <= n <= 5) >= 5  # dropouts, new

    # Stages: intake mostly 1, some 2; improving couples climb to 3, some to 4.
    first_stage = Counter(
        next(v.row.stage for v in vs if v.row.stage)
        for vs in visits.values()
        if any(v.row.stage for v in vs)
    )
    assert first_stage[1] > first_stage[2] > 0 and set(first_stage) <= {1, 2}
    last_stage = {
        c: [v.row.stage for v in vs if v.row.stage][-1] for c, vs in visits.items() if c in improved
    }
    assert sum(s >= 3 for s in last_stage.values()) >= 0.7 * len(improved)
    assert 1 <= sum(s == 4 for s in last_stage.values()) < len(improved) / 2

    # Barriers ease as couples improve; homework is kept better by improving couples.
    def load(vs: list[Visit], part: slice) -> float:
        held = [v for v in vs if Attendance(v.row.attendance).held]
        chunk = held[part]
        return sum(t.severity for v in chunk for t in v.tags) / max(1, len(chunk))

    thirds = [
        (
            load(visits[c], slice(0, len(visits[c]) // 3)),
            load(visits[c], slice(-(len(visits[c]) // 3), None)),
        )
        for c in improved
    ]
    assert sum(early for early, _ in thirds) > 2 * sum(late for _, late in thirds)

    session_code = {v.row.id: c for c, vs in visits.items() for v in vs}
    adherence: dict[str, list[int]] = defaultdict(list)
    for h in db.scalars(select(HabitAssignment).where(HabitAssignment.adherence.is_not(None))):
        adherence[session_code[h.session_id]].append(h.adherence)
    fell = [c for c, d in changes.items() if d is not None and d <= -10]

    def mean(codes: list[str]) -> float:
        values = [a for c in codes for a in adherence[c]]
        return sum(values) / len(values)

    assert mean(improved) > mean(fell) + 0.3

    assert summary.archetypes == {a.value: n for a, n in demo.ARCHETYPE_COUNTS.items()}


def test_every_partner_has_a_first_name_never_initials(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    """A practice names its clients one way: 8 % of partners used to be "G. I."."""
    db, _ = demo_db
    names = [
        n for pair in db.execute(select(Couple.partner_a_name, Couple.partner_b_name)) for n in pair
    ]
    assert names and not [n for n in names if re.fullmatch(r"[A-Z]\. [A-Z]\.", n)]
    assert set(names) <= set(demo.FIRST_NAMES)


def test_the_demo_looks_like_a_practice(demo_db: tuple[Session, demo.DemoSummary]) -> None:
    """Issue 11: the figures a supervisor judges the product by, as ranges from the
    couples-therapy literature the issue quotes. Measured with plain arithmetic on the
    rows, except "needs attention" and partner status, which are what the review shows.
    Seed 2026 on TODAY gives (issue 21's demo): dropout 34 %, median 7 sessions held (all
    couples, those mid-course included), 37 % of couples with 1-3, the last year's
    quarters at 10.8 / 11.1 / 10.4 / 10.9 sessions a week (newest first; mean 10.8),
    intake r .53, item means 2.4-4.8, 6.1 % of partners deteriorated, 6 of 34 active
    couples (18 %) needing attention (9 of 37 on 6 Dec 2026; issue 22's demo, where
    change comes early). Over seeds 1-5, attention 15-26 %;
    the other figures stay in range."""
    db, _ = demo_db
    visits = timelines(db)
    couples = {c.case_code: c for c in db.scalars(select(Couple))}
    held = {
        code: [v for v in vs if Attendance(v.row.attendance).held] for code, vs in visits.items()
    }

    # Dropout (couple therapy: 20-50 %): closed as "stopped attending", or still open but
    # not seen for five weeks.
    stopped = [
        code
        for code, c in couples.items()
        if c.closing_reason == "dropped_out"
        or (
            c.status == "active"
            and held[code]
            and (TODAY - held[code][-1].row.session_date).days > 35
        )
    ]
    assert 0.20 <= len(stopped) / len(couples) <= 0.50, len(stopped)

    # Short courses: many come 1-3 times; the median couple 6-12 sessions.
    counts = sorted(len(h) for h in held.values())
    assert 6 <= statistics.median(counts) <= 12, counts
    assert sum(1 <= n <= 3 for n in counts) / len(counts) >= 0.25

    # A steady caseload: each quarter of the last year within a quarter of the year's mean
    # (the old demo climbed from 8 to 19 sessions a week).
    weekly = Counter((TODAY - v.row.session_date).days // 7 for h in held.values() for v in h)
    year = [weekly[w] for w in range(52)]
    quarters = [statistics.mean(year[k : k + 13]) for k in range(0, 52, 13)]
    mean = statistics.mean(year)
    assert all(0.75 * mean <= q <= 1.25 * mean for q in quarters), (quarters, mean)

    # Partners are related, not lockstep: intake EII correlation about .5 (.4-.6 in the
    # literature; the old demo .78).
    intake = [
        (j[0].eii_a, j[0].eii_b)
        for vs in visits.values()
        if (j := [v for v in vs if v.couple_eii is not None])
    ]
    r = float(np.corrcoef([a for a, _ in intake], [b for _, b in intake])[0, 1])
    assert 0.35 <= r <= 0.65, r

    # Items differ: at intake, the easiest and the hardest item are 1.5+ points apart
    # (warning signs reversed; the old demo's eight means were 3.6-3.9).
    first_ratings: dict[str, list[int]] = defaultdict(list)
    kind = {i.key: i.kind for i in INDICATORS}
    for vs in visits.values():
        rated = [v for v in vs if v.ratings["A"] or v.ratings["B"]]
        for given in rated[0].ratings.values() if rated else ():
            for key, value in given.items():
                good = 10 - value if kind[key] is IndicatorKind.WARNING else value
                first_ratings[key].append(good)
    means = {k: statistics.mean(v) for k, v in first_ratings.items()}
    assert max(means.values()) - min(means.values()) >= 1.5, means

    # ...and move differently: in couples who improved, warning signs ease more than the
    # signs grow (per item, reversed, first joint rating to last).
    def item_change(kinds: IndicatorKind) -> float:
        moves = []
        for vs in visits.values():
            joint = [v for v in vs if v.couple_eii is not None]
            if len(joint) < 2 or (joint[-1].couple_eii or 0) - (joint[0].couple_eii or 0) < 12:
                continue
            for p in ("A", "B"):
                for key, k in kind.items():
                    if k is kinds and key in joint[0].ratings[p] and key in joint[-1].ratings[p]:
                        moves.append(joint[-1].ratings[p][key] - joint[0].ratings[p][key])
        return abs(statistics.mean(moves))

    assert item_change(IndicatorKind.WARNING) >= item_change(IndicatorKind.SIGN) + 0.5

    # What the supervisor's review shows, over the whole history.
    admin = db.scalar(select(User).where(User.username == demo.DEMO_ADMIN))
    assert admin is not None
    actor = Actor(admin.id, admin.username, admin.display_name, Role(admin.role))
    filters = ReviewFilters(statuses=(), start=TODAY - timedelta(days=600), end=TODAY)
    review = caseload_review(db, actor, filters, today=TODAY, record_view=False).couples
    statuses = pd.concat([review["status_a"], review["status_b"]]).dropna().astype(str)
    deteriorated = (statuses == "deteriorated").mean()
    assert 0.05 <= deteriorated <= 0.10, statuses.value_counts()
    active = review[review["status"] == "active"]
    # Needing attention: the demo counselor's five watched couples in trouble, stalled and
    # deteriorating courses, and safety flags drawn by chance (README: about a fifth).
    assert 0.10 <= active["needs_attention"].mean() <= 0.25, active["attention_reasons"]


def held_dates(visits: list[Visit]) -> list[date]:
    """The distinct dates of a couple's held sessions (a same-day pair counts once)."""
    return sorted({v.row.session_date for v in visits if Attendance(v.row.attendance).held})


def test_courses_gaps_and_weeks_look_like_a_practice(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    """Issue 21, point 9: closed courses of every length (the demo had none of 4-8
    sessions), gaps of 5-35 days rather than a metronome (83 % were exactly 7 or 14 days),
    no sessions while the clinic is closed or a counselor is on leave, and the weekly
    volume the README gives. Seed 2026 on TODAY: 63 closed couples, 25 of them after 1-3
    held sessions, 8 after 4-8, 30 after 9 or more (median 8); 37 % of all couples held
    1-3; 709 gaps, 96 % of 5-35 days, 52 % exactly 7 or 14; the last 52 weeks median 11
    sessions, 10th-90th percentile week 7-14, the year-end week 3. Over seeds 1-5: 7-13
    closed after 4-8 sessions, median closed course 7-9, 44-48 % exact 7/14-day gaps,
    median week 10.5-11, 90th percentile week 15-17.7."""
    db, _ = demo_db
    visits = timelines(db)
    couples = {c.case_code: c for c in db.scalars(select(Couple))}
    held = {code: sum(Attendance(v.row.attendance).held for v in vs) for code, vs in visits.items()}

    # Course lengths: held sessions of each closed couple.
    closed = [held[code] for code, c in couples.items() if c.status == "closed"]
    assert sum(1 <= n <= 3 for n in closed) >= 15  # stopped early (dropout 20-50 %)
    assert sum(4 <= n <= 8 for n in closed) >= 5, sorted(closed)  # the demo had none
    assert sum(n >= 9 for n in closed) >= 15
    assert 6 <= statistics.median(closed) <= 10, sorted(closed)
    # About a third of all couples held 1-3 sessions (those who stopped, and new ones).
    assert 0.28 <= sum(1 <= n <= 3 for n in held.values()) / len(held) <= 0.45

    # Gaps between a couple's held sessions: mostly 5-35 days, weekly and fortnightly
    # slots still common, but moved sessions, missed weeks and breaks between them.
    gaps = Counter(
        (b - a).days for vs in visits.values() for a, b in itertools.pairwise(held_dates(vs))
    )
    n = sum(gaps.values())
    assert sum(k for d, k in gaps.items() if 5 <= d <= 35) >= 0.9 * n
    exact = (gaps[7] + gaps[14]) / n
    assert 0.3 <= exact <= 0.65, exact  # was 0.83
    for low, high in ((5, 6), (8, 13), (15, 20), (21, 35)):
        assert sum(k for d, k in gaps.items() if low <= d <= high) >= 0.02 * n, (low, high)

    # Nobody is seen while the clinic is closed (24 Dec-1 Jan) or their counselor is away.
    users = dict(db.execute(select(User.id, User.username)).all())
    for code, vs in visits.items():
        counselor = users[couples[code].counselor_id]
        for day in held_dates(vs):
            assert not away(counselor, day), (code, counselor, day)
            assert not (day.month == 12 and day.day >= 24) and (day.month, day.day) != (1, 1)

    # Weekly volume over the last year (weeks counted back from TODAY): a steady median
    # of 9-13 held sessions, most weeks 5-17, and the year-end weeks thin.
    weekly = Counter(
        (TODAY - v.row.session_date).days // 7
        for vs in visits.values()
        for v in vs
        if Attendance(v.row.attendance).held
    )
    year = [weekly[w] for w in range(52)]
    deciles = statistics.quantiles(year, n=10)
    assert 9 <= statistics.median(year) <= 13, year
    assert deciles[0] >= 5 and deciles[-1] <= 17, deciles
    christmas = (TODAY - date(TODAY.year - 1, 12, 25)).days // 7
    assert weekly[christmas] <= 0.5 * statistics.median(year), year


def test_the_showcase_couples_are_on_the_demo_counselors_caseload(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    db, summary = demo_db
    visits = timelines(db)
    rivera = db.scalar(select(User.id).where(User.username == demo.DEMO_COUNSELOR))
    own = set(db.scalars(select(Couple.case_code).where(Couple.counselor_id == rivera)).all())
    assert set(summary.showcase.values()) <= own
    # Open cases, so they are on the supervisor's review with its default filters.
    statuses = dict(db.execute(select(Couple.case_code, Couple.status)).all())
    assert {kind: statuses[code] for kind, code in summary.showcase.items()} == {
        kind: "active" for kind in summary.showcase
    }
    assert couple_change(visits[summary.showcase["improving"]]) >= 15
    assert longest_diverging_run(visits[summary.showcase["diverging"]]) >= 3
    assert regressed_twice(visits[summary.showcase["regressed_twice"]])
    assert len(visits[summary.showcase["one_session"]]) == 1
    assert visits[summary.showcase["no_sessions"]] == []


def courses(visits: list[Visit], instrument: str = "csi4") -> dict[str, list[float]]:
    """Each partner's totals on one instrument, in timeline order."""
    out: dict[str, list[float]] = {"A": [], "B": []}
    for v in visits:
        for partner, given in v.totals.items():
            if instrument in given:
                out[partner].append(given[instrument])
    return out


def test_instrument_totals_look_like_a_practice(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    """CSI-4 for most couples, RDAS for some, the SRS where PCOMS is used (its licence is
    on), the ORS for none; totals follow the course."""
    db, summary = demo_db
    visits = timelines(db)
    rows = db.scalars(select(InstrumentTotal)).all()
    assert summary.instrument_totals == len(rows) > 0
    used = {r.instrument for r in rows}
    assert used == {"csi4", "rdas", "srs"}, "free instruments, and the licensed SRS"

    # In range (whole numbers, the SRS to one decimal); only partners who attended.
    present = {
        v.row.id: {p.value for p in Attendance(v.row.attendance).partners_present}
        for vs in visits.values()
        for v in vs
    }
    for r in rows:
        message = INSTRUMENTS[r.instrument].validate_total(r.total)
        assert message is None, message
        assert r.total == (round(r.total, 1) if r.instrument == "srs" else int(r.total))
        assert r.partner in present[r.session_id], (r.session_id, r.partner)

    # About 70% of couples with sessions complete the CSI-4, about 20% the RDAS; both
    # partners of each at intake (the first session, always a joint one).
    seen = {c: vs for c, vs in visits.items() if vs}
    csi = [c for c, vs in seen.items() if any("csi4" in g for v in vs for g in v.totals.values())]
    rdas = [c for c, vs in seen.items() if any("rdas" in g for v in vs for g in v.totals.values())]
    assert 0.6 <= len(csi) / len(seen) <= 0.8, len(csi)
    assert 0.12 <= len(rdas) / len(seen) <= 0.3, len(rdas)
    for code in csi + rdas:
        first = visits[code][0]
        assert Attendance(first.row.attendance) is Attendance.BOTH
        assert set(first.totals) == {"A", "B"}, code
    # Roughly every 4th held session: a couple's CSI-4 sessions vs its held sessions.
    held = sum(sum(Attendance(v.row.attendance).held for v in visits[c]) for c in csi)
    given = sum(sum(any("csi4" in g for g in v.totals.values()) for v in visits[c]) for c in csi)
    assert 2.5 <= held / given <= 5, (held, given)
    # Couples closed with a closing review complete it at their last session (a partner
    # may leave it blank); those who stopped coming had no closing review.
    closed = set(
        db.scalars(
            select(Couple.case_code).where(
                Couple.status == "closed", Couple.closing_reason != "dropped_out"
            )
        )
    )
    assert len(set(csi) & closed) >= 15
    for code in set(csi) & closed:
        last = [v for v in visits[code] if Attendance(v.row.attendance).held][-1]
        assert any("csi4" in given for given in last.totals.values()), code

    # The CSI-4 follows the same course as the ratings: up for couples whose EII rose,
    # down for those whose EII fell, and often across the 13.5 cutoff on the way up.
    changes = {c: couple_change(visits[c]) for c in csi}
    rose = [c for c, d in changes.items() if d is not None and d >= 15]
    fell = [c for c, d in changes.items() if d is not None and d <= -10]
    assert len(rose) >= 15 and len(fell) >= 3
    up = [s[-1] - s[0] for c in rose for s in courses(visits[c]).values() if len(s) >= 2]
    down = [s[-1] - s[0] for c in fell for s in courses(visits[c]).values() if len(s) >= 2]
    assert sum(d > 0 for d in up) >= 0.85 * len(up)
    assert sum(d < 0 for d in down) >= 0.8 * len(down)
    crossed = [
        s for c in rose for s in courses(visits[c]).values() if len(s) >= 2 and s[0] < 13.5 < s[-1]
    ]
    assert len(crossed) >= 10


def test_the_showcase_couples_have_instrument_totals(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    """The demo counselor's watched couples never show an empty instrument panel."""
    db, summary = demo_db
    visits = timelines(db)
    csi = {kind: courses(visits[code]) for kind, code in summary.showcase.items()}
    for kind in ("improving", "stalled", "deteriorating", "diverging", "regressed_twice"):
        assert min(len(csi[kind]["A"]), len(csi[kind]["B"])) >= 3, (kind, csi[kind])
    for kind in ("one_session", "no_sessions"):
        assert not any(v.totals for v in visits[summary.showcase[kind]]), kind

    def change(kind: str) -> dict[str, float]:
        return {p: s[-1] - s[0] for p, s in csi[kind].items()}

    assert min(change("improving").values()) > 0, csi["improving"]
    assert max(change("deteriorating").values()) < 0, csi["deteriorating"]
    diverging = sorted(change("diverging").values())
    assert diverging[0] < 0 < diverging[1], csi["diverging"]
    assert courses(visits[summary.showcase["improving"]], "rdas")["A"], "an RDAS panel too"


def srs_by_session(visits: list[Visit]) -> list[tuple[date, dict[str, float]]]:
    """A couple's SRS totals per session (date, {partner: total}), in timeline order."""
    out = []
    for v in visits:
        given = {p: t["srs"] for p, t in v.totals.items() if "srs" in t}
        if given:
            out.append((v.row.session_date, given))
    return out


def test_the_pcoms_counselors_record_the_srs_per_partner(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    """Issue 21 (point 2b needs real data): the clinic holds the SRS licence, two of the six
    counselors (c.rivera among them) ask both partners for it at most held sessions, and
    the totals look like alliance scores: high, a few below the cutoff of 36."""
    db, summary = demo_db
    licence = db.get(InstrumentLicence, "srs")
    assert licence is not None and licence.licensed
    admin = db.scalar(select(User).where(User.id == licence.changed_by))
    assert admin is not None and admin.username == demo.DEMO_ADMIN
    assert "srs" in available_instruments(db) and "ors" not in available_instruments(db)

    visits = timelines(db)
    counselor = {
        c.case_code: u
        for c, u in db.execute(
            select(Couple, User.username).join(User, Couple.counselor_id == User.id)
        )
    }
    with_srs = {code for code, vs in visits.items() if srs_by_session(vs)}
    assert {counselor[c] for c in with_srs} == {"c.rivera", "c.haddad"}
    assert demo.DEMO_COUNSELOR in demo.PCOMS_COUNSELORS and len(demo.PCOMS_COUNSELORS) == 2
    # Most held sessions of their couples (85 % a partner, by design; 70 % is the floor).
    held = [
        v
        for code, vs in visits.items()
        if counselor[code] in demo.PCOMS_COUNSELORS
        and code not in {summary.showcase["one_session"], summary.showcase["no_sessions"]}
        for v in vs
        if Attendance(v.row.attendance).held
    ]
    rated = [v for v in held if any("srs" in t for t in v.totals.values())]
    assert len(rated) >= 0.7 * len(held), (len(rated), len(held))

    totals = [t for vs in visits.values() for _, g in srs_by_session(vs) for t in g.values()]
    assert all(0 <= t <= 40 and t == round(t, 1) for t in totals)
    assert any(t != int(t) for t in totals), "read off a ruler: one decimal"
    high = sum(34 <= t <= 40 for t in totals) / len(totals)
    below = sum(t < 36 for t in totals) / len(totals)
    assert high >= 0.9, high
    assert 0.01 <= below <= 0.10, below

    # A true split alliance on the demo counselor's list: at the latest session where both
    # partners gave an SRS, one is below 36 (DOMAIN.md: the SRS cutoff) and the other at
    # or above it.
    code = summary.showcase[demo.SRS_SPLIT_SHOWCASE]
    assert counselor[code] == demo.DEMO_COUNSELOR
    latest = [g for _, g in srs_by_session(visits[code]) if set(g) == {"A", "B"}][-1]
    assert min(latest.values()) < 36 <= max(latest.values()), latest
    assert summary.showcase["split_alliance"] == code  # by the name DOMAIN.md gives it
    # The couple whose EII ratings diverge still diverges, while both partners rate the
    # sessions at or above 36: diverging partners and a split alliance are two things.
    diverging = visits[summary.showcase["diverging"]]
    assert longest_diverging_run(diverging) >= 3
    latest = [g for _, g in srs_by_session(diverging) if set(g) == {"A", "B"}][-1]
    assert min(latest.values()) >= 36, latest


def test_attendance_formats_and_notes_look_like_a_practice(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    db, _ = demo_db
    sessions = db.scalars(select(CoupleSession)).all()
    n = len(sessions)
    attendance = Counter(s.attendance for s in sessions)
    assert attendance["both"] / n > 0.8
    assert 0.03 <= (attendance["partner_a"] + attendance["partner_b"]) / n <= 0.11
    assert 0.015 <= attendance["no_show"] / n <= 0.07
    assert 0.01 <= attendance["cancelled"] / n <= 0.06
    formats = Counter(s.format for s in sessions)
    assert formats["in_person"] > formats["video"] > formats["phone"] > 0

    for s in sessions:
        kind = Attendance(s.attendance)
        if kind.held:
            assert 45 <= s.duration_minutes <= 90
            assert s.stage in (1, 2, 3, 4)
            assert s.note_data and s.note_assessment and s.note_plan
        else:
            assert s.stage is None and not s.note_assessment and not s.note_plan
            assert s.note_data, "a no-show or cancellation still says what happened"
        if s.private_note is not None:
            assert kind.individual
            letter = "A" if kind is Attendance.PARTNER_A else "B"
            assert s.private_note.startswith(f"Private to partner {letter}:")
        if s.safety_flag:
            assert s.safety_note
    private = [s for s in sessions if s.private_note]
    assert private, "some individual sessions carry a private note"
    assert 0.003 <= sum(s.safety_flag for s in sessions) / n <= 0.03
    # Several sessions may share a date, now and then.
    per_day = Counter((s.couple_id, s.session_date) for s in sessions)
    assert 1 <= sum(1 for k in per_day.values() if k > 1) <= 0.03 * n
    # Notes vary: no template dominates.
    assert len({s.note_data for s in sessions}) > 0.8 * n
    # Individual sessions: only the attending partner rated.
    present = {s.id: {p.value for p in Attendance(s.attendance).partners_present} for s in sessions}
    for session_id, partner in db.execute(
        select(IndicatorRating.session_id, IndicatorRating.partner)
    ):
        assert partner in present[session_id]
    assert {i.key for i in INDICATORS} == set(
        db.scalars(select(IndicatorRating.item).distinct()).all()
    )


def test_couples_have_plausible_records(demo_db: tuple[Session, demo.DemoSummary]) -> None:
    db, _ = demo_db
    couples = db.scalars(select(Couple)).all()
    numbers: dict[int, list[int]] = defaultdict(list)
    for c in couples:
        match = CASE_CODE.match(c.case_code)
        assert match, c.case_code
        assert int(match.group(1)) == c.intake_date.year
        numbers[c.intake_date.year].append(int(match.group(2)))
        assert c.partner_a_name and c.partner_b_name and c.partner_a_name != c.partner_b_name
        assert c.presenting_concerns and c.goals
        assert c.version == 1
    for year, seq in numbers.items():
        assert sorted(seq) == list(range(1, len(seq) + 1)), year
    names = {c.partner_a_name for c in couples} | {c.partner_b_name for c in couples}
    assert len(names) >= 60
    assert any(not n.isascii() for n in names), "an international set includes non-ASCII"
    staff_words = {w for u in demo.DEMO_USERS for w in u.display_name.split()}
    assert not names & staff_words


def test_demo_logins_work(demo_db: tuple[Session, demo.DemoSummary]) -> None:
    db, _ = demo_db
    credentials = login_credentials(db)["usernames"]
    assert set(credentials) == {u.username for u in demo.DEMO_USERS}
    for user in demo.DEMO_USERS:
        entry = credentials[user.username]
        assert entry["name"] == user.display_name
        assert entry["roles"] == [user.role.value]
        assert bcrypt.checkpw(demo.DEMO_PASSWORD.encode(), entry["password"].encode())
    hashes = [c["password"] for c in credentials.values()]
    assert len(set(hashes)) == len(hashes), "every user has a salt of their own"


def test_logins_text_and_summary_text(demo_db: tuple[Session, demo.DemoSummary]) -> None:
    _, summary = demo_db
    text = demo.logins_text()
    assert demo.DEMO_PASSWORD in text
    for user in demo.DEMO_USERS:
        assert user.username in text
    described = summary.describe()
    assert 1 <= len(described.splitlines()) <= 2
    assert "100 couples" in described and f"{summary.sessions} sessions" in described
    assert f"{summary.instrument_totals:,} instrument totals" in described


def test_refuses_a_database_that_already_holds_a_clinic(clinic: object, db: Session) -> None:
    with pytest.raises(ValueError, match="empty"):
        demo.load_demo(db, seed=SEED, today=TODAY, bcrypt_rounds=4)
    assert db.scalar(select(func.count()).select_from(User)) == 4


# ---------------------------------------------------------------------------------------
# Scaled clinics (load_clinic), as the benchmarks build them
# ---------------------------------------------------------------------------------------

SMALL = {"counselors": 3, "couples": 20, "target_sessions": 300}


@pytest.fixture(scope="module")
def small_clinic(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[Session, demo.DemoSummary]]:
    path = tmp_path_factory.mktemp("clinic") / "clinic.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_sessionmaker(engine)() as session:
        yield session, demo.load_clinic(session, seed=SEED, today=TODAY, **SMALL)
    engine.dispose()


def session_counts(db: Session, case_code: str) -> tuple[int, int]:
    """A couple's session rows, and how many of them were held."""
    attendance = db.scalars(
        select(CoupleSession.attendance).join(Couple).where(Couple.case_code == case_code)
    ).all()
    return len(attendance), sum(Attendance(a).held for a in attendance)


def test_load_clinic_gives_the_requested_size(db: Session, backend: str) -> None:
    summary = demo.load_clinic(db, seed=SEED, today=TODAY, **SMALL)

    roles = Counter(db.scalars(select(User.role)).all())
    assert roles == {"admin": 1, "supervisor": 1, "counselor": 3}
    assert set(db.scalars(select(User.username)).all()) == {
        "admin",
        "sup.001",
        "c.0001",
        "c.0002",
        "c.0003",
    }
    by_id = dict(db.execute(select(User.id, User.username)).all())
    links = {
        (by_id[s], by_id[c])
        for s, c in db.execute(select(SupervisionLink.supervisor_id, SupervisionLink.counselor_id))
    }
    assert links == {("sup.001", c) for c in ("c.0001", "c.0002", "c.0003")}
    hashes = set(db.scalars(select(User.password_hash)).all())
    assert len(hashes) == 1, "one hash, reused for every generated account"
    assert bcrypt.checkpw(demo.DEMO_PASSWORD.encode(), hashes.pop().encode())

    assert db.scalar(select(func.count()).select_from(Couple)) == 20
    n_sessions = db.scalar(select(func.count()).select_from(CoupleSession))
    assert abs(n_sessions - 300) <= 15
    caseloads = Counter(by_id[c] for c in db.scalars(select(Couple.counselor_id)))
    assert set(caseloads) == {"c.0001", "c.0002", "c.0003"}

    # The long couple: exactly 40 sessions, every one held, active, on c.0001's list.
    assert summary.long_couples == (summary.showcase["long"],)
    code = summary.showcase["long"]
    assert session_counts(db, code) == (40, 40)
    couple = db.scalar(select(Couple).where(Couple.case_code == code))
    assert couple is not None and couple.status == "active"
    assert by_id[couple.counselor_id] == "c.0001"

    # Anchored to today, inside the history; sessions written by the couple's counselor.
    assert max(db.scalars(select(CoupleSession.session_date)).all()) <= TODAY
    assert min(db.scalars(select(Couple.intake_date)).all()) >= TODAY - timedelta(
        days=summary.history_days
    )
    for c in db.scalars(select(Couple)):
        first = db.scalar(
            select(func.min(CoupleSession.session_date)).where(CoupleSession.couple_id == c.id)
        )
        assert first is None or first >= c.intake_date, c.case_code
        assert CASE_CODE.match(c.case_code) and int(c.case_code[2:6]) == c.intake_date.year
    for couple_counselor, created_by in db.execute(
        select(Couple.counselor_id, CoupleSession.created_by).join(CoupleSession)
    ):
        assert couple_counselor == created_by

    assert summary.couples == 20 and summary.sessions == n_sessions and summary.users == 5
    assert summary.active + summary.paused + summary.closed == 20
    assert summary.indicator_ratings == db.scalar(select(func.count()).select_from(IndicatorRating))
    assert summary.barrier_tags == db.scalar(select(func.count()).select_from(SessionBarrier))
    assert summary.habit_assignments == db.scalar(select(func.count()).select_from(HabitAssignment))
    assert sum(summary.archetypes.values()) == 20
    assert "20 couples" in summary.describe() and "synthetic clinic" in summary.describe()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "load_clinic"))
    assert event is not None and event.success and f"seed={SEED}" in event.detail


def test_every_clinic_session_passes_the_apps_own_validation(
    small_clinic: tuple[Session, demo.DemoSummary],
) -> None:
    db, _ = small_clinic
    assert_every_session_validates(db, TODAY)


def test_same_seed_gives_the_same_scaled_clinic(
    small_clinic: tuple[Session, demo.DemoSummary], db: Session, tmp_path: Path
) -> None:
    first, summary = small_clinic
    again = demo.load_clinic(db, seed=SEED, today=TODAY, **SMALL)
    assert dump(db) == dump(first)
    assert replace(again, seconds=0) == replace(summary, seconds=0)

    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    upgrade_head(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as other:
            demo.load_clinic(other, seed=SEED + 1, today=TODAY, **SMALL)
            assert couples_of(other) != couples_of(first)
    finally:
        engine.dispose()


def test_scaled_clinic_shows_the_demo_kinds(
    small_clinic: tuple[Session, demo.DemoSummary],
) -> None:
    """The same kinds of course as the demo: couples improve, stall, deteriorate."""
    db, summary = small_clinic
    visits = timelines(db)
    changes = [d for vs in visits.values() if (d := couple_change(vs)) is not None]
    # Nearly every improving couple gains 15+ points: one mid-course may not have yet, and
    # a whole course is drawn to gain 12+ (over seeds 1-5 and 2026: 9-11 of 11).
    assert sum(d >= 15 for d in changes) >= summary.archetypes["improving"] - 2
    assert any(d <= -10 for d in changes)
    assert any(longest_diverging_run(vs) >= 3 for vs in visits.values())
    sessions = db.scalars(select(CoupleSession)).all()
    attendance = Counter(s.attendance for s in sessions)
    assert attendance["both"] / len(sessions) > 0.8
    staff = {w for u in db.scalars(select(User.display_name)) for w in u.split()}
    names = {c.partner_a_name for c in db.scalars(select(Couple))}
    assert not staff & names
    # Instrument totals as in the demo: most couples, free instruments, the long couple always.
    with_totals = [c for c, vs in visits.items() if any(v.totals for v in vs)]
    assert 0.5 <= len(with_totals) / sum(1 for vs in visits.values() if vs) <= 0.9
    assert {r for r in db.scalars(select(InstrumentTotal.instrument).distinct())} <= {
        "csi4",
        "rdas",
    }
    long = courses(visits[summary.showcase["long"]])
    assert min(len(long["A"]), len(long["B"])) >= 3
    assert summary.instrument_totals == db.scalar(select(func.count()).select_from(InstrumentTotal))


def test_long_couples_supervisors_and_a_longer_history(tmp_path: Path) -> None:
    """34 sessions a couple: courses and history stretch instead of the pace crowding."""
    url = f"sqlite:///{tmp_path / 'long.sqlite3'}"
    upgrade_head(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            summary = demo.load_clinic(
                db,
                seed=3,
                today=TODAY,
                counselors=4,
                couples=10,
                target_sessions=300,
                supervisors=2,
                long_couples=2,
                long_sessions=12,
            )
            assert summary.sessions == 300
            assert summary.history_days > 2 * demo.HISTORY_DAYS
            assert list(summary.showcase) == ["long", "long_2"]
            assert summary.long_couples == tuple(summary.showcase.values())
            for code in summary.long_couples:
                assert session_counts(db, code) == (12, 12)
            by_id = dict(db.execute(select(User.id, User.username)).all())
            supervised = Counter(
                by_id[s] for s in db.scalars(select(SupervisionLink.supervisor_id))
            )
            assert supervised == {"sup.001": 2, "sup.002": 2}
            intakes = db.scalars(select(Couple.intake_date)).all()
            assert min(intakes) >= TODAY - timedelta(days=summary.history_days)
            assert min(intakes) <= TODAY - timedelta(days=demo.HISTORY_DAYS)
    finally:
        engine.dispose()


def test_load_clinic_refuses_an_unreachable_target_or_a_clinic(db: Session, clinic: object) -> None:
    with pytest.raises(ValueError, match="empty"):
        demo.load_clinic(db, seed=SEED, today=TODAY, **SMALL)


@pytest.mark.parametrize("target", [100, 20_000])
def test_load_clinic_refuses_a_target_no_pace_can_reach(db: Session, target: int) -> None:
    with pytest.raises(ValueError, match="cannot be spread"):
        demo.load_clinic(
            db, seed=SEED, today=TODAY, counselors=2, couples=20, target_sessions=target
        )
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_recent_sessions_took_partners_own_check_in_answers(
    demo_db: tuple[Session, demo.DemoSummary],
) -> None:
    """The last six weeks: about half the open couples' sessions had a check-in, most
    partners answered, and what they answered is what the session holds, as "self"."""
    import json

    from db.models import CheckIn, CheckInPartner, IndicatorRating

    db, summary = demo_db
    check_ins = db.scalars(select(CheckIn)).all()
    assert check_ins and all(c.session_id is not None for c in check_ins)  # none left open
    answered = [p for c in check_ins for p in c.partners if p.submitted_at is not None]
    assert summary.self_reported_sessions == len({p.check_in.session_id for p in answered})
    assert 10 <= summary.self_reported_sessions <= 60
    for p in answered:
        stored = {
            r.item: (r.value, r.source)
            for r in db.scalars(
                select(IndicatorRating).where(
                    IndicatorRating.session_id == p.check_in.session_id,
                    IndicatorRating.partner == p.partner,
                )
            )
        }
        own = json.loads(p.answers)["ratings"]
        assert stored == {k: (v, "self") for k, v in own.items()}
    sources = set(db.scalars(select(IndicatorRating.source).distinct()))
    assert sources == {"self", "counselor"}
    unanswered = db.scalars(select(CheckInPartner).where(CheckInPartner.submitted_at.is_(None)))
    assert all(p.revoked_at is not None for p in unanswered)
    db.rollback()
