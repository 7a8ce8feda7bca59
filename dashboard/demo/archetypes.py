"""What the demo plans before it writes: each couple's course (its archetype:
improving, stalled, deteriorating, partners diverging, early dropout, just opened), its
ratings, stages and barriers, and each session assembled and validated as the app would.
The pace of sessions is in pace.py, questionnaire totals in questionnaires.py and
alliance.py, note text in notes.py, the plan records in plan.py."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from dashboard.demo.alliance import add_srs, assign_alliance
from dashboard.demo.course import (
    _barriers,
    _latent,
    _ratings,
    _showcase_holds,
    _signature_holds,
    _stages,
)
from dashboard.demo.notes import (
    _adherence_mean,
    _session_text,
    _trend,
)
from dashboard.demo.pace import (
    _dates,
    _intervals,
    _level_timelines,
)
from dashboard.demo.people import (
    ARCHETYPE_COUNTS,
    BRIEF_COURSES,
    BRIEF_SESSIONS,
    CLOSE_NOTES,
    CONCERNS,
    DEMO_COUNSELOR,
    DEMO_COUNSELOR_CASELOAD,
    DEMO_PASSWORD,
    DEMO_SUPERVISION,
    DEMO_USERS,
    EARLY_END_SESSIONS,
    EARLY_END_SHARE,
    FIRST_NAMES,
    GOALS,
    GOALS_MET_EXTRA,
    HABITS_FOR_BARRIER,
    HISTORY_DAYS,
    INITIALS,
    MID_COURSE,
    OTHER_CASELOADS,
    PAUSE_NOTES,
    SAFETY_NOTES,
    SESSION_MAX,
    SESSION_MIN,
    SESSION_RANGE,
    SHOWCASE_STALLED_MIN,
    STATUS_MIX,
    TARGET_SESSIONS,
    TOPICS,
    Archetype,
)
from dashboard.demo.plan import (
    _clamp,
    _CouplePlan,
    _HabitPlan,
    _SessionPlan,
    _weighted,
)
from dashboard.demo.questionnaires import (
    _assign_instruments,
    _instrument_totals,
    _recordable,
)
from dashboard.domain.catalog import (
    HABITS,
    ROLE_LABELS,
    Attendance,
    CoupleStatus,
    Role,
    SessionFormat,
)
from dashboard.domain.validation import (
    BarrierTag,
    CoupleInput,
    SessionInput,
    validate_couple,
    validate_session,
    validate_status_change,
)

# ---------------------------------------------------------------------------------------
# Public results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What was loaded, for the CLI and for tests that want to know the shape."""

    seed: int
    today: date
    users: int
    couples: int
    active: int
    paused: int
    closed: int
    sessions: int
    held_sessions: int
    indicator_ratings: int
    barrier_tags: int
    habit_assignments: int
    safety_flags: int
    instrument_totals: int = 0
    archetypes: dict[str, int] = field(default_factory=dict)
    # A case code per notable pattern, all on the demo counselor's caseload.
    showcase: dict[str, str] = field(default_factory=dict)
    # Sessions that took a partner's own check-in answers (dashboard/demo/check_ins.py).
    self_reported_sessions: int = 0
    seconds: float = 0.0
    # Scaled clinics (load_clinic): how far back the records go, what the load was, and
    # the case codes of the couples with exactly `long_sessions` held sessions.
    history_days: int = HISTORY_DAYS
    label: str = "the demo clinic"
    long_couples: tuple[str, ...] = ()

    def describe(self) -> str:
        first = self.today - timedelta(days=self.history_days)
        return (
            f"Loaded {self.label} (seed {self.seed}, as of {self.today:%d %b %Y}): "
            f"{self.users} users, {self.couples} couples ({self.active} active, "
            f"{self.paused} paused, {self.closed} closed), {self.sessions} sessions since "
            f"{first:%b %Y}.\n"
            f"{self.indicator_ratings:,} indicator ratings, {self.barrier_tags:,} barrier tags, "
            f"{self.habit_assignments:,} habit assignments, "
            f"{self.instrument_totals:,} instrument totals, {self.safety_flags} safety flags; "
            f"took {self.seconds:.1f} s."
        )


