"""Expected courses as published versions (issue 22, point 1): the label every alert
carries, what a stored row stands for, and what a new version would change.

The expected course is fitted from the clinic's own couples (domain/expected_response.py)
and published like the clinic norms, never drifted into: an alert made today and one made
next month agree unless a version was published in between, and each names the version it
used and what it is for each source ("expected course v2 of 6 Dec 2026: counselor ratings
from 812 couples; partners' own answers: rational fallback (10 couples of the 100
needed)"), or the rational fallback and why. A partner's band names only the source it
follows (`source_label`): a band from the fallback never reads as the clinic's own course.
Pure: models and counts in, labels, rows and counts out; services/expected.py reads and
writes the rows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd

from dashboard.domain import expected_response as er
from dashboard.domain.norms import day_label as day_label  # re-exported for labels
from dashboard.domain.numbers import one_decimal
from dashboard.domain.same_source import COUNSELOR, SELF, SOURCES

EII = "eii"  # the measure key of the EII; instruments use their definition's key
VERSION_PREFIX = "expected course v"  # every version's label starts with it
FALLBACK_CITATION = "rational fallback: no change expected (Jacobson & Truax 1991)"
SOURCE_WORDS = {COUNSELOR: "counselor ratings", SELF: "partners' own answers"}
# The same, short enough for a table column that must fit 800 px with the changes beside.
SOURCE_SHORT = {COUNSELOR: "counselor", SELF: "own answers"}
# The rating whose expected change the Admin page shows: by the 4th rating a third of
# couples have stopped (issue 22), so it is where an early warning must already work.
PREVIEW_RATING = 4


def _couples(n: int) -> str:
    return f"{n} couple" if n == 1 else f"{n} couples"


def version_name(version: int, published_at: date | datetime) -> str:
    """'expected course v2 of 6 Dec 2026': the name every label of a version starts with."""
    return f"{VERSION_PREFIX}{version} of {day_label(published_at)}"


def _source_part(model: er.ExpectedModel, source: str) -> str:
    """What a version's course is for one source: "counselor ratings from 812 couples",
    or "partners' own answers: rational fallback (10 couples of the 100 needed)"."""
    curves = model.curves[source]
    words = SOURCE_WORDS[source]
    if curves.method == er.CLINIC:
        return f"{words} from {_couples(curves.couples)}"
    return (
        f"{words}: rational fallback ({_couples(curves.couples)} of the {model.min_couples} needed)"
    )


def source_label(model: er.ExpectedModel, source: str) -> str:
    """The label of one partner's band, judged on `source`: the version and that source's
    course only, so a band from the fallback never names the other source's clinic course
    or its couples. A label that is the same for every source (before v1, a measure
    outside the version, a version that is the fallback for every source) is returned
    whole."""
    name, colon, _ = model.label.partition(": ")
    if source not in model.curves or not colon or not name.startswith(VERSION_PREFIX):
        return model.label
    return f"{name}: {_source_part(model, source)}"


def _two_ratings(counts: Mapping[str, int], scale: str) -> str:
    """'41 couples with two counselor ratings' (and the own answers' count when any)."""
    what = "ratings" if scale == "EII" else f"{scale} totals"
    text = f"{_couples(counts.get(COUNSELOR, 0))} with two counselor {what}"
    own = counts.get(SELF, 0)
    if own:
        text += f" ({own} with two of their own answers)"
    return text


def fallback_label(counts: Mapping[str, int], scale: str = "EII") -> str:
    """Before any version: 'rational fallback: no change expected (Jacobson & Truax 1991);
    41 couples with two counselor ratings, 100 needed for the clinic's own course'."""
    return (
        f"{FALLBACK_CITATION}; {_two_ratings(counts, scale)}, {er.MIN_COUPLES} needed for "
        "the clinic's own course"
    )


def published_label(
    model: er.ExpectedModel, version: int, published_at: date | datetime, scale: str
) -> str:
    """A version's label for one measure: the version and each source's course ("expected
    course v1 of 6 Dec 2026: counselor ratings from 300 couples; partners' own answers:
    rational fallback (10 couples of the 100 needed)"), or, where no source of the measure
    had enough couples when it was published, the fallback it stores and why."""
    if all(model.uses_fallback(s) for s in SOURCES):
        counts = {s: c.couples for s, c in model.curves.items()}
        return (
            f"rational fallback (expected course v{version} of {day_label(published_at)}): "
            f"no change expected (Jacobson & Truax 1991); {_two_ratings(counts, scale)}, "
            f"{model.min_couples} needed for the clinic's own course"
        )
    parts = [_source_part(model, s) for s in SOURCES if s in model.curves]
    return f"{version_name(version, published_at)}: " + "; ".join(parts)


def undated(model: er.ExpectedModel) -> er.ExpectedModel:
    """The same model, its version named without its day ('expected course v2: counselor
    ratings from 812 couples'): for the research extract, which carries no calendar dates."""
    return model.with_label(re.sub(r" of \d+ \w+ \d{4}", "", model.label))


def fallback_norms(norms_version: int | None) -> str:
    """Which clinic norms a version's fallback bands (S_diff) were taken from: they stay
    with the version, as its fitted courses do, until the next publish."""
    if norms_version is None:
        return "its fallback bands from the documented default norms"
    return f"its fallback bands from clinic norms v{norms_version}"


def no_course_label(scale: str) -> str:
    """A measure with no reliable-change value (the SRS) has no band to build a course on."""
    return f"no expected course: {scale} has no reliable-change value"


def methods_json(model: er.ExpectedModel) -> str:
    """The stored `method` column: per source, "clinic" or "fallback"."""
    return json.dumps({s: c.method for s, c in sorted(model.curves.items())}, sort_keys=True)


def couples_behind(course_rows: pd.DataFrame) -> int:
    """Couples with a second rating from some source: the couples a fit rests on."""
    later = course_rows[course_rows["session"] >= 2]
    return int(later["couple_id"].nunique())


def with_counts(model: er.ExpectedModel, counts: Mapping[str, int]) -> er.ExpectedModel:
    """A fallback model that says how many couples have a course so far (its "How is this
    calculated?" words count them), without reading the courses themselves."""
    curves = {s: replace(c, couples=counts.get(s, 0)) for s, c in model.curves.items()}
    return replace(model, curves=curves)


def has_clinic_course(model: er.ExpectedModel) -> bool:
    """True when some source's course is the clinic's own (not the fallback)."""
    return any(not model.uses_fallback(s) for s in model.curves)


@dataclass(frozen=True)
class StoredCourse:
    """One measure's row of a published version (names resolved, model parsed)."""

    measure: str
    version: int
    computed_at: datetime | None
    published_at: datetime
    published_by: str | None  # a name; None: published automatically
    couples: int
    norms_version: int | None
    model: er.ExpectedModel  # labelled with the row's label
    row_id: int = 0


# --- What a new version would change ----------------------------------------------


def alert_moves(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, int]]:
    """Couples whose alert differs between two caseload_alerts frames (the same couples
    judged with the course in use and the candidate): ('On course → Below expected', 12)
    per direction, most couples first."""
    joined = pd.concat(
        [before["alert"].rename("before"), after["alert"].rename("after")], axis=1
    ).fillna(er.Alert.NO_DATA)
    moves: Counter[str] = Counter()
    for old, new in zip(joined["before"], joined["after"], strict=True):
        if old != new:
            moves[f"{_capital(old)} → {_capital(new)}"] += 1
    return sorted(moves.items(), key=lambda item: (-item[1], item[0]))


