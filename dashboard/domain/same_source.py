"""Like with like: a partner's change compares ratings from one source (DOMAIN.md, Scoring).

A rating has a source: "counselor" (typed in the session form) or "self" (the partner's
own check-in answer). A counselor's reading of a partner and the partner's own answers
are different measurements, so a change from a counselor-rated baseline to a self-rated
latest rating is not a change of the partner. The rule, per partner and measure (EII and
each instrument):

1. Take the source of the partner's latest rating. With at least 2 ratings from it, judge
   its first against its latest (when the partner's first rating overall came from the
   other source, the status names the pair it used).
2. Otherwise, with at least 2 ratings from the other source, judge that source's first
   against its latest, and say that baseline and latest are not comparable yet.
3. Otherwise no same-source pair exists: not yet measurable, and say why.

A partner-session's EII takes one source (`eii_source`): "self" when the partner's own
answers alone make an EII (at least EII_MIN_ITEMS of the eight items), otherwise
"counselor". A session's items can mix sources only when the counselor changes or adds
items beside a check-in's answers; then the EII is the partner's own view only if their
own answers would have made it by themselves. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from dashboard.domain.catalog import INDICATORS

COUNSELOR = "counselor"
SELF = "self"
SOURCES: tuple[str, ...] = (COUNSELOR, SELF)
EII_MIN_ITEMS = 6  # scoring.EII_MIN_ITEMS (not imported: scoring imports this module)


def eii_source(item_sources: Mapping[str, str]) -> str | None:
    """The source of a partner's EII at one session from its items' sources (item ->
    source, rated items only): None when there is no EII (fewer than 6 catalogue items),
    "self" when at least 6 of them are the partner's own answers, else "counselor"."""
    rated = [item_sources[i.key] for i in INDICATORS if i.key in item_sources]
    if len(rated) < EII_MIN_ITEMS:
        return None
    return SELF if rated.count(SELF) >= EII_MIN_ITEMS else COUNSELOR


@dataclass(frozen=True)
class SourcePair:
    """Which two of a partner's ratings are compared, and from which source.

    `first` / `last` index the partner's rated values (in order); None with no
    same-source pair. `first_source` / `latest_source` are the sources of the partner's
    first and latest ratings overall.
    """

    source: str | None
    first: int | None
    last: int | None
    first_source: str
    latest_source: str

    @property
    def across(self) -> bool:
        """Baseline and latest rating came from different sources."""
        return self.first_source != self.latest_source


def same_source_pair(sources: Sequence[str]) -> SourcePair:
    """The rule of the module docstring over a partner's rated values' sources (in order,
    at least one)."""
    latest = sources[-1]
    other = SELF if latest == COUNSELOR else COUNSELOR
    for source in (latest, other):
        at = [i for i, s in enumerate(sources) if s == source]
        if len(at) >= 2:
            return SourcePair(source, at[0], at[-1], sources[0], latest)
    return SourcePair(None, None, None, sources[0], latest)


def day(when: date) -> str:
    """'3 Mar 2026', the app's date style."""
    return f"{when.day} {when:%b %Y}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st: a rating's number as said aloud."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def nth_rating(source: str, name: str, n: int) -> str:
    """Whose rating an expected course is read at: "the counselor's 3rd rating", "Sam's
    3rd own answer". The number counts that source's ratings only: a bare "rating 3"
    read like the couple's 3rd session."""
    if source == COUNSELOR:
        return f"the counselor's {ordinal(n)} rating"
    return f"{name}'s {ordinal(n)} own answer"


def first_rating(source: str) -> str:
    """The rating an expected course starts from: "first rating" (the counselor's) or
    "first own answer". Never "intake": a partner's first own answer often comes sessions
    after the couple's intake."""
    return "first rating" if source == COUNSELOR else "first own answer"


def _given_by(source: str, name: str) -> str:
    return "rated by the counselor" if source == COUNSELOR else f"given in {name}'s own check-in"


def whose_ratings(source: str, name: str) -> str:
    """ "the counselor's ratings" / "Sam's own ratings": a source, said of one partner."""
    return "the counselor's ratings" if source == COUNSELOR else f"{name}'s own ratings"


def source_note(pair: SourcePair | None, name: str, dates: tuple[date, date] | None) -> str:
    """What a status must say about sources, '' when baseline and latest share one.

    e.g. 'not comparable yet: baseline rated by the counselor, latest given in Priya's
    own check-in; judged on the counselor's ratings of 3 Mar 2026 to 14 Apr 2026'."""
    if pair is None or (not pair.across and pair.source == pair.latest_source):
        return ""
    judged = ""
    if pair.source is not None and dates is not None:
        judged = (
            f"judged on {whose_ratings(pair.source, name)} of {day(dates[0])} to {day(dates[1])}"
        )
    if pair.source == pair.latest_source:  # the latest rating is in the pair
        return f"{judged} (the baseline was {_given_by(pair.first_source, name)})"
    apart = (
        f"not comparable yet: baseline {_given_by(pair.first_source, name)}, "
        f"latest {_given_by(pair.latest_source, name)}"
    )
    return f"{apart}; {judged}" if judged else apart
