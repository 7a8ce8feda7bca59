"""k-anonymity for the research extract: generalise the quasi-identifiers, then suppress.

A couple's quasi-identifiers are what someone could know about it without its scores:
when its sessions fell (weeks since intake), how long its course ran, how many sessions
were held, who attended, its status and closing reason. Anyone holding the clinic's
records (or the couple's diary) knows them, so each couple's whole released record,
scores aside, must look like at least k-1 other couples' records: then no one can pick
the couple out of fewer than k without knowing its scores.

What a couple's record shows, scores aside (its `signature`): status, closing reason,
course length band, held-session band, and its measurement points: which week bands
have one, whose ratings each carries, and which instruments' totals (which instruments
a couple is given can tell who its counselor is). A point is one session's record, chosen by a
published rule (points_of), so its existence and its partners are the only things it
tells about attendance and dates.

Levels are applied to every couple alike (chosen by choose_levels: the least
generalisation that leaves at most MAX_WITHHELD_SHARE of the couples in classes below
k); a couple still in a smaller class has every quasi-identifier withheld and only the
coarsest points; a class of those still below k is left out. Pure: plain values in and out.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WITHHELD = "withheld"
NOT_CLOSED = ""  # closing reason of a couple that is not closed
NO_SESSION = "none held"
OPEN, CLOSED = "open", "closed"

# Band edges (lower bounds) in whole weeks since intake; level 0 is the finest. The
# first band is the intake (weeks 0-2); the last level keeps only intake and later.
WEEK_EDGES: tuple[tuple[int, ...], ...] = (
    (0, 3, 6, 12, 26, 52),
    (0, 3, 12, 26),
    (0, 3, 26),
    (0, 3),
)
# Held sessions, level 0 finest; the level after the last withholds the count.
SESSION_EDGES: tuple[tuple[int, ...], ...] = ((0, 1, 2, 4, 8, 16), (0, 1, 4, 12), (0, 4))
COURSE_LEVELS = len(WEEK_EDGES) - 1  # course length: bands of WEEK_EDGES[0..2], then withheld
STATUS_LEVELS = ("status and closing reason", "status", "open or closed", WITHHELD)
# At most this share of couples may sit in classes below k at the chosen levels (they
# are withheld, or left out): more generalisation is chosen before more suppression.
MAX_WITHHELD_SHARE = 0.05


@dataclass(frozen=True)
class Rated:
    """A session with at least one partner's EII: a candidate measurement point."""

    session_id: int
    weeks: int  # whole weeks from intake to the session (a session before intake: 0)
    a: bool  # partner A's EII is present
    b: bool
    # (partner, instrument) totals recorded at the session: which instruments a couple
    # is given can tell who its counselor is, so their presence is a quasi-identifier.
    instruments: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Course:
    """What anyone with the clinic's records knows about a couple, scores aside."""

    status: str
    closing_reason: str | None
    course_weeks: int | None  # intake to the last held session; None: none held
    sessions_held: int
    rated: tuple[Rated, ...]  # in session order


@dataclass(frozen=True)
class Levels:
    """One generalisation level per quasi-identifier (0 = as recorded, finest bands)."""

    status: int
    course: int
    sessions: int
    points: int
    instruments: int = 0  # 0: totals released at the points; 1: withheld for every couple

    @property
    def height(self) -> int:
        return self.status + self.course + self.sessions + self.points + self.instruments


@dataclass(frozen=True)
class Point:
    band: int  # index into WEEK_EDGES[level]
    label: str
    weeks_from: int
    weeks_to: int | None  # None: open-ended
    session_id: int
    a: bool
    b: bool
    instruments: tuple[tuple[str, str], ...] = ()  # (partner, code) released at this point

    @property
    def shape(self) -> tuple[str, bool, bool, tuple[tuple[str, str], ...]]:
        """What the point shows, scores aside."""
        return (self.label, self.a, self.b, self.instruments)


@dataclass(frozen=True)
class Released:
    """One couple as released: its generalised fields, its points, and whether its
    quasi-identifiers were withheld (it sat in a class below k)."""

    index: int  # position in the input
    status: str
    closing_reason: str
    course: str
    sessions: str
    points: tuple[Point, ...]
    withheld: bool

    @property
    def signature(self) -> tuple[object, ...]:
        return signature(
            self.status,
            self.closing_reason,
            self.course,
            self.sessions,
            [p.shape for p in self.points],
        )


