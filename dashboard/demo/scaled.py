"""Scaled clinics for the benchmarks: the same kinds of couple, as many as needed."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, timedelta

from dashboard.demo.archetypes import _assign_case_codes, _attendance, _partner_names
from dashboard.demo.pace import _dates, _intervals, _place_timelines
from dashboard.demo.people import (
    HISTORY_DAYS,
    TOPICS,
    Archetype,
    DemoUser,
)
from dashboard.demo.plan import _CouplePlan, _weighted
from dashboard.demo.questionnaires import _assign_instruments
from dashboard.domain.catalog import (
    CoupleStatus,
    Role,
)

# ---------------------------------------------------------------------------------------
# Scaled clinics: the same kinds of couple, as many as a benchmark needs
# ---------------------------------------------------------------------------------------

# Staff of a generated clinic (no word here is also a client name in FIRST_NAMES).
STAFF_FIRST: tuple[str, ...] = (
    "Adele", "Bernard", "Carmen", "Desmond", "Esther", "Florian", "Greta", "Hugo", "Ingrid",
    "Julian", "Katarina", "Leon", "Magda", "Nils", "Odette", "Pavel", "Quentin", "Rosa",
    "Stefan", "Teresa", "Ulrich", "Vera", "Walter", "Xenia", "Yvonne", "Zachary", "Beatriz",
    "Cormac", "Delphine", "Ewan",
)  # fmt: skip
STAFF_LAST: tuple[str, ...] = (
    "Abara", "Bauer", "Castellano", "Dubois", "Eriksen", "Fitzgerald", "Gallo", "Hartmann",
    "Ivanova", "Jansen", "Kaur", "Larsen", "Moreau", "Novak", "Osei", "Petrov", "Quinn",
    "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zielinski",
    "Achebe", "Brennan", "Costa", "Duarte",
)  # fmt: skip

# Benchmark clinics keep the shape the demo had when the benchmarks were set (60 couples,
# long courses, few dropouts), so their figures stay comparable from run to run; the
# demo itself now looks like a practice (people.ARCHETYPE_COUNTS).
BENCH_ARCHETYPE_COUNTS: dict[Archetype, int] = {
    Archetype.IMPROVING: 32,
    Archetype.STALLED: 9,
    Archetype.DETERIORATING: 6,
    Archetype.SPLIT: 6,
    Archetype.DROPOUT: 5,
    Archetype.NEW: 2,
}
BENCH_SESSION_RANGE: dict[Archetype, tuple[int, int]] = {
    Archetype.IMPROVING: (11, 24),
    Archetype.STALLED: (10, 22),
    Archetype.DETERIORATING: (10, 20),
    Archetype.SPLIT: (10, 20),
    Archetype.DROPOUT: (2, 5),
    Archetype.NEW: (0, 1),
}
BENCH_SESSION_MAX = 32
DEMO_SESSIONS_PER_COUPLE = 15  # that shape's ~900 sessions over 60 couples
# Courses at most four times the demo's length (about 60 sessions a couple on average).
MAX_SESSION_SCALE = 4.0
# Counselors per supervisor when the caller does not say (the demo has three).
COUNSELORS_PER_SUPERVISOR = 5
# Share of each kind of couple closed within the demo's 18 months (the demo's own mix),
# and why they close. A longer history closes proportionally more: most couples who
# started two years ago have finished.
CLOSE_RATES: dict[Archetype, float] = {
    Archetype.IMPROVING: 6 / 32,
    Archetype.STALLED: 2 / 9,
    Archetype.DETERIORATING: 1 / 6,
    Archetype.SPLIT: 1 / 12,
    Archetype.DROPOUT: 3 / 5,
}
CLOSE_REASON_WEIGHTS: dict[Archetype, dict[str, float]] = {
    Archetype.IMPROVING: {"goals_met": 5, "mutual_decision": 1},
    Archetype.STALLED: {"mutual_decision": 1, "referred": 1},
    Archetype.DETERIORATING: {"separated": 2, "referred": 1},
    Archetype.SPLIT: {"mutual_decision": 1, "referred": 1, "separated": 1},
    Archetype.DROPOUT: {"dropped_out": 1},
}
PAUSE_RATES: dict[Archetype, float] = {
    Archetype.IMPROVING: 1 / 32,
    Archetype.STALLED: 1 / 9,
    Archetype.SPLIT: 1 / 6,
}
DOUBLE_REGRESSION_RATE = 0.25  # of deteriorating couples: stage 3 -> 2 -> 1
# The long couples (for the timeline benchmark) take these kinds in turn.
LONG_ARCHETYPES = (Archetype.IMPROVING, Archetype.SPLIT, Archetype.STALLED, Archetype.DETERIORATING)


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder; sums to `total`)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _scaled_statuses(
    rng: random.Random, regular: int, long_couples: int, long_sessions: int, history_days: int
) -> list[_CouplePlan]:
    """Couples with kind and status: the demo's mix, and its long-running couples.

    Newly opened couples are about ten days' worth of intakes (the demo's two would be far
    too many in a large clinic); closures grow with the length of the history.
    """
    plans: list[_CouplePlan] = []
    for k in range(long_couples):
        plan = _CouplePlan(
            len(plans), LONG_ARCHETYPES[k % len(LONG_ARCHETYPES)], CoupleStatus.ACTIVE
        )
        plan.showcase = "long" if k == 0 else f"long_{k + 1}"
        plan.n_sessions = long_sessions
        plans.append(plan)
    new = min(regular, max(1, round(regular * 10 / history_days))) if regular else 0
    others = {a: n for a, n in BENCH_ARCHETYPE_COUNTS.items() if a is not Archetype.NEW}
    counts = dict(zip(others, _shares(regular - new, list(others.values())), strict=True))
    counts[Archetype.NEW] = new
    close_scale = (1 - 0.8 * HISTORY_DAYS / history_days) / 0.2  # 1.0 for 18 months
    for archetype in BENCH_ARCHETYPE_COUNTS:
        for _ in range(counts[archetype]):
            status, reason = CoupleStatus.ACTIVE, None
            if rng.random() < min(0.95, CLOSE_RATES.get(archetype, 0.0) * close_scale):
                status = CoupleStatus.CLOSED
                weights = CLOSE_REASON_WEIGHTS[archetype]
                reason = _weighted(rng, list(weights), list(weights.values()))
            elif rng.random() < PAUSE_RATES.get(archetype, 0.0):
                status = CoupleStatus.PAUSED
            plan = _CouplePlan(len(plans), archetype, status, reason)
            plan.double_regression = (
                archetype is Archetype.DETERIORATING and rng.random() < DOUBLE_REGRESSION_RATE
            )
            plans.append(plan)
    return plans


def _scaled_staff(
    rng: random.Random, counselors: int, supervisors: int
) -> tuple[list[DemoUser], dict[str, str]]:
    """admin, sup.001..., c.0001...; counselors in blocks under their supervisor."""
    names = [f"{first} {last}" for first in STAFF_FIRST for last in STAFF_LAST]
    rng.shuffle(names)
    width_s = max(3, len(str(supervisors)))
    width_c = max(4, len(str(counselors)))
    users = [DemoUser("admin", names[0], Role.ADMIN)]
    sups = [
        DemoUser(f"sup.{i:0{width_s}d}", names[i % len(names)], Role.SUPERVISOR)
        for i in range(1, supervisors + 1)
    ]
    cons = [
        DemoUser(f"c.{i:0{width_c}d}", names[(supervisors + i) % len(names)], Role.COUNSELOR)
        for i in range(1, counselors + 1)
    ]
    supervision = (
        {c.username: sups[k * supervisors // counselors].username for k, c in enumerate(cons)}
        if supervisors
        else {}
    )
    return users + sups + cons, supervision


def _scaled_caseloads(rng: random.Random, plans: list[_CouplePlan], counselors: list[str]) -> None:
    """Caseloads in proportion to each counselor's hours (0.6 to 1.4 of a full post).

    The long couples sit on the first counselor's list, so one login shows them.
    """
    for plan in plans:
        if plan.showcase:
            plan.counselor = counselors[0]
    hours = [rng.uniform(0.6, 1.4) for _ in counselors]
    rest = [p for p in plans if not p.counselor]
    rng.shuffle(rest)
    sizes = _shares(len(rest), hours)
    queue = [c for c, size in zip(counselors, sizes, strict=True) for _ in range(size)]
    for plan, counselor in zip(rest, queue, strict=True):
        plan.counselor = counselor


def _scaled_session_counts(rng: random.Random, plans: list[_CouplePlan], target: int) -> None:
    """The demo's per-kind session ranges, stretched to the clinic's mean, steered to target.

    A clinic asked for more sessions per couple than the demo's 15 gets proportionally
    longer courses (improving couples 11-24 sessions become 22-48 at twice the mean).
    Raises ValueError when no steering can reach the target.
    """
    fixed: list[_CouplePlan] = []
    steerable: list[_CouplePlan] = []
    for plan in plans:
        kept = plan.showcase or plan.archetype in (Archetype.NEW, Archetype.DROPOUT)
        (fixed if kept else steerable).append(plan)
    expected_fixed = sum(
        p.n_sessions if p.showcase else (0.5 if p.archetype is Archetype.NEW else 3.5)
        for p in fixed
    )
    unit = sum(
        sum(BENCH_SESSION_RANGE[p.archetype]) / 2 + (5.5 if p.closing_reason == "goals_met" else 0)
        for p in steerable
    )
    scale = min(MAX_SESSION_SCALE, max(0.5, (target - expected_fixed) / unit)) if unit else 1.0
    most = max(BENCH_SESSION_MAX, round(BENCH_SESSION_MAX * scale))
    for plan in plans:
        if plan.showcase:
            continue
        if plan.archetype is Archetype.NEW:
            plan.n_sessions = 1 if rng.random() < 0.5 else 0
            continue
        low, high = BENCH_SESSION_RANGE[plan.archetype]
        if plan.archetype is not Archetype.DROPOUT:
            low = max(min(low, 8), round(low * scale))
            high = max(low, round(high * scale))
        plan.n_sessions = rng.randint(low, high)
        if plan.closing_reason == "goals_met":
            plan.n_sessions += rng.randint(max(1, round(3 * scale)), max(1, round(8 * scale)))
        if plan.archetype is not Archetype.DROPOUT:
            plan.n_sessions = min(most, plan.n_sessions)
    fixed_total = sum(p.n_sessions for p in fixed)
    low_total, high_total = fixed_total + 8 * len(steerable), fixed_total + most * len(steerable)
    if not low_total <= target <= high_total:
        raise ValueError(
            f"{target} sessions cannot be spread over these couples at a believable pace "
            f"(between {low_total} and {high_total})"
        )
    total = sum(p.n_sessions for p in plans)
    while total != target:
        plan = rng.choice(steerable)
        if total < target and plan.n_sessions < most:
            plan.n_sessions += 1
            total += 1
        elif total > target and plan.n_sessions > 8:
            plan.n_sessions -= 1
            total -= 1


def _plan_scaled_clinic(
    rng: random.Random,
    today: date,
    history_days: int,
    *,
    couples: int,
    target_sessions: int,
    long_couples: int,
    long_sessions: int,
    counselors: list[str],
    seed: int,
) -> list[_CouplePlan]:
    """Every couple's kind, counselor, names, attendance and session dates; no sessions yet.

    Each couple gets a generator of its own (drawn from the clinic's), so its sessions can
    be drawn later, a chunk of couples at a time, without the whole clinic in memory.
    Returns the plans in case-code order.
    """
    window_start = today - timedelta(days=history_days)
    plans = _scaled_statuses(rng, couples - long_couples, long_couples, long_sessions, history_days)
    _scaled_caseloads(rng, plans, counselors)
    _scaled_session_counts(rng, plans, target_sessions)
    _assign_instruments(seed, plans)
    for plan in plans:
        plan.partner_a, plan.partner_b = _partner_names(rng)
        plan.topic = rng.choice(TOPICS)
        plan.attendance, plan.same_day = _attendance(rng, plan, held_only=bool(plan.showcase))
        plan.intervals = _intervals(rng, plan, plan.attendance, plan.same_day)
    _place_timelines(rng, plans, today, window_start)
    for plan in plans:
        plan.rng = random.Random(rng.getrandbits(64))
        plan.dates = _dates(plan.rng, plan, today, window_start)
    _assign_case_codes(plans)
    return plans
