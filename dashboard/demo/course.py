"""A demo couple's course as the app will see it: the latent level each partner follows
(by archetype), the eight item ratings drawn around it, the checks that a showcase couple
shows what it is there to show, and the stages and barriers that go with the level.
Planned by archetypes.py; split out of it to keep each module to one concern."""

from __future__ import annotations

import random

from dashboard.demo.people import BARRIER_NOTES, Archetype
from dashboard.demo.plan import _clamp, _CouplePlan, _Latent, _weighted
from dashboard.domain.catalog import INDICATORS, Attendance, IndicatorKind
from dashboard.domain.scoring import discrepancy, partner_eii

# How far a partner's intake level sits from the couple's (EII points, SD). Partners
# arrive about as different from each other as couples are from one another, which
# puts the A-B intake correlation near .5 (couples research reports about .4-.6).
PARTNER_SPREAD = 5.8


def _latent(rng: random.Random, archetype: Archetype, double_regression: bool) -> _Latent:
    u = rng.uniform

    def apart(base: float, spread: float = PARTNER_SPREAD) -> dict[str, float]:
        return {"A": base + rng.gauss(0, spread), "B": base + rng.gauss(0, spread)}

    setback = None
    honeymoon = 0.0
    if archetype is Archetype.IMPROVING:
        start = apart(u(26, 46))
        # Partners gain by different amounts: often one changes clearly, the other less.
        gain = u(10, 34)
        delta = {"A": gain + u(-8, 8), "B": gain + u(-8, 8)}
        shape = u(0.4, 1.0)
        if rng.random() < 0.35:
            t0 = u(0.3, 0.75)
            setback = (t0, t0 + u(0.04, 0.12), u(6, 12))
    elif archetype is Archetype.STALLED:
        start = apart(u(34, 54))
        delta = {"A": u(-3, 6), "B": u(-3, 6)}
        shape = 1.0
    elif archetype is Archetype.DETERIORATING:
        start = apart(u(46, 60), 4.0)
        # Beyond the EII band's floor (±18.1 in the demo: scoring.DEFAULT_EII_SD), so a
        # deteriorating couple reads as one whatever the clinic's intake spread.
        delta = {"A": u(-36, -24), "B": u(-36, -24)}
        shape = u(0.6, 1.1)
        honeymoon = u(0.45, 0.6) if double_regression else u(0.0, 0.12)
    elif archetype is Archetype.SPLIT:
        base = u(40, 52)
        rising = rng.choice("AB")
        falling = "B" if rising == "A" else "A"
        start = {rising: base + u(-3, 3), falling: base + u(-3, 3)}
        delta = {rising: u(22, 32), falling: u(-28, -20)}
        shape = u(0.5, 0.9)
    else:  # early dropout, just opened
        start = apart(u(28, 50))
        delta = {"A": u(-3, 5), "B": u(-3, 5)}
        shape = 1.0
    return _Latent(archetype, start, delta, shape, setback, honeymoon)


# Where each item sits against the partner's overall level at intake (0-10 "good"
# points, so a warning sign's +0.6 means less of it), summing to 0 so the EII is the
# level. Couples arrive talking more honestly than they handle conflict, and feeling
# unseen more than they feel cold (the seed: conflict and feeling unseen are where
# intimacy breaks down first).
ITEM_PROFILE: dict[str, float] = {
    "talk_honestly": 0.9,
    "feel_seen": -0.4,
    "conflict_with_care": -1.1,
    "emotional_support": 0.5,
    "celebrate_wins": 0.3,
    "growing_silence": -0.2,
    "feeling_unseen": -0.6,
    "emotional_coldness": 0.6,
}
# How strongly each kind of item follows a change in the level: warning signs ease (or
# return) faster than the signs grow (or fade); the eight average to 1, so the EII still
# follows the level. 3 x 1.3 + 5 x 0.82 = 8.
ITEM_RESPONSE: dict[IndicatorKind, float] = {
    IndicatorKind.WARNING: 1.3,
    IndicatorKind.SIGN: 0.82,
}


