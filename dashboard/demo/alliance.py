"""The SRS in the demo clinic: the counselors who use PCOMS ask each partner how the
session went (Session Rating Scale, 0-40, read to one decimal; cutoff 36).

Alliance scores run high: most totals are 34-40, and a partner below 36 is a signal the
counselor should hear. A partner's own level holds from session to session (some
partners mark the line lower than others); it creeps up as the work settles, and slips
for couples getting worse or for the partner who is losing ground. One couple on the
demo counselor's list shows a split alliance (DOMAIN.md): at the latest session where
both partners filled it in, one is below 36 and the other at or above it.

Drawn from generators of their own (derived from the seed), so every other draw of the
clinic is what it would be without the SRS.
"""

from __future__ import annotations

import random

from dashboard.demo.people import (
    PCOMS_COUNSELORS,
    SHOWCASE_WITHOUT_INSTRUMENTS,
    SRS,
    SRS_LEVEL,
    SRS_NOISE,
    SRS_RECORDED,
    SRS_SPLIT_SHOWCASE,
    SRS_SPREAD,
    Archetype,
)
from dashboard.demo.plan import _CouplePlan, _Latent
from dashboard.domain.catalog import Attendance

Totals = list[dict[str, dict[str, float | None]]]

# How much a partner's SRS moves over a whole course, by kind of course (points).
DRIFT = {
    Archetype.IMPROVING: 0.8,
    Archetype.STALLED: 0.0,
    Archetype.DETERIORATING: -1.0,
}
SPLIT_LOW_END = 33.0  # the split-alliance partner's level by the end of the course


def assign_alliance(seed: int, plans: list[_CouplePlan]) -> None:
    """Give each couple of a PCOMS counselor an SRS generator of its own (not the
    showcase couples whose timelines show the empty states)."""
    rng = random.Random(f"bondline-demo-srs:{seed}")
    for plan in sorted(plans, key=lambda p: p.index):
        if (
            plan.counselor in PCOMS_COUNSELORS
            and plan.n_sessions
            and plan.showcase not in SHOWCASE_WITHOUT_INSTRUMENTS
        ):
            plan.srs_rng = random.Random(rng.getrandbits(64))


def _value(level: float) -> float:
    """A total as the form takes it: one decimal, within 0-40."""
    return round(min(40.0, max(0.0, level)), 1)


def add_srs(
    plan: _CouplePlan,
    latent: _Latent,
    attendance: list[Attendance],
    progress: list[float],
    totals: Totals,
) -> None:
    """Each attending partner's SRS at most held sessions, into `totals` (by row, partner)."""
    rng: random.Random | None = plan.srs_rng
    if rng is None:
        return
    split = plan.showcase == SRS_SPLIT_SHOWCASE
    level = {p: min(39.6, rng.gauss(SRS_LEVEL, SRS_SPREAD)) for p in ("A", "B")}
    drift = {p: DRIFT.get(latent.archetype, 0.3) for p in ("A", "B")}
    diverging = latent.archetype is Archetype.SPLIT and bool(plan.showcase)
    if diverging:
        # The demo counselor's diverging couple: partners drift apart on the EII while both
        # still rate the sessions well (diverging partners are not a split alliance).
        level = {p: max(value, 38.0) for p, value in level.items()}
    elif latent.archetype is Archetype.SPLIT:
        falling = "A" if latent.delta["A"] < 0 else "B"
        drift[falling] = -0.6
    low = rng.choice("AB") if split else ""
    held = [i for i, kind in enumerate(attendance) if kind.held]
    joint = [i for i in held if attendance[i] is Attendance.BOTH]
    last_joint = joint[-1] if joint else None
    for i in held:
        for partner in attendance[i].partners_present:
            p = partner.value
            if i != last_joint and rng.random() > SRS_RECORDED:
                continue  # not filled in this time (the latest joint session always is)
            if p == low:
                start = min(level[p], 37.5)
                mean = start + (SPLIT_LOW_END - start) * progress[i]
            else:
                mean = level[p] + drift[p] * progress[i]
            totals[i].setdefault(p, {})[SRS] = _value(mean + rng.gauss(0, SRS_NOISE))
    if diverging and last_joint is not None:
        for given in totals[last_joint].values():
            given[SRS] = max(float(given[SRS] or 0.0), 36.5)
    if split and last_joint is not None:
        # The pattern must hold where the rule reads it: the latest session with both.
        given = totals[last_joint]
        other = "B" if low == "A" else "A"
        given[low][SRS] = min(float(given[low][SRS] or 0.0), 35.2)
        given[other][SRS] = max(float(given[other][SRS] or 0.0), 37.0)