def _capital(alert: str) -> str:
    text = str(alert)
    return text[:1].upper() + text[1:]


def moves_sentence(moves: list[tuple[str, int]]) -> str:
    """'On course → Below expected: 12 couples; …', or that no couple's alert would move."""
    if not moves:
        return "No couple's alert would change."
    return "; ".join(f"{move}: {_couples(n)}" for move, n in moves)


def intake_levels(course_rows: pd.DataFrame, source: str) -> tuple[float, float, float] | None:
    """A low, middle and high intake of one source: the 25th, 50th and 75th percentiles
    of the clinic's intakes from it (None without any)."""
    first = course_rows[(course_rows["source"] == source) & (course_rows["session"] == 1)]
    if first.empty:
        return None
    low, mid, high = first["score"].quantile([0.25, 0.5, 0.75]).to_numpy()
    return float(low), float(mid), float(high)


def _change(model: er.ExpectedModel, source: str, intake: float) -> str:
    band = model.band(source, intake, PREVIEW_RATING)
    if band is None:
        return "—"
    change = band.p50 - intake
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{one_decimal(abs(change))} (from {one_decimal(intake)})"


LEVEL_COLUMNS = ("Low intake", "Middle intake", "High intake")


def summary_rows(
    model: er.ExpectedModel, scale: str, course_rows: pd.DataFrame | None
) -> list[dict[str, str]]:
    """One row per source of a measure, as the Admin page's table shows it: the method,
    the couples behind it and, given the clinic's courses, the median expected change by
    rating 4 for a low, middle and high intake (its 25th, 50th and 75th percentile)."""
    rows = []
    for source in SOURCES:
        curves = model.curves.get(source)
        if curves is None:
            continue
        row = {
            "Measure": scale,
            "Rated by": SOURCE_SHORT[source],
            "Course": "clinic's own" if curves.method == er.CLINIC else "fallback",
            "Couples": str(curves.couples),
        }
        if course_rows is None:
            rows.append(row)
            continue
        levels = intake_levels(course_rows, source) or (None, None, None)
        for column, intake in zip(LEVEL_COLUMNS, levels, strict=True):
            row[column] = "—" if intake is None else _change(model, source, intake)
        rows.append(row)
    return rows


def without_empty(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    """The table's rows less those of a source no couple has two ratings from yet, and a
    sentence naming them ('' when none): a row of zeros per unused questionnaire would
    bury the rows that say something."""
    kept = [r for r in rows if r["Couples"] != "0" or r["Course"] != "fallback"]
    empty: dict[str, list[str]] = {}
    for r in rows:
        if r not in kept:
            empty.setdefault(r["Measure"], []).append(r["Rated by"])
    if not empty:
        return kept, ""
    names = []
    for measure, sources in empty.items():
        names.append(measure if len(sources) == len(SOURCES) else f"{measure} ({sources[0]})")
    return kept, (
        "No couple has two ratings yet from: " + ", ".join(names) + "; the rational fallback "
        "is used there."
    )
