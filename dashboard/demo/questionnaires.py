"""Validated questionnaires in the demo: which couples complete the CSI-4 and the RDAS,
when, and their totals, drawn around the couple's course (the SRS is in alliance.py)."""

from __future__ import annotations

import functools
import random

from dashboard.demo.people import (
    CSI4,
    INSTRUMENT_COURSE,
    INSTRUMENT_EVERY,
    INSTRUMENT_SHARE,
    INSTRUMENT_SKIP,
    RDAS,
    SHOWCASE_INSTRUMENT_VISITS,
    SHOWCASE_WITHOUT_INSTRUMENTS,
    SRS,
    Archetype,
)
from dashboard.demo.plan import _clamp, _CouplePlan, _Latent, _stopped
from dashboard.domain.catalog import (
    Attendance,
    CoupleStatus,
    Partner,
)
from dashboard.domain.instruments import Instrument, load_instruments


@functools.cache
def _free_instruments() -> dict[str, Instrument]:
    """The instruments the demo clinic may record: those that need no licence."""
    return {k: i for k, i in load_instruments().items() if not i.requires_licence}


@functools.cache
def _licensed_instruments() -> dict[str, Instrument]:
    """The free instruments and the SRS, whose licence the demo clinic holds."""
    return {**_free_instruments(), SRS: load_instruments()[SRS]}


def _recordable(plan: _CouplePlan) -> dict[str, Instrument]:
    """What the form offers for this couple: the SRS too, in the demo clinic (licensed)."""
    return _licensed_instruments() if plan.srs_rng is not None else _free_instruments()


def _assign_instruments(seed: int, plans: list[_CouplePlan]) -> None:
    """Which couples complete the CSI-4 and the RDAS; a generator of their own for each.

    Drawn from a generator of their own (derived from the seed), so every other draw of
    the clinic is what it would be without instruments. The demo counselor's watched
    couples (and a scaled clinic's long ones) always complete the CSI-4, so their
    instrument panel is never empty; the improving one the RDAS as well.
    """
    rng = random.Random(f"bondline-demo-instruments:{seed}")
    ordered = sorted(plans, key=lambda p: p.index)
    eligible = [
        p for p in ordered if p.n_sessions and p.showcase not in SHOWCASE_WITHOUT_INSTRUMENTS
    ]
    forced = {
        CSI4: [p for p in eligible if p.showcase],
        RDAS: [p for p in eligible if p.showcase == "improving"],
    }
    for key in (CSI4, RDAS):
        want = round(INSTRUMENT_SHARE[key] * len(eligible))
        chosen = {p.index for p in forced[key]}
        rest = [p for p in eligible if p.index not in chosen]
        picked = rng.sample(rest, max(0, min(len(rest), want - len(chosen))))
        chosen |= {p.index for p in picked}
        for p in eligible:
            if p.index in chosen:
                p.instruments += (key,)
    for p in ordered:
        p.instrument_rng = random.Random(rng.getrandbits(64)) if p.instruments else None


def _completions(
    rng: random.Random, attendance: list[Attendance], due: set[int], skip: float
) -> list[tuple[int, str]]:
    """(session row, partner) for each questionnaire filled in.

    At a due session every attending partner completes it; one who is away completes it
    at the next session they attend (until the next one is due). Now and then a partner
    leaves one blank (`skip`), never at intake.
    """
    out: list[tuple[int, str]] = []
    pending: set[str] = set()
    first = True
    for i, kind in enumerate(attendance):
        if not kind.held:
            continue
        if i in due:
            pending = {p.value for p in Partner if first or not (skip and rng.random() < skip)}
        first = False
        for partner in kind.partners_present:
            if partner.value in pending:
                out.append((i, partner.value))
                pending.discard(partner.value)
    return out


def _instrument_signature(latent: _Latent, visits: list[tuple[int, str, int]]) -> bool:
    """Does a watched couple's CSI-4 show its course, first total to last, per partner?"""
    change: dict[str, int] = {}
    for p in ("A", "B"):
        values = [v for _, partner, v in visits if partner == p]
        if len(values) < 2:
            return False
        change[p] = values[-1] - values[0]
    if latent.archetype is Archetype.IMPROVING:
        return min(change.values()) >= 2
    if latent.archetype is Archetype.DETERIORATING:
        return max(change.values()) <= -2
    if latent.archetype is Archetype.SPLIT:
        rising = "A" if latent.delta["A"] > 0 else "B"
        falling = "B" if rising == "A" else "A"
        return change[rising] >= 2 and change[falling] <= -2
    if latent.archetype is Archetype.STALLED:
        return max(abs(c) for c in change.values()) <= 2
    return True


def _instrument_totals(
    plan: _CouplePlan, latent: _Latent, attendance: list[Attendance], progress: list[float]
) -> list[dict[str, dict[str, float | None]]]:
    """Each session's instrument totals by partner, drawn around the latent course.

    The CSI-4 at intake, then about every 4th held session, and at the last session of a
    couple closed with a closing review (not one who stopped coming); the RDAS at intake
    and about every 6th. Only attending partners fill one in. A watched (showcase) couple also completes the CSI-4 at its latest joint
    session and at enough joint sessions for three totals per partner, and its totals are
    redrawn until they show its course (noise alone could hide it).
    """
    totals: list[dict[str, dict[str, float | None]]] = [{} for _ in attendance]
    rng = plan.instrument_rng
    held = [i for i, a in enumerate(attendance) if a.held]
    if rng is None or not held:
        return totals
    watched = bool(plan.showcase)
    joint = [i for i in held if attendance[i] is Attendance.BOTH]
    visits: dict[str, list[tuple[int, str]]] = {}
    for key in plan.instruments:
        due = {held[0]}
        k = 0
        while (k := k + rng.randint(*INSTRUMENT_EVERY[key])) < len(held):
            due.add(held[k])
        if key == CSI4 and plan.status is CoupleStatus.CLOSED and not _stopped(plan):
            due.add(held[-1])  # the closing review (a couple who stopped coming had none)
        if key == CSI4 and watched and joint:
            due.add(joint[-1])  # where the counselor watching them can see it now
        visits[key] = _completions(rng, attendance, due, 0.0 if watched else INSTRUMENT_SKIP)
        spare = [i for i in reversed(joint) if i not in due]
        while key == CSI4 and watched and spare:
            counts = [sum(p == q for _, q in visits[key]) for p in ("A", "B")]
            if min(counts) >= SHOWCASE_INSTRUMENT_VISITS:
                break
            due.add(spare.pop())  # the earliest joint session not yet used
            visits[key] = _completions(rng, attendance, due, 0.0)

    free = _free_instruments()
    drawn: dict[str, list[tuple[int, str, int]]] = {}
    for _attempt in range(200):
        style = {p: rng.gauss(0, 1) for p in ("A", "B")}
        drawn = {}
        for key, done in visits.items():
            intercept, slope, style_sd, noise_sd = INSTRUMENT_COURSE[key]
            low, high = int(free[key].total_min), int(free[key].total_max)
            drawn[key] = [
                (
                    i,
                    p,
                    _clamp(
                        intercept
                        + slope * latent.level(p, progress[i])
                        + style_sd * style[p]
                        + rng.gauss(0, noise_sd),
                        low,
                        high,
                    ),
                )
                for i, p in done
            ]
        if not watched or CSI4 not in drawn or _instrument_signature(latent, drawn[CSI4]):
            break
    # (After 200 draws the last one stands: a watched couple still has its totals.)
    for key, values in drawn.items():
        for i, p, value in values:
            totals[i].setdefault(p, {})[key] = value
    return totals
