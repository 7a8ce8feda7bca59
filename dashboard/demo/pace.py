"""When a couple's sessions fall: the pace of a course (gaps, moved sessions, missed
weeks, breaks), closures and leave, and where each course sits in the clinic's history."""

from __future__ import annotations

import itertools
import math
import random
from datetime import date, timedelta

from dashboard.demo.leave import back_at_work
from dashboard.demo.people import (
    PACE_BREAK,
    PACE_MISSED,
    PACE_MOVED,
    PACE_MOVES,
    PACE_SHORTEST,
    Archetype,
)
from dashboard.demo.plan import _CouplePlan
from dashboard.domain.catalog import (
    Attendance,
    CoupleStatus,
)


def _intervals(
    rng: random.Random, plan: _CouplePlan, attendance: list[Attendance], same_day: list[bool]
) -> list[int]:
    """Days between sessions, as a diary keeps them (the first entry is 0).

    A couple books a regular slot, weekly or fortnightly; improving couples space sessions
    out as they consolidate. Now and then a session moves off its slot by a few days (a
    sick child, a work trip) and the next is back on it; a week is missed; a break of three
    to five weeks is taken; some couples take a longer break mid-course. The clinic's
    closures and the counselor's leave are added when the dates are placed (`_dates`).
    """
    n = len(attendance)
    weekly = rng.random() < 0.6
    slot = [0] * n  # where each session's booked slot falls, in days from the first
    when = [0] * n  # where it really fell
    for i in range(1, n):
        step = 7 if weekly else 14
        if plan.archetype is Archetype.IMPROVING and i / (n - 1) > 0.55:
            step = 14 if weekly and rng.random() < 0.5 else step + 7 * (rng.random() < 0.3)
        chance = rng.random()
        if chance < PACE_MISSED:
            step += 7 * rng.choice((1, 1, 2))  # a missed week or two
        elif chance < PACE_MISSED + PACE_BREAK:
            step = rng.randint(21, 35)  # holidays of their own, illness, a crisis elsewhere
        slot[i] = slot[i - 1] + step
        moved = rng.choice(PACE_MOVES) if rng.random() < PACE_MOVED else 0
        when[i] = max(slot[i] + moved, when[i - 1] + PACE_SHORTEST)
        if same_day[i]:
            # The other partner's individual session, the same day: the diary stays put.
            slot[i], when[i] = slot[i - 1], when[i - 1]
    if n >= 10 and rng.random() < 0.2:
        k = rng.randint(3, n - 2)
        pause = rng.randint(42, 70) - (when[k] - when[k - 1])  # a longer break
        when[k:] = [w + pause for w in when[k:]]
    return [0, *(b - a for a, b in itertools.pairwise(when))]


def _end_date(rng: random.Random, plan: _CouplePlan, today: date) -> date | None:
    """When the last session was, for couples still on the books; None when closed."""
    if plan.archetype is Archetype.NEW:
        return today - timedelta(days=rng.randint(0, 6))
    if plan.status is CoupleStatus.CLOSED:
        return None
    if plan.status is CoupleStatus.PAUSED:
        return today - timedelta(days=rng.randint(30, 75))
    if plan.archetype is Archetype.DROPOUT:
        # Not closed yet: stopped coming a while ago, or so recently it looks like a start.
        return today - timedelta(days=rng.randint(0, 100))
    return today - timedelta(days=rng.randint(0, 10))


def _stretch(intervals: list[int], factor: float) -> list[int]:
    """Scale a pace, keeping weekly rhythms on whole weeks so the weekday holds."""
    stretched = []
    for step in intervals:
        if step == 0:
            stretched.append(0)  # a same-day pair stays on one day
        elif step % 7 == 0:
            stretched.append(7 * max(1, round(step * factor / 7)))
        else:
            stretched.append(max(3, round(step * factor)))
    return stretched


def _place_timelines(
    rng: random.Random, plans: list[_CouplePlan], today: date, window_start: date
) -> None:
    """A benchmark clinic's session dates and intake dates, spread over the whole history.

    Couples still in therapy end near today and would otherwise all have started in the
    last few months; matching each couple by rank to an evenly spread intake target (and
    letting its pace slow by up to 60% to reach it) gives a clinic whose intakes run
    across the history. (The demo, whose open couples are mid-course, levels its weekly
    volume instead: `_level_timelines`.)
    """
    earliest = window_start + timedelta(days=14)
    latest_close = today - timedelta(days=20)
    placed: list[tuple[date, int, _CouplePlan, date | None]] = []
    for plan in plans:
        end = _end_date(rng, plan, today)
        span = sum(plan.intervals)
        if plan.archetype is Archetype.NEW:
            plan.first = end
            continue
        if end is None:
            room = max(0, (latest_close - timedelta(days=span) - earliest).days)
            key = earliest + timedelta(days=rng.randint(0, room))
        else:
            key = end - timedelta(days=span)
        placed.append((key, plan.index, plan, end))
    placed.sort(key=lambda item: (item[0], item[1]))
    reach = (today - timedelta(days=30) - earliest).days
    for k, (_, _, plan, end) in enumerate(placed):
        target = earliest + timedelta(days=int((k + rng.random()) / len(placed) * reach))
        span = sum(plan.intervals)
        if end is None:
            room = max(0, (latest_close - timedelta(days=span) - earliest).days)
            plan.first = min(max(target, earliest), earliest + timedelta(days=room))
            plan.last_allowed = latest_close
        else:
            if span:
                factor = min(1.6, max(0.9, (end - target).days / span))
                plan.intervals = _stretch(plan.intervals, factor)
            _end_at(plan, end, earliest)