def signature(
    status: str,
    closing_reason: str,
    course: str,
    sessions: str,
    points: Sequence[tuple[str, bool, bool, tuple[tuple[str, str], ...]]],
) -> tuple[object, ...]:
    """A couple's record with its scores left out: what an attacker could compare."""
    return (status, closing_reason, course, sessions, tuple(sorted(points)))


def week_label(edges: Sequence[int], band: int, *, point: bool = True) -> str:
    """'weeks 3–5', 'week 52 on'; a point's first band is the intake."""
    low = edges[band]
    if band == 0 and point:
        return f"intake (weeks 0–{edges[1] - 1})" if len(edges) > 1 else "intake"
    if band == len(edges) - 1:
        return f"week {low} on"
    return f"weeks {low}–{edges[band + 1] - 1}"


def count_label(edges: Sequence[int], value: int) -> str:
    """'0', '1', '2–3', '16 or more'."""
    band = band_of(edges, value)
    low = edges[band]
    if band == len(edges) - 1:
        return f"{low} or more"
    high = edges[band + 1] - 1
    return str(low) if low == high else f"{low}–{high}"


def band_of(edges: Sequence[int], value: int) -> int:
    """The band holding `value`: edges[i] <= value < edges[i+1] (lower bound inclusive)."""
    return bisect.bisect_right(edges, max(value, 0)) - 1


def status_cells(course: Course, level: int) -> tuple[str, str]:
    """(status, closing reason) at a level: reason code, then 'withheld', then open/closed."""
    closed = course.status == CLOSED
    if level >= 3:
        return WITHHELD, WITHHELD
    if level == 2:
        return (CLOSED if closed else OPEN), (WITHHELD if closed else NOT_CLOSED)
    reason = (course.closing_reason or "") if level == 0 else WITHHELD
    return course.status, (reason if closed else NOT_CLOSED)


def course_cell(course: Course, level: int) -> str:
    if level >= COURSE_LEVELS:
        return WITHHELD
    if course.course_weeks is None:
        return NO_SESSION
    edges = WEEK_EDGES[level]
    return week_label(edges, band_of(edges, course.course_weeks), point=False)


def sessions_cell(course: Course, level: int) -> str:
    if level >= len(SESSION_EDGES):
        return WITHHELD
    return count_label(SESSION_EDGES[level], course.sessions_held)


def points_of(course: Course, level: int, instruments: int = 0) -> tuple[Point, ...]:
    """One point per week band that has a rated session: at the intake band its first
    rated session, at every later band its last; a session with both partners rated
    is preferred to one with a single partner. Its instrument totals (instruments level
    0) are those of partners with an EII there."""
    edges = WEEK_EDGES[level]
    bands: dict[int, list[Rated]] = {}
    for r in course.rated:
        bands.setdefault(band_of(edges, r.weeks), []).append(r)
    points = []
    for band, rated in sorted(bands.items()):
        both = [r for r in rated if r.a and r.b] or rated
        chosen = both[0] if band == 0 else both[-1]
        points.append(
            Point(
                band=band,
                label=week_label(edges, band),
                weeks_from=edges[band],
                weeks_to=edges[band + 1] - 1 if band + 1 < len(edges) else None,
                session_id=chosen.session_id,
                a=chosen.a,
                b=chosen.b,
                instruments=()
                if instruments
                else tuple(
                    sorted(
                        (partner, code)
                        for partner, code in chosen.instruments
                        if (chosen.a if partner == "A" else chosen.b)
                    )
                ),
            )
        )
    return tuple(points)


def _generalised(course: Course, index: int, levels: Levels, withheld: bool) -> Released:
    status, reason = status_cells(course, levels.status)
    return Released(
        index=index,
        status=status,
        closing_reason=reason,
        course=course_cell(course, levels.course),
        sessions=sessions_cell(course, levels.sessions),
        points=points_of(course, levels.points, levels.instruments),
        withheld=withheld,
    )


ALL_LEVELS = tuple(
    Levels(*node)
    for node in itertools.product(
        range(len(STATUS_LEVELS)),
        range(COURSE_LEVELS + 1),
        range(len(SESSION_EDGES) + 1),
        range(len(WEEK_EDGES)),
        range(2),
    )
)
MOST_GENERAL = Levels(
    len(STATUS_LEVELS) - 1, COURSE_LEVELS, len(SESSION_EDGES), len(WEEK_EDGES) - 1, 1
)


