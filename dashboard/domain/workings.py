"""How a result was worked out: plain words where the counselor reads, the statistics
(RCI, S_diff, SD, r, n, the norms used) one click away, and partners by name.

Pure: results and parameters in, sentences out. The timeline page and its charts'
legends use these; `ReliableChangeParams.describe()` and `ChangeResult.describe()`
stay the technical line that this module puts behind the click.
"""

from __future__ import annotations

import re

from dashboard.domain.catalog import FRAMEWORK_NOTE
from dashboard.domain.numbers import as_written, one_decimal
from dashboard.domain.scoring import (
    MIN_LOCAL_INTAKES,
    RELIABLE_Z,
    Change,
    ChangeResult,
    ReliableChangeParams,
)

# What each statistic is, for the reader who opened "How this was worked out".
GLOSSARY = (
    f"RCI (reliable change index) = (latest − first) ÷ S_diff; a change is reliable when "
    f"the RCI is beyond ±{RELIABLE_Z:g}, or beyond a questionnaire's own published "
    "threshold. S_diff (standard error of the difference) = SD × √2 × √(1 − r), where SD "
    "is the spread of intake scores, r their reliability (Cronbach's α) and n the number "
    "of intakes they come from."
)

_SHORT: dict[Change, str] = {
    Change.IMPROVED: "better than at intake",
    Change.NO_RELIABLE_CHANGE: "about the same as at intake",
    Change.DETERIORATED: "worse than at intake",
}


def named(text: str, name_a: str, name_b: str) -> str:
    """scoring's 'Partner A' / 'Partner B' replaced by the partners' names, in one pass
    (so a name that itself reads 'Partner B' is never replaced again)."""
    names = {"A": name_a, "B": name_b}
    return re.sub(r"Partner ([AB])\b", lambda m: names[m.group(1)], text)


def _points(value: float) -> str:
    """As the chart's band says it (±11.1); a whole published value as published (5)."""
    return str(int(value)) if float(value).is_integer() else one_decimal(value)


def _intakes(n: int) -> str:
    return f"{n} intake" if n == 1 else f"{n} intakes"


def plain_method(params: ReliableChangeParams) -> str:
    """A threshold's method in a legend's words: named, with its n or source, without
    S_diff or α (those are behind the click)."""
    if params.threshold_override is not None:
        more = " or more" if params.threshold_inclusive else ""
        source = f", {params.threshold_source}" if params.threshold_source else ""
        return (
            f"{params.scale}'s published value: a change of "
            f"{_points(params.threshold_override)} points{more}{source}"
        )
    if params.threshold is None:
        if params.cutoff is None:
            return f"{params.scale} has no reliable-change value and no cutoff"
        return f"{params.scale} has no reliable-change value: judged by its cutoff only"
    # A published version names itself on the chart too ('clinic norms v3 of 2 Nov 2026,
    # 198 intakes'); figures worked out now (no version) say their intakes instead.
    published = params.norms_label.startswith("clinic norms")
    if params.source == "locally derived":
        floor = ", its SD at the documented floor" if params.floor_in_use else ""
        origin = params.norms_label if published else f"from this clinic's {_intakes(params.n)}"
        return f"Jacobson–Truax method, {origin}{floor}"
    if params.n < MIN_LOCAL_INTAKES:
        why = f"this clinic has {_intakes(params.n)}; {MIN_LOCAL_INTAKES} are needed for its own"
    else:  # a floor or an unusable alpha: the reason, with its figures, is behind the click
        why = "deliberately cautious; why is given with the statistics"
    version = f"; {params.norms_label}" if published else ""
    return f"Jacobson–Truax method with documented default figures ({why}){version}"


def method_line(params: ReliableChangeParams) -> str:
    """How change and the cutoff are judged, in full (the timeline's "How this was worked
    out" and the report's method line), without empty parts."""
    parts = [params.describe(), params.describe_cutoff() or "", FRAMEWORK_NOTE]
    return " ".join(p if p.endswith(".") else f"{p}." for p in parts if p)


def norms_line(params: ReliableChangeParams) -> str:
    """Which norms a result used: 'Norms: clinic norms v3 of 2 Nov 2026, 198 intakes.'
    (services/norms.py sets the label), or a questionnaire's published figures."""
    if params.source == "published":
        return f"Norms: {params.scale}'s published figures."
    if params.norms_label:
        return f"Norms: {params.scale}'s figures from {params.norms_label}."
    if params.source == "locally derived":  # a candidate, not yet published
        return f"Norms: worked out now from this clinic's {_intakes(params.n)}; not published."
    why = params.note or f"only {_intakes(params.n)}; {MIN_LOCAL_INTAKES} needed"
    return f"Norms: {params.scale}'s documented defaults ({why}); no published norms version yet."


def _margin(change: ChangeResult) -> str:
    """'more than 3.6 points' or '5 points or more': what a real change must be. A
    published threshold as published (RDAS 11.58), a derived one as the chart's band."""
    threshold = change.threshold or 0.0
    limit = as_written(threshold).removesuffix(".0") if change.rci is None else _points(threshold)
    return f"{limit} points or more" if change.inclusive else f"more than {limit} points"


# Printed where space is short (the report's questionnaire table and the one-page
# summary): what the index says in the cell, and why both can be right once, below.
INDEX_SAYS = "The index (EII) says"
WHY_NOTE = (
    "Where a questionnaire and the index differ, both can be right: a questionnaire asks "
    "the partner about the whole relationship, the index rates eight items at each "
    "session, each with its own margin of error."
)


def index_says(name: str, questionnaire: ChangeResult, index: ChangeResult | None) -> str | None:
    """'The index (EII) says Riley is about the same as at intake', only where the
    questionnaire's result and the index's disagree (both judged)."""
    if index is None or questionnaire.status is None or index.status is None:
        return None
    if questionnaire.status is index.status:
        return None
    return f"{INDEX_SAYS} {name} is {_SHORT[index.status]}"


def why_they_differ(
    instrument: str,
    name: str,
    questionnaire: ChangeResult,
    index: ChangeResult | None,
) -> str | None:
    """One sentence, only where a questionnaire's result and the index's disagree for
    this partner: what the index says, and why both can be right. None when they agree
    or either is not judged."""
    says = index_says(name, questionnaire, index)
    if says is None or index is None:
        return None
    return (
        f"{says}; both can be right: the "
        f"{instrument} asks {name} about the whole relationship, the index rates eight "
        "intimacy items, and each has its own margin of error (a real change: "
        f"{_margin(questionnaire)} on the {instrument}, {_margin(index)} on the index)."
    )


def _total(value: float) -> str:
    """A questionnaire total as entered: 16, not 16.0; 25.5 stays 25.5."""
    return str(int(value)) if float(value).is_integer() else as_written(value)


def statistics_of(instrument: str, name: str, change: ChangeResult) -> str:
    """The line behind a questionnaire result: 'CSI-4, Riley: reliable deterioration
    (RCI −3.3); 16 → 10'."""
    return (
        f"{instrument}, {name}: {change.describe()}; "
        f"{_total(change.baseline)} → {_total(change.latest)}"
    )
