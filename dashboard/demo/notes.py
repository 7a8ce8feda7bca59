"""A session's notes in the seed's words: the DAP note, and a private note for some
individual sessions."""

from __future__ import annotations

import random

from dashboard.demo.people import (
    ADHERENCE_WORDS,
    ASSESSMENTS,
    AWAY_REASONS,
    BEHAVIOURS,
    CANCEL_NOTES,
    DATA_JOINT,
    FEELINGS,
    NO_SHOW_NOTES,
    PRIVATE_NOTES,
    RESPONSES,
    Archetype,
)
from dashboard.demo.plan import _CouplePlan, _Latent
from dashboard.domain.catalog import (
    HABIT_BY_KEY,
    SEVERITIES,
    STAGE_BY_NUMBER,
    Attendance,
)


def _adherence_mean(archetype: Archetype, t: float) -> float:
    return {
        Archetype.IMPROVING: 1.2 + 1.6 * t,
        Archetype.STALLED: 1.1,
        Archetype.DETERIORATING: 1.6 - 1.3 * t,
        Archetype.SPLIT: 1.4,
        Archetype.DROPOUT: 0.7,
    }.get(archetype, 1.0)


def _names_line(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _trend(latent: _Latent, progress: list[float], i: int, previous: int | None) -> str:
    if latent.archetype is Archetype.SPLIT and progress[i] > 0.3:
        return "split"
    if latent.setback and latent.setback[0] <= progress[i] <= latent.setback[1]:
        return "setback"
    if previous is None:
        return "flat"
    change = latent.couple_level(progress[i]) - latent.couple_level(progress[previous])
    if latent.archetype in (Archetype.IMPROVING, Archetype.DETERIORATING):
        return "up" if change > 0.5 else ("down" if change < -0.5 else "flat")
    return "flat"


def _session_text(
    rng: random.Random,
    plan: _CouplePlan,
    latent: _Latent,
    kind: Attendance,
    *,
    first: bool,
    last: bool,
    paired: bool,
    trend: str,
    stage: int | None,
    previous_stage: int | None,
    tags: list[tuple[str, int, str]],
    barrier_names: dict[str, str],
    habits: list[str],
    adherence: list[tuple[str, int]],
) -> tuple[str, str, str, str]:
    """DAP note (and a private note for some individual sessions) in the seed's words."""
    a, b = plan.partner_a, plan.partner_b
    if latent.archetype is Archetype.SPLIT:
        rising = "A" if latent.delta["A"] > 0 else "B"
        x, y = (a, b) if rising == "A" else (b, a)
    else:
        x, y = (a, b) if rng.random() < 0.5 else (b, a)
    fill = {"topic": plan.topic, "X": x, "Y": y}
    if kind is Attendance.NO_SHOW:
        return rng.choice(NO_SHOW_NOTES).format(**fill), "", "", ""
    if kind is Attendance.CANCELLED:
        return rng.choice(CANCEL_NOTES).format(**fill), "", "", ""

    private = ""
    if kind.individual:
        x, y = (a, b) if kind is Attendance.PARTNER_A else (b, a)
        fill.update(X=x, Y=y)
        why = "seen separately today, as planned" if paired else rng.choice(AWAY_REASONS)
        data = f"Individual session with {x}; {y} {why}. {x} talked about {rng.choice(FEELINGS)}."
        if rng.random() < 0.5:
            letter = "A" if kind is Attendance.PARTNER_A else "B"
            private = (
                f"Private to partner {letter}: {rng.choice(PRIVATE_NOTES).format(**fill)} "
                "Not to be raised in joint sessions without consent."
            )
    elif first:
        data = (
            f"Intake session. Both described {rng.choice(FEELINGS)}. Reviewed consent, "
            "confidentiality and how individual sessions work."
        )
    elif last and plan.closing_reason == "goals_met":
        data = "Closing session. Reviewed the work since intake; both named what has changed."
    else:
        data = rng.choice(DATA_JOINT).format(
            feeling=rng.choice(FEELINGS),
            response=rng.choice(RESPONSES),
            behaviour=rng.choice(BEHAVIOURS),
            **fill,
        )
    if adherence:
        done = "; ".join(
            f"{HABIT_BY_KEY[h].label.lower()}: {ADHERENCE_WORDS[v]}" for h, v in adherence
        )
        data += f" Homework review: {done}."

    label = f"{stage} ({STAGE_BY_NUMBER[stage].name})" if stage else ""
    if first:
        stage_text = f"Starting at stage {label}."
    elif previous_stage and stage and stage < previous_stage:
        stage_text = f"Stage dropped to {label}."
    elif previous_stage and stage and stage > previous_stage:
        stage_text = f"Moved to stage {label}."
    else:
        stage_text = f"Working at stage {label}."
    if first or (last and plan.closing_reason == "goals_met"):
        trend_text = "" if first else "Goals met."
    else:
        trend_text = rng.choice(ASSESSMENTS[trend]).format(**fill)
    ranked = sorted(tags, key=lambda tag: -tag[1])
    if tags and first:
        listed = ", ".join(
            f"{barrier_names[c].lower()} ({SEVERITIES[sev].lower()})" for c, sev, _ in ranked
        )
        barrier_text = f"Main blocks: {listed}."
    elif tags:
        code, severity, _ = ranked[0]
        barrier_text = (
            f"Main block today: {barrier_names[code].lower()} ({SEVERITIES[severity].lower()})."
        )
    else:
        barrier_text = "No barrier prominent today."
    assessment = " ".join(s for s in (stage_text, trend_text, barrier_text) if s)

    if last and plan.closing_reason == "goals_met":
        plan_text = "Close by mutual agreement; booster session offered in three months."
    elif habits:
        labels = [HABIT_BY_KEY[h].label.lower() for h in habits]
        follow = rng.choice(
            (
                "Next session in one week.",
                "Next session in two weeks.",
                f"Revisit {plan.topic} next time.",
                "Check in on the homework first thing.",
            )
        )
        plan_text = f"Homework: {_names_line(labels)}. {follow}"
    else:
        plan_text = rng.choice(
            (
                f"Continue current practice; revisit {plan.topic} next session.",
                "No new homework; next session in two weeks.",
                "Keep the weekly check-in going; review at the next session.",
            )
        )
    return data, assessment, plan_text, private