def _end_at(plan: _CouplePlan, end: date, earliest: date) -> None:
    """Place a course to end on `end`, closing its longest gaps if it would start too early."""
    while end - timedelta(days=sum(plan.intervals)) < earliest:
        big = max(range(len(plan.intervals)), key=lambda i: plan.intervals[i])
        if plan.intervals[big] <= 7:
            raise ValueError(
                f"{plan.n_sessions} sessions do not fit in the history at a weekly "
                "pace; give the clinic a longer history"
            )
        plan.intervals[big] = max(7, plan.intervals[big] // 2)
    plan.first = end - timedelta(days=sum(plan.intervals))
    plan.last_allowed = end


def _level_timelines(
    rng: random.Random, plans: list[_CouplePlan], today: date, window_start: date
) -> None:
    """The demo's session dates: a steady caseload, week after week.

    Couples on the books end near today (mid-course, or a showcase near its end). Then
    each closed course, longest first, goes where the clinic is least busy among the
    starts that let it close before today: the weekly volume comes out level, as a
    practice's is, rather than climbing toward today or clumping by chance.
    """
    earliest = window_start + timedelta(days=14)
    latest_close = today - timedelta(days=20)
    load = [0] * ((today - earliest).days // 7 + 1)

    def weeks(plan: _CouplePlan, first: date) -> list[int]:
        offsets = itertools.accumulate(plan.intervals)
        return [
            (first - earliest).days // 7 + offset // 7
            for offset, kind in zip(offsets, plan.attendance, strict=True)
            if kind.held
        ]

    closed: list[_CouplePlan] = []
    for plan in plans:
        end = _end_date(rng, plan, today)
        if plan.archetype is Archetype.NEW:
            plan.first = end
        elif end is None:
            closed.append(plan)
        else:
            _end_at(plan, end, earliest)
            assert plan.first is not None
            for week in weeks(plan, plan.first):
                load[min(week, len(load) - 1)] += 1
    rng.shuffle(closed)
    closed.sort(key=lambda p: -sum(p.intervals))  # the longest have the least room
    for plan in closed:
        room = max(0, (latest_close - timedelta(days=sum(plan.intervals)) - earliest).days)
        starts = list(range(rng.randint(0, min(6, room)), room + 1, 7))
        rng.shuffle(starts)  # among equally quiet starts, any
        best = min(
            starts, key=lambda d: sum(load[w] for w in weeks(plan, earliest + timedelta(days=d)))
        )
        plan.first = earliest + timedelta(days=best)
        plan.last_allowed = latest_close
        for week in weeks(plan, plan.first):
            load[week] += 1


def _dates(rng: random.Random, plan: _CouplePlan, today: date, window_start: date) -> list[date]:
    """Walk the intervals from the first session; weekends move to a Friday or Monday."""
    if plan.first is None or not plan.intervals:
        plan.intake = plan.first or today
        plan.intake -= timedelta(days=max(0, plan.intake.weekday() - 4))
        return []
    limit = min(plan.last_allowed or today, today)
    usual = rng.randint(0, 4)  # the couple's regular weekday, Monday to Friday
    start = plan.first - timedelta(days=(plan.first.weekday() - usual) % 7)
    for _attempt in range(4):
        dates = _walk(rng, plan, start, limit)
        overshoot = (dates[-1] - limit).days
        if overshoot <= 0:
            break
        # Start whole weeks earlier (every weekday stays a weekday) and walk again, so the
        # closures fall where they fall.
        start -= timedelta(days=7 * math.ceil(overshoot / 7))
    else:  # the closures keep pushing it past the limit: move the walk back as it is
        back = timedelta(days=7 * math.ceil(overshoot / 7))
        dates = [d - back for d in dates]
    lead = timedelta(days=rng.choice((0, 0, 0, 0, 2, 5, 7, 9, 14)))
    intake = dates[0] - lead
    intake -= timedelta(days=max(0, intake.weekday() - 4))
    plan.intake = min(dates[0], max(intake, window_start))
    return dates


def _walk(rng: random.Random, plan: _CouplePlan, start: date, limit: date) -> list[date]:
    """Session dates from `start` by the couple's intervals: a weekend date moves to the
    Friday or Monday; a date the counselor is away moves to their first day back, and the
    course resumes from there."""
    dates: list[date] = []
    day = start
    for step in plan.intervals:
        day += timedelta(days=step)
        if day.weekday() >= 5:
            monday = day + timedelta(days=7 - day.weekday())
            friday = day - timedelta(days=day.weekday() - 4)
            day = monday if monday <= limit and rng.random() < 0.5 else friday
        if plan.counselor:
            day = back_at_work(plan.counselor, day)
        dates.append(day)
    return dates