def logins_text() -> str:
    """The demo logins, printed by `make run` so a first-time visitor can sign in."""
    supervised: dict[str, list[str]] = {}
    for counselor, supervisor in DEMO_SUPERVISION.items():
        supervised.setdefault(supervisor, []).append(counselor)
    lines = [f"Demo logins (synthetic data; every password is '{DEMO_PASSWORD}'):"]
    for user in DEMO_USERS:
        extra = ""
        if user.role is Role.SUPERVISOR:
            extra = f", supervises {', '.join(supervised.get(user.username, []))}"
        lines.append(
            f"  {user.username:<14} {ROLE_LABELS[user.role]:<13} {user.display_name}{extra}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Plan: pure generation, validated before anything is written
# ---------------------------------------------------------------------------------------


def _partner_names(rng: random.Random) -> tuple[str, str]:
    """Two different first names. (Some partners were once recorded by initials, "G. I.",
    beside first names: a practice names its clients one way. The same draws are made,
    so every other row of the demo is what it was.)"""

    def one() -> str:
        if rng.random() < 0.08:
            first, second = rng.choice(INITIALS), rng.choice(INITIALS)
            pick = INITIALS.index(first) * len(INITIALS) + INITIALS.index(second)
            return FIRST_NAMES[pick % len(FIRST_NAMES)]
        return rng.choice(FIRST_NAMES)

    a = one()
    b = one()
    while b == a:
        b = one()
    return a, b


SHOWCASE_SLOTS = {
    Archetype.IMPROVING: 1,
    Archetype.STALLED: 1,
    Archetype.DETERIORATING: 2,
    Archetype.SPLIT: 1,
}


def _statuses(rng: random.Random) -> list[_CouplePlan]:
    """100 couples with archetype and status; which couple gets which is the seed's choice."""
    plans: list[_CouplePlan] = []
    for archetype, count in ARCHETYPE_COUNTS.items():
        slots: list[tuple[CoupleStatus, str | None]] = [
            (CoupleStatus(status), reason)
            for (status, reason), n in STATUS_MIX.get(archetype, {}).items()
            for _ in range(n)
        ]
        slots += [(CoupleStatus.ACTIVE, None)] * (count - len(slots))
        rng.shuffle(slots)
        # The showcase couples must be active (a supervisor's review lists open cases):
        # put active slots first, two of the deteriorating kind (regressed twice, and
        # deteriorating).
        for k in range(SHOWCASE_SLOTS.get(archetype, 0)):
            active = next(i for i in range(k, len(slots)) if slots[i][0] is CoupleStatus.ACTIVE)
            slots.insert(k, slots.pop(active))
        for k, (status, reason) in enumerate(slots):
            plan = _CouplePlan(len(plans), archetype, status, reason)
            plan.double_regression = archetype is Archetype.DETERIORATING and k == 0
            plans.append(plan)
    return plans


def _assign_counselors(rng: random.Random, plans: list[_CouplePlan]) -> None:
    """Vary caseload sizes; give the demo counselor one couple of every notable kind."""
    counselors = [u.username for u in DEMO_USERS if u.role is Role.COUNSELOR]
    others = [c for c in counselors if c != DEMO_COUNSELOR]
    sizes = list(OTHER_CASELOADS)
    rng.shuffle(sizes)
    caseload = {DEMO_COUNSELOR: DEMO_COUNSELOR_CASELOAD, **dict(zip(others, sizes, strict=True))}

    def first(archetype: Archetype) -> _CouplePlan:
        return next(p for p in plans if p.archetype is archetype)

    new = [p for p in plans if p.archetype is Archetype.NEW]
    showcase = {
        "improving": first(Archetype.IMPROVING),
        "stalled": first(Archetype.STALLED),
        "deteriorating": next(
            p for p in plans if p.archetype is Archetype.DETERIORATING and not p.double_regression
        ),
        "diverging": first(Archetype.SPLIT),
        "regressed_twice": next(p for p in plans if p.double_regression),
        "no_sessions": new[0],
        "one_session": new[1],
    }
    for name, plan in showcase.items():
        plan.counselor = DEMO_COUNSELOR
        plan.showcase = name
    rest = [p for p in plans if not p.counselor]
    rng.shuffle(rest)
    queue = [DEMO_COUNSELOR] * (caseload[DEMO_COUNSELOR] - len(showcase))
    for counselor in others:
        queue += [counselor] * caseload[counselor]
    for plan, counselor in zip(rest, queue, strict=True):
        plan.counselor = counselor


def _session_counts(rng: random.Random, plans: list[_CouplePlan]) -> None:
    """Draw each couple's course, cut the mid-course ones at today, steer the total.

    A couple still in therapy (not a showcase one) is somewhere in its course today, at a
    uniformly drawn point: that is what a steady intake gives, and it keeps the weekly
    volume level instead of piling every open course up in the last months.
    """
    for plan in plans:
        if plan.archetype is Archetype.NEW:
            plan.n_sessions = 1 if plan.showcase == "one_session" else 0
            continue
        low, high = SESSION_RANGE[plan.archetype]
        if plan.showcase == "stalled":
            low = max(low, SHOWCASE_STALLED_MIN)
        plan.n_sessions = rng.randint(low, high)
        if plan.closing_reason == "goals_met":
            plan.n_sessions += rng.randint(*GOALS_MET_EXTRA)
    mid = [p for p in plans if _mid_course(p)]
    for k, plan in enumerate(rng.sample(mid, len(mid))):  # stratified: no chance clumps
        plan.course_length = plan.n_sessions
        reached = (k + rng.random()) / len(mid)
        plan.n_sessions = max(1, math.ceil(reached * plan.course_length))
    _short_courses(rng, plans)
    target = rng.randint(*TARGET_SESSIONS)
    steerable = [  # whole courses; a showcase couple keeps the length its pattern needs
        p
        for p in plans
        if p.archetype not in (Archetype.NEW, Archetype.DROPOUT)
        and not _mid_course(p)
        and not p.showcase
        and not p.short
    ]
    total = sum(p.n_sessions for p in plans)
    while total != target:
        plan = rng.choice(steerable)
        if total < target and plan.n_sessions < SESSION_MAX:
            plan.n_sessions += 1
            total += 1
        elif total > target and plan.n_sessions > SESSION_MIN:
            plan.n_sessions -= 1
            total -= 1


def _short_courses(rng: random.Random, plans: list[_CouplePlan]) -> None:
    """Closed courses of 4-8 sessions, as a practice has them (issue 21: the demo had none).

    A couple who stopped coming, decided together to stop, or was referred on often ends
    partway through the course it was on (its ratings show only that part of it); a few
    improving couples meet their goals in a brief course. Steering leaves both alone.
    """
    for plan in plans:
        share = EARLY_END_SHARE.get(plan.closing_reason or "", 0.0)
        if (
            plan.status is CoupleStatus.CLOSED
            and plan.archetype in (Archetype.IMPROVING, Archetype.STALLED)
            and rng.random() < share
        ):
            plan.course_length = plan.n_sessions
            plan.n_sessions = min(plan.n_sessions - 1, rng.randint(*EARLY_END_SESSIONS))
            plan.short = True
    brief = [
        p
        for p in plans
        if p.archetype is Archetype.IMPROVING
        and p.closing_reason == "goals_met"
        and not p.showcase
        and not p.short
    ]
    for plan in rng.sample(brief, min(BRIEF_COURSES, len(brief))):
        plan.n_sessions = rng.randint(*BRIEF_SESSIONS)
        plan.short = True


def _mid_course(plan: _CouplePlan) -> bool:
    """An active couple partway through its course today (see _session_counts)."""
    return plan.status is CoupleStatus.ACTIVE and plan.archetype in MID_COURSE and not plan.showcase


def _attendance(
    rng: random.Random, plan: _CouplePlan, *, held_only: bool = False
) -> tuple[list[Attendance], list[bool]]:
    """Who came to each session: mostly both, a few individual, no-shows, cancellations.

    Also says which sessions share the previous one's date: now and then both partners
    are seen individually on the same day. `held_only` draws no no-shows or cancellations
    (a couple whose every session row must be a held one).
    """
    weights = {
        Archetype.DROPOUT: (0.72, 0.03, 0.03, 0.12, 0.10),
        Archetype.DETERIORATING: (0.80, 0.05, 0.05, 0.06, 0.04),
        Archetype.SPLIT: (0.84, 0.04, 0.04, 0.04, 0.04),
    }.get(plan.archetype, (0.875, 0.025, 0.025, 0.045, 0.03))
    kinds = list(Attendance)  # both, partner_a, partner_b, no_show, cancelled
    if held_only:
        kinds, weights = kinds[:3], weights[:3]
    result: list[Attendance] = []
    same_day: list[bool] = []
    n = plan.n_sessions
    while len(result) < n:
        if not result:
            result.append(Attendance.BOTH)  # the intake session
            same_day.append(False)
            continue
        kind = rng.choices(kinds, weights=weights)[0]
        result.append(kind)
        same_day.append(False)
        if kind.individual and len(result) < n and rng.random() < 0.3:
            other = Attendance.PARTNER_B if kind is Attendance.PARTNER_A else Attendance.PARTNER_A
            result.append(other)
            same_day.append(True)
    if plan.closing_reason == "goals_met" and n:
        result[-1] = Attendance.BOTH  # a closing session together
        same_day[-1] = False
    joint: range = range(0)
    if plan.archetype is Archetype.SPLIT:
        # The divergence has to be visible in joint sessions late in the course.
        joint = range(max(1, n - 4), n)
    elif plan.double_regression:
        joint = range(int(n * 0.4), int(n * 0.8) + 1)  # the slide happens in the room
    for i in joint:
        result[i] = Attendance.BOTH
        same_day[i] = False
    return result, same_day


def _plan_sessions(
    rng: random.Random,
    plan: _CouplePlan,
    today: date,
    window_start: date,
    barrier_ids: dict[str, int],
    barrier_names: dict[str, str],
    next_habit_id: list[int],
) -> None:
    dates = _dates(rng, plan, today, window_start)
    _plan_session_rows(rng, plan, dates, today, barrier_ids, barrier_names, next_habit_id)


def _plan_session_rows(
    rng: random.Random,
    plan: _CouplePlan,
    dates: list[date],
    today: date,
    barrier_ids: dict[str, int],
    barrier_names: dict[str, str],
    next_habit_id: list[int],
) -> None:
    """Every session of a couple whose dates are set: ratings, stages, notes, validated."""
    attendance = plan.attendance
    n = len(attendance)
    course = max(n, plan.course_length)
    progress = [i / (course - 1) if course > 1 else 0.0 for i in range(n)]
    for _attempt in range(200):
        latent = _latent(rng, plan.archetype, plan.double_regression)
        ratings = _ratings(rng, latent, attendance, progress)
        # Mid-course, the pattern may not show yet: any draw of the kind will do.
        if course > n or (
            _signature_holds(plan.archetype, ratings, latent)
            and _showcase_holds(plan.showcase, ratings)
        ):
            break
    else:  # pragma: no cover - the draws above make this vanishingly rare
        raise RuntimeError(f"could not draw a {plan.archetype} couple")
    stages = _stages(rng, plan, latent, attendance, progress)
    tags = _barriers(rng, latent, attendance, progress, stages, list(barrier_ids))
    instrument_totals = _instrument_totals(plan, latent, attendance, progress)
    add_srs(plan, latent, attendance, progress, instrument_totals)

    style = rng.random()
    formats = (
        (0.85, 0.12, 0.03)
        if style < 0.65
        else (0.15, 0.8, 0.05)
        if style < 0.9
        else (0.5, 0.4, 0.1)
    )
    safety_rate = {
        Archetype.DETERIORATING: 0.05,
        Archetype.SPLIT: 0.03,
        Archetype.STALLED: 0.012,
    }.get(plan.archetype, 0.008)

    watched_safety = _watched_safety(plan, attendance, progress)
    previous_held: int | None = None
    previous_habits: list[_HabitPlan] = []
    recent: list[str] = []
    for i, kind in enumerate(attendance):
        fmt = rng.choices(list(SessionFormat), weights=formats)[0]
        habits: list[_HabitPlan] = []
        adherence: dict[int, int | None] = {}
        reviewed: list[tuple[str, int]] = []
        duration: int | None = None
        safety = ""
        if kind.held:
            for h in previous_habits:
                if rng.random() < 0.94:
                    mean = _adherence_mean(plan.archetype, progress[i])
                    h.adherence = _clamp(rng.gauss(mean, 0.75), 0, 3)
                    h.adherence_row = i
                    adherence[h.local_id] = h.adherence
                    reviewed.append((h.habit, h.adherence))
            closing = i == n - 1 and plan.closing_reason == "goals_met"
            if rng.random() < 0.8 and not closing:
                count = 1 if rng.random() < 0.6 else 2
                weights = {h.key: 1.0 for h in HABITS}
                for code, _, _ in tags[i]:
                    for key in HABITS_FOR_BARRIER.get(code, ()):
                        weights[key] += 3
                for key in recent:
                    weights[key] += 2  # couples often keep a habit going for weeks
                chosen: list[str] = []
                while len(chosen) < count:
                    pool = [k for k in weights if k not in chosen]
                    chosen.append(_weighted(rng, pool, [weights[k] for k in pool]))
                for key in chosen:
                    habits.append(_HabitPlan(next_habit_id[0], key))
                    next_habit_id[0] += 1
                recent = chosen
            if i == 0:
                duration = rng.choice((90, 90, 75, 60))
            elif kind.individual:
                duration = rng.choice((45, 50, 50, 60))
            else:
                duration = rng.choice((50, 50, 60, 60, 60, 75, 90))
            worse = plan.archetype is Archetype.DETERIORATING and progress[i] > 0.4
            rate = safety_rate * (1.5 if worse else 1.0)
            chance = rng.random()
            if (i in watched_safety) if watched_safety else chance < rate:
                x, y = (plan.partner_a, plan.partner_b)
                if kind is Attendance.PARTNER_B or (kind is Attendance.BOTH and rng.random() < 0.5):
                    x, y = y, x
                safety = rng.choice(SAFETY_NOTES).format(X=x, Y=y, topic=plan.topic)
        elif kind is Attendance.CANCELLED and rng.random() < 0.3:
            duration = 0
        previous_stage = stages[previous_held] if previous_held is not None else None
        data, assessment, plan_text, private = _session_text(
            rng,
            plan,
            latent,
            kind,
            first=i == 0,
            last=i == n - 1,
            paired=plan.same_day[i] or (i + 1 < n and plan.same_day[i + 1]),
            trend=_trend(latent, progress, i, previous_held),
            stage=stages[i],
            previous_stage=previous_stage,
            tags=tags[i],
            barrier_names=barrier_names,
            habits=[h.habit for h in habits],
            adherence=reviewed,
        )
        inp = SessionInput(
            session_date=dates[i],
            duration_minutes=duration,
            format=fmt.value,
            attendance=kind.value,
            note_data=data,
            note_assessment=assessment,
            note_plan=plan_text,
            stage=stages[i],
            barriers=[BarrierTag(barrier_ids[c], s, note) for c, s, note in tags[i]],
            ratings=ratings[i],
            habits_assigned=[h.habit for h in habits],
            adherence=adherence,
            instrument_totals=instrument_totals[i],
            safety_flag=bool(safety),
            safety_note=safety,
            private_note=private,
        )
        errors = validate_session(
            inp,
            intake_date=plan.intake,
            today=today,
            active_barrier_ids=list(barrier_ids.values()),
            open_assignment_ids=[h.local_id for h in previous_habits] if kind.held else [],
            instruments=_recordable(plan),
        )
        if errors:
            raise AssertionError(f"demo session rejected by validate_session: {errors}")
        written = datetime.combine(dates[i], datetime.min.time(), UTC) + timedelta(
            hours=rng.randint(9, 18), minutes=rng.randint(0, 59)
        )
        plan.sessions.append(_SessionPlan(inp, habits, written))
        if kind.held:
            previous_held = i
            previous_habits = habits


def _watched_safety(
    plan: _CouplePlan, attendance: list[Attendance], progress: list[float]
) -> set[int]:
    """The deteriorating showcase's safety flags: three joint sessions in its slide, the
    last followed by calmer held sessions, so the demo counselor's list always shows one
    (whatever the seed's other draws do). Other couples' flags are left to chance."""
    if plan.showcase != "deteriorating":
        return set()
    held = [i for i, kind in enumerate(attendance) if kind.held]
    slide = [i for i in held[1:-2] if progress[i] > 0.4 and attendance[i] is Attendance.BOTH]
    if len(slide) < 3:
        slide = held[1:-2]
    return {slide[0], slide[len(slide) // 2], slide[-1]} if slide else set()


def _plan_couple_record(rng: random.Random, plan: _CouplePlan, today: date) -> None:
    """Intake text and status history, checked with the app's own validators."""
    fill = {
        "A": plan.partner_a,
        "B": plan.partner_b,
        "topic": plan.topic,
        "months": rng.randint(4, 30),
    }
    plan.presenting = rng.choice(CONCERNS).format(**fill)
    plan.goals = " ".join(g.format(**fill) for g in rng.sample(GOALS, 2))
    last = plan.sessions[-1].inp.session_date if plan.sessions else None
    errors = validate_couple(
        CoupleInput(plan.partner_a, plan.partner_b, plan.intake, plan.presenting, plan.goals),
        today=today,
        first_session=plan.sessions[0].inp.session_date if plan.sessions else None,
    )
    note_fill = {"X": plan.partner_a, "Y": plan.partner_b}
    if plan.status is CoupleStatus.CLOSED:
        assert plan.closing_reason is not None and last is not None
        plan.status_note = CLOSE_NOTES.get(plan.closing_reason)
        wait = (21, 45) if plan.closing_reason == "dropped_out" else (1, 14)
        plan.status_changed = min(today, last + timedelta(days=rng.randint(*wait)))
    elif plan.status is CoupleStatus.PAUSED:
        assert last is not None
        plan.status_note = rng.choice(PAUSE_NOTES).format(**note_fill)
        plan.status_changed = min(today, last + timedelta(days=rng.randint(1, 10)))
    errors.update(
        validate_status_change(plan.status.value, plan.closing_reason, plan.status_note or "")
    )
    if errors:
        raise AssertionError(f"demo couple rejected by the validators: {errors}")


def _plan_clinic(
    rng: random.Random,
    today: date,
    barrier_ids: dict[str, int],
    barrier_names: dict[str, str],
    *,
    seed: int,
) -> list[_CouplePlan]:
    window_start = today - timedelta(days=HISTORY_DAYS)
    plans = _statuses(rng)
    _assign_counselors(rng, plans)
    _session_counts(rng, plans)
    _assign_instruments(seed, plans)
    assign_alliance(seed, plans)
    for plan in plans:
        plan.partner_a, plan.partner_b = _partner_names(rng)
        plan.topic = rng.choice(TOPICS)
        plan.attendance, plan.same_day = _attendance(rng, plan)
        plan.intervals = _intervals(rng, plan, plan.attendance, plan.same_day)
    _level_timelines(rng, plans, today, window_start)
    next_habit_id = [1]
    for plan in plans:
        _plan_sessions(rng, plan, today, window_start, barrier_ids, barrier_names, next_habit_id)
        _plan_couple_record(rng, plan, today)
    _assign_case_codes(plans)
    return plans


def _assign_case_codes(plans: list[_CouplePlan]) -> None:
    """Case codes follow intake order within each year, as the app would have issued them.

    Sorts `plans` into that order.
    """
    plans.sort(key=lambda p: (p.intake, p.index))
    per_year: dict[int, int] = {}
    for plan in plans:
        per_year[plan.intake.year] = per_year.get(plan.intake.year, 0) + 1
        plan.case_code = f"C-{plan.intake.year}-{per_year[plan.intake.year]:04d}"