def _codes(cells: Sequence[object]) -> np.ndarray:
    """Cells as small integers, equal cells equal codes (signatures compared as numbers)."""
    seen: dict[object, int] = {}
    return np.fromiter((seen.setdefault(c, len(seen)) for c in cells), np.int64, len(cells))


def _cells(courses: Sequence[Course]) -> tuple[list, ...]:
    """Each quasi-identifier's cell for every couple at every level, worked out once and
    coded as integers (a clinic of thousands of couples is judged at every one of
    ALL_LEVELS: 15,000 synthetic couples took 4 s here, where tuples took 22)."""
    status = [_codes([status_cells(c, lv) for c in courses]) for lv in range(len(STATUS_LEVELS))]
    course = [_codes([course_cell(c, lv) for c in courses]) for lv in range(COURSE_LEVELS + 1)]
    sessions = [
        _codes([sessions_cell(c, lv) for c in courses]) for lv in range(len(SESSION_EDGES) + 1)
    ]
    points = [
        [
            _codes([tuple(sorted(p.shape for p in points_of(c, lv, given))) for c in courses])
            for given in range(2)
        ]
        for lv in range(len(WEEK_EDGES))
    ]
    return status, course, sessions, points


def _below_k(cells: tuple[list, ...], levels: Levels, k: int) -> int:
    status, course, sessions, points = cells
    parts = (
        status[levels.status],
        course[levels.course],
        sessions[levels.sessions],
        points[levels.points][levels.instruments],
    )
    if len(parts[0]) == 0:
        return 0
    key = np.zeros(len(parts[0]), dtype=np.int64)
    for codes in parts:  # one number per combination (mixed radix): no overflow below 2^63
        key = key * (int(codes.max()) + 1) + codes
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return int((counts[inverse] < k).sum())


def below_k(courses: Sequence[Course], levels: Levels, k: int) -> int:
    """How many couples sit in classes smaller than k at these levels."""
    return _below_k(_cells(courses), levels, k)


def choose_levels(
    courses: Sequence[Course], k: int, max_share: float = MAX_WITHHELD_SHARE
) -> Levels:
    """The least generalisation (lowest total level) leaving at most `max_share` of the
    couples below k; among equals, the fewest below k, then the finest time (points,
    course) before the finest counts and status. None meets it: the fewest below k."""
    allowed = int(max_share * len(courses))
    cells = _cells(courses)
    scored = [(_below_k(cells, levels, k), levels) for levels in ALL_LEVELS]
    within = [
        (levels.height, n, _preference(levels), levels) for n, levels in scored if n <= allowed
    ]
    if within:
        return min(within)[-1]
    return min((n, levels.height, _preference(levels), levels) for n, levels in scored)[-1]


def _preference(levels: Levels) -> tuple[int, ...]:
    return (levels.points, levels.course, levels.sessions, levels.status, levels.instruments)


@dataclass(frozen=True)
class Anonymised:
    k: int
    levels: Levels
    released: tuple[Released, ...]  # in input order
    withheld: int  # released with every quasi-identifier withheld
    left_out: int  # in a class below k even so: not released

    def class_sizes(self) -> Counter[tuple[object, ...]]:
        return Counter(r.signature for r in self.released)


def anonymise(courses: Sequence[Course], k: int, levels: Levels | None = None) -> Anonymised:
    """Generalise every couple at one set of levels, withhold the quasi-identifiers of
    couples still in classes below k (keeping only their coarsest points), and leave
    out any couple whose class is below k even then."""
    if k < 2:
        raise ValueError(f"k must be at least 2, not {k}")
    levels = levels or choose_levels(courses, k)
    first = [_generalised(c, i, levels, False) for i, c in enumerate(courses)]
    sizes = Counter(r.signature for r in first)
    candidates = [
        r
        if sizes[r.signature] >= k
        else _generalised(courses[r.index], r.index, MOST_GENERAL, True)
        for r in first
    ]
    final = Counter(r.signature for r in candidates)
    released = tuple(r for r in candidates if final[r.signature] >= k)
    return Anonymised(
        k=k,
        levels=levels,
        released=released,
        withheld=sum(r.withheld for r in released),
        left_out=len(courses) - len(released),
    )


def unique_share(signatures: Sequence[tuple[object, ...]]) -> float:
    """Share of records whose signature no other record shares (0 when empty)."""
    if not signatures:
        return 0.0
    sizes = Counter(signatures)
    return sum(1 for s in signatures if sizes[s] == 1) / len(signatures)