def _ratings(
    rng: random.Random,
    latent: _Latent,
    attendance: list[Attendance],
    progress: list[float],
) -> list[dict[str, dict[str, int | None]]]:
    """Each partner's eight item ratings per session, drawn around the latent level.

    Signs sit near level/10, warning signs near the mirror image, each item shifted by
    where couples in general stand on it (ITEM_PROFILE) and by the partner's own fixed
    tilt, following a change in the level at its kind's pace (ITEM_RESPONSE), plus
    session noise.
    """
    tilt: dict[str, dict[str, float]] = {}
    for p in ("A", "B"):
        raw = {i.key: rng.gauss(0, 0.9) for i in INDICATORS}
        mean = sum(raw.values()) / len(raw)
        tilt[p] = {k: v - mean for k, v in raw.items()}
    noise_sd = 3.0 if latent.archetype is Archetype.STALLED else 2.5
    result: list[dict[str, dict[str, int | None]]] = []
    for kind, t in zip(attendance, progress, strict=True):
        session: dict[str, dict[str, int | None]] = {}
        day = rng.gauss(0, 1.0)  # a week both partners felt (kept small: they differ)
        for partner in kind.partners_present:
            p = partner.value
            start = latent.level(p, 0.0)
            observed = latent.level(p, t) + day + rng.gauss(0, noise_sd)
            items: dict[str, int | None] = {}
            missing = 0
            for item in INDICATORS:
                if missing < 1 and rng.random() < 0.015:
                    missing += 1
                    continue
                level = start + ITEM_RESPONSE[item.kind] * (observed - start)
                shift = ITEM_PROFILE[item.key] + tilt[p][item.key]
                good = _clamp(level / 10 + shift + rng.gauss(0, 0.7), 0, 10)
                items[item.key] = 10 - good if item.kind is IndicatorKind.WARNING else good
            session[p] = items
        result.append(session)
    return result


def _signature_holds(
    archetype: Archetype, ratings: list[dict[str, dict[str, int | None]]], latent: _Latent
) -> bool:
    """Does the drawn data show the archetype it was drawn from (checked by partner_eii)?"""
    both = []
    for session in ratings:
        a = partner_eii(session["A"]) if "A" in session else None
        b = partner_eii(session["B"]) if "B" in session else None
        if a is not None and b is not None:
            both.append((a, b))
    if len(both) < 2:
        return True
    (a0, b0), (a1, b1) = both[0], both[-1]
    couple_change = (a1 + b1) / 2 - (a0 + b0) / 2
    if archetype is Archetype.IMPROVING:
        # The couple gains clearly; each partner at least a little (one may gain less).
        return couple_change >= 12 and a1 - a0 >= 4 and b1 - b0 >= 4
    if archetype is Archetype.STALLED:
        return abs(couple_change) < 8
    if archetype is Archetype.DETERIORATING:
        return couple_change <= -10
    if archetype is Archetype.SPLIT:
        rising = "A" if latent.delta["A"] > 0 else "B"
        gain = (a1 - a0) if rising == "A" else (b1 - b0)
        loss = (b1 - b0) if rising == "A" else (a1 - a0)
        run = best = 0
        for a, b in both:
            gap = discrepancy(a, b)
            run = run + 1 if gap is not None and gap > 20 else 0
            best = max(best, run)
        return best >= 3 and gain >= 10 and loss <= -5
    return True


# What the demo counselor's watched couples must show partner by partner (EII points,
# first to latest jointly rated session): the improving one clearly better for both and
# well above a typical intake at the end; the stalled one about the same for both.
SHOWCASE_IMPROVING_GAIN, SHOWCASE_IMPROVING_END, SHOWCASE_STALLED_MOVE = 20, 65, 5


def _showcase_holds(showcase: str, ratings: list[dict[str, dict[str, int | None]]]) -> bool:
    """Does a watched couple read as its pattern for each partner, not just on average?"""
    if showcase not in ("improving", "stalled"):
        return True
    joint = [
        (a, b)
        for session in ratings
        if (a := partner_eii(session.get("A", {}))) is not None
        and (b := partner_eii(session.get("B", {}))) is not None
    ]
    if len(joint) < 2:
        return False
    first, latest = joint[0], joint[-1]
    moves = [latest[k] - first[k] for k in (0, 1)]
    if showcase == "improving":
        return min(moves) >= SHOWCASE_IMPROVING_GAIN and min(latest) >= SHOWCASE_IMPROVING_END
    return max(abs(m) for m in moves) <= SHOWCASE_STALLED_MOVE


def _stages(
    rng: random.Random,
    plan: _CouplePlan,
    latent: _Latent,
    attendance: list[Attendance],
    progress: list[float],
) -> list[int | None]:
    """The counselor's stage rating: follows the couple's change, one step at a time."""
    held = [i for i, a in enumerate(attendance) if a.held]
    stages: list[int | None] = [None] * len(attendance)
    if not held:
        return stages
    if plan.double_regression:
        # Intake at 2, a honeymoon at 3, then two regressions in a row at the two most
        # recent sessions (3 -> 2 -> 1), so the couple shows as not on track right now.
        fall = max(2, len(held) - 2)
        for k, i in enumerate(held):
            t = progress[i]
            if k < fall:
                stages[i] = 2 if t < 0.15 else 3
            elif k == fall:
                stages[i] = 2
            else:
                stages[i] = 1
        return stages
    if latent.archetype is Archetype.DETERIORATING:
        s0 = 2 if rng.random() < 0.6 else 1
    elif latent.archetype is Archetype.SPLIT:
        s0 = 1 if rng.random() < 0.5 else 2
    else:
        s0 = 1 if rng.random() < 0.8 else 2
    step = rng.uniform(10.5, 13.0)
    base = latent.couple_level(0.0)
    current = s0
    for k, i in enumerate(held):
        if k > 0:
            raw = s0 + (latent.couple_level(progress[i]) - base) / step + rng.gauss(0, 0.2)
            if raw >= current + (0.8 if current < 3 else 1.0) and current < 4:
                current += 1
            elif raw <= current - 0.8 and current > 1:
                current -= 1
        stages[i] = current
    return stages


def _barriers(
    rng: random.Random,
    latent: _Latent,
    attendance: list[Attendance],
    progress: list[float],
    stages: list[int | None],
    codes: list[str],
) -> list[list[tuple[str, int, str]]]:
    """Barrier tags per session: a couple's main blocks, easing as they improve."""
    weights = {
        "poor_communication": 4,
        "stress_distraction": 3,
        "fear_of_vulnerability": 2,
        "unresolved_trauma": 1.5,
    }
    available = list(codes)
    primary: list[str] = []
    for _ in range(rng.choices((1, 2, 3), weights=(0.35, 0.45, 0.2))[0]):
        pool = [c for c in available if c not in primary]
        if not pool:
            break
        primary.append(_weighted(rng, pool, [weights.get(c, 1) for c in pool]))
    base = {c: rng.choices((1, 2, 3), weights=(0.15, 0.5, 0.35))[0] for c in primary}
    ease = rng.uniform(1.8, 2.8)
    emerging = None
    if latent.archetype is Archetype.DETERIORATING:
        pool = [c for c in available if c not in primary]
        emerging = rng.choice(pool) if pool else None
    result: list[list[tuple[str, int, str]]] = []
    for kind, t, stage in zip(attendance, progress, stages, strict=True):
        tags: list[tuple[str, int, str]] = []
        if not kind.held:
            result.append(tags)
            continue
        scale = 0.55 if kind.individual else 1.0
        reach = latent.progress(t)
        for code in primary:
            noise = rng.gauss(0, 0.4)
            chance = 0.85
            if latent.archetype is Archetype.IMPROVING:
                raw = base[code] - ease * reach + noise
                chance = {3: 0.5, 4: 0.25}.get(stage or 1, 0.85)
            elif latent.archetype is Archetype.DETERIORATING:
                raw = base[code] + 1.2 * max(0.0, reach) + noise
            else:
                raw = base[code] + noise
                chance = 0.8
            if t == 0.0:  # the intake names every main block
                raw, chance, scale = max(raw, 1.0), 1.0, 1.0
            if raw < 0.6 or rng.random() > chance * scale:
                continue
            tags.append((code, _clamp(raw, 1, 3), ""))
        if emerging and t >= 0.4 and rng.random() < 0.8 * scale:
            tags.append((emerging, _clamp(1.5 + 1.5 * t + rng.gauss(0, 0.4), 1, 3), ""))
        if rng.random() < 0.07:
            tagged = [c for c, _, _ in tags]
            pool = [c for c in available if c not in tagged]
            if pool:
                tags.append((rng.choice(pool), rng.choice((1, 1, 2)), ""))
        result.append(
            [
                (c, s, rng.choice(BARRIER_NOTES.get(c, ("",))) if rng.random() < 0.2 else "")
                for c, s, _ in tags
            ]
        )
    return result
