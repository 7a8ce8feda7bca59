"""Expected response: where a partner is expected to be at each rating, given where they
started, learned from the clinic's own couples (issue 22). Pure.

Why: the trajectory rules flag a couple only once a partner has reliably deteriorated or
after 8 sessions without improvement, too late for the third of couples who stop after
1-3 sessions. Feedback systems with the best evidence compare each client from the second
session on with the course of clients who started where they started.

The method ("intake-group percentiles by rating", nearest neighbours in intake and time):
- A course is one partner's ratings from one source (counselor ratings and the partner's
  own check-in answers are different measurements: same_source.py), numbered 1, 2, ...
  within that source; rating 1 is the course's intake. Sources are modelled apart.
- Courses are put in up to MAX_GROUPS groups by intake score (quantile groups, at least
  GROUP_MIN_COURSES courses each), as the OQ system's expected recovery curves are made
  per intake-severity group (Finch, Lambert & Schaalje 2001, Clinical Psychology &
  Psychotherapy 8:231-242).
- In each group, at each rating k from 2 to MAX_SESSION, the 10th, 25th, 50th and 75th
  percentiles of change since intake are taken over the group's ratings k (or k-1, k and
  k+1 when fewer than ONE_RATING_ENOUGH courses reach k), the empirical nearest-neighbour expected course of Lutz
  et al. 2006 (Clinical Psychology & Psychotherapy 13:223-232) with neighbours chosen by
  intake group and rating rather than one by one. A rating reached by fewer than
  MIN_AT_RATING courses keeps the previous rating's percentiles; ratings after
  MAX_SESSION are judged against MAX_SESSION's. Between groups the percentiles are
  interpolated linearly by intake score (flat beyond the outermost groups' medians).
  A straight line in log(session) (Finch et al.) was tried first and missed this
  clinic's curves by up to 8 points at rating 2 and 6-8 points at ratings 6-8, because
  change here speeds up late in a course; the empirical percentiles follow any shape.
- No percentile sits further below intake than the reliable-change line (RELIABLE_Z ·
  S_diff, the line scoring.classify_change uses): where many of a group's couples decline
  (high intakes), the plain percentiles would call a reliable deterioration "on course",
  and one page would say a partner both reliably deteriorated and is on course.
- Partners of one couple are not independent: both partners' courses enter the
  percentiles (each describes one partner), but the minimum that decides whether the
  clinic's data is enough counts couples, not partners (MIN_COUPLES), and a couple's
  alert takes its worse partner and says which.
- Below MIN_COUPLES couples with a second rating from a source, the rational fallback
  is used for that source: no change expected, bands = the measurement error of an
  unchanged score (S_diff from the clinic norms, Jacobson & Truax 1991, J Consult Clin
  Psychol 59:12-19): the 10th percentile at intake - 1.2816·S_diff, the 25th at
  intake - 0.6745·S_diff. The model says which is in use (`uses_fallback`, `method_text`).

Alerts (`alert`), per partner at a rating from 2 on: "well below expected" strictly
under the 10th percentile, "below expected" strictly under the 25th, else "on course";
a score exactly on a percentile is on that percentile's better side (LINE_TOLERANCE as in
scoring.py). The 25th and 10th percentiles are this product's choice (the issue's
example; OQ-style feedback warns on the lower tail of the expected course) and are
checked on held-out couples by bench/bench_expected_response.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dashboard.domain.numbers import one_decimal
from dashboard.domain.same_source import COUNSELOR, SELF, SOURCES, same_source_pair

if TYPE_CHECKING:
    from dashboard.domain.scoring import SessionPoint

QUANTILES: tuple[float, ...] = (0.10, 0.25, 0.50, 0.75)
# Standard normal quantiles of QUANTILES, for the rational fallback (no change expected).
NORMAL_Z: tuple[float, ...] = (-1.2816, -0.6745, 0.0, 0.6745)
MIN_COUPLES = 100  # couples with a 2nd rating from a source before its own course is used
MAX_GROUPS = 10  # intake groups at most
GROUP_MIN_COURSES = 100  # courses (partners) per intake group at least
ONE_RATING_ENOUGH = 50  # ratings at k alone that make k's percentiles; else k-1..k+1
MIN_AT_RATING = 20  # ratings (k-1..k+1) before a rating has its own percentiles
MAX_SESSION = 20  # ratings beyond this are judged against the 20th rating's percentiles
LINE_TOLERANCE = 1e-9  # scoring.LINE_TOLERANCE: float noise is not a difference
RELIABLE_Z = 1.96  # scoring.RELIABLE_Z (not imported: scoring imports this module)
CLINIC = "clinic"
FALLBACK = "fallback"
_PARTNERS = (("a", "Partner A"), ("b", "Partner B"))


class Alert(StrEnum):
    NO_DATA = "no data yet"
    ON_COURSE = "on course"
    BELOW = "below expected"
    WELL_BELOW = "well below expected"


ALERT_RANK: dict[Alert, int] = {
    Alert.NO_DATA: 0,
    Alert.ON_COURSE: 1,
    Alert.BELOW: 2,
    Alert.WELL_BELOW: 3,
}
_BY_RANK = {rank: a for a, rank in ALERT_RANK.items()}


def worst(alerts: Iterable[Alert]) -> Alert:
    """The worse of some alerts (NO_DATA when none)."""
    return max(alerts, key=ALERT_RANK.__getitem__, default=Alert.NO_DATA)


@dataclass(frozen=True)
class Band:
    """Expected absolute scores at a partner's `session`-th rating from one source.

    pNN is the NNth percentile counted from worse to better: on a scale where lower is
    better, p10 is the higher number.
    """

    session: int
    p10: float
    p25: float
    p50: float
    p75: float


@dataclass(frozen=True)
class SourceCurves:
    """One source's fitted (or fallback) percentile curves of change since intake.

    `table[g][k - 2][q]`: change since intake at rating k (2..MAX_SESSION) for intake
    group g (median intake `centers[g]`) and quantile QUANTILES[q], in "better" points
    (the fallback has one group and the same change at every rating).
    """

    method: str  # CLINIC or FALLBACK
    couples: int  # couples with a 2nd rating from this source (behind the fit, or too few)
    courses: int  # partners' courses with a 2nd rating
    centers: tuple[float, ...]
    table: tuple[tuple[tuple[float, ...], ...], ...]
    s_diff: float | None = None  # the fallback's S_diff


@dataclass(frozen=True)
class ExpectedModel:
    """The expected course of one measure, per source; `label` names the version."""

    measure: str
    curves: dict[str, SourceCurves] = field(default_factory=dict)
    label: str = ""
    higher_is_better: bool = True
    bounds: tuple[float, float] | None = None  # the scale's ends (EII: 0-100)
    min_couples: int = MIN_COUPLES

    def with_label(self, label: str) -> ExpectedModel:
        return replace(self, label=label)

    def uses_fallback(self, source: str) -> bool:
        curves = self.curves.get(source)
        return curves is None or curves.method == FALLBACK

    def band(self, source: str, intake: float, session: int) -> Band | None:
        """The expected band at the `session`-th rating of `source` (None at rating 1,
        or with no curve for the source)."""
        bands = _bands(
            self, np.array([source], dtype=object), np.array([intake]), np.array([session])
        )
        if np.isnan(bands[0, 0]):
            return None
        return Band(int(session), *(float(v) for v in bands[0]))

    def course(self, source: str, intake: float, sessions: Sequence[int]) -> list[Band]:
        """Bands at each of `sessions` (rating numbers); ratings without one are left out."""
        n = len(sessions)
        bands = _bands(
            self,
            np.array([source] * n, dtype=object),
            np.full(n, float(intake)),
            np.asarray(sessions, dtype="int64"),
        )
        return [
            Band(int(k), *(float(v) for v in row))
            for k, row in zip(sessions, bands, strict=True)
            if not np.isnan(row[0])
        ]

    def method_text(self, source: str) -> str:
        """The "How is this calculated?" words for one source's course."""
        who = "counselor ratings" if source == COUNSELOR else "partners' own answers"
        # A course starts at its source's first rating: intake for the counselor's, often
        # weeks later for a partner's own answers; the words never call the latter intake.
        first = "the first rating" if source == COUNSELOR else "the partner's first own answer"
        curves = self.curves.get(source)
        if curves is None:
            return f"No expected course from {who}: no reliable-change value to build one."
        if curves.method == FALLBACK:
            has = "1 couple has" if curves.couples == 1 else f"{curves.couples} couples have"
            too_few = (
                f"{has} a second rating from {who}; the clinic's own course needs "
                f"{self.min_couples}"
            )
            spread = "" if curves.s_diff is None else f" (S_diff {one_decimal(curves.s_diff)})"
            return (
                f"Rational fallback: {too_few}. No change is expected; the band is the "
                f"measurement error of an unchanged score{spread}: the 25th percentile "
                f"0.67 S_diff below {first}, the 10th 1.28 S_diff below (Jacobson & Truax "
                "1991)."
            )
        return (
            f"From the clinic's own couples: {curves.couples} couples ({curves.courses} "
            f"partners) with a second rating from {who}, in {len(curves.centers)} groups by "
            f"{first} (Finch, Lambert & Schaalje 2001). At each rating the 10th, 25th, 50th "
            f"and 75th percentiles of change since {first} at that rating, or with its two "
            "neighbours where few reach it (Lutz et al. 2006), interpolated by the first "
            f"score; ratings after the {MAX_SESSION}th use the {MAX_SESSION}th. Partners of "
            f"a couple are counted as two courses; the minimum ({self.min_couples}) counts "
            "couples. The 10th and 25th percentiles never sit further below the first "
            "score than the reliable-change line, so a partner who reliably deteriorated is "
            "always well below expected. Below expected: strictly under the 25th "
            "percentile; well below: strictly under the 10th."
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "measure": self.measure,
                "label": self.label,
                "higher_is_better": self.higher_is_better,
                "bounds": list(self.bounds) if self.bounds else None,
                "min_couples": self.min_couples,
                "curves": {
                    s: {
                        "method": c.method,
                        "couples": c.couples,
                        "courses": c.courses,
                        "centers": list(c.centers),
                        "table": [[list(row) for row in g] for g in c.table],
                        "s_diff": c.s_diff,
                    }
                    for s, c in self.curves.items()
                },
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ExpectedModel:
        data: dict[str, Any] = json.loads(text)
        curves = {
            s: SourceCurves(
                c["method"],
                int(c["couples"]),
                int(c["courses"]),
                tuple(float(x) for x in c["centers"]),
                tuple(tuple(tuple(float(v) for v in row) for row in g) for g in c["table"]),
                c["s_diff"],
            )
            for s, c in data["curves"].items()
        }
        bounds = data.get("bounds")
        return cls(
            data["measure"],
            curves,
            data.get("label", ""),
            bool(data.get("higher_is_better", True)),
            None if bounds is None else (float(bounds[0]), float(bounds[1])),
            int(data.get("min_couples", MIN_COUPLES)),
        )


def _fallback_curves(s_diff: float | None, couples: int, courses: int) -> SourceCurves | None:
    if s_diff is None or not math.isfinite(s_diff):
        return None
    same = tuple(z * s_diff for z in NORMAL_Z)  # the same band at every rating
    table = (tuple(same for _ in range(2, MAX_SESSION + 1)),)
    return SourceCurves(FALLBACK, couples, courses, (0.0,), table, float(s_diff))


def fallback_model(
    measure: str,
    s_diff: float | None,
    label: str = "",
    *,
    higher_is_better: bool = True,
    bounds: tuple[float, float] | None = None,
) -> ExpectedModel:
    """The rational fallback for every source (no clinic data used)."""
    curves = {s: c for s in SOURCES if (c := _fallback_curves(s_diff, 0, 0)) is not None}
    return ExpectedModel(measure, curves, label, higher_is_better, bounds)


# --- courses ---------------------------------------------------------------------------

COURSE_COLUMNS = ["couple_id", "partner", "source", "session", "score", "intake", "session_date"]


def courses(sessions: pd.DataFrame) -> pd.DataFrame:
    """One row per partner rating, numbered within its source (see the module docstring).

    `sessions`: the caseload-shaped frame (domain/outcomes.py input) in (couple_id,
    session_date, session_id) order; `source_a`/`source_b` optional ("counselor").
    """
    parts = []
    for key, _ in _PARTNERS:
        score = sessions[f"eii_{key}"].astype("float64")
        rated = score.notna()
        column = f"source_{key}"
        # numpy object arrays: pandas' string columns make every later step ~10x slower.
        if column in sessions.columns:
            given = sessions[column].to_numpy(dtype=object)
            source = np.where(pd.isna(given), COUNSELOR, given)
        else:
            source = np.full(len(sessions), COUNSELOR, dtype=object)
        part = pd.DataFrame(
            {
                "couple_id": sessions.loc[rated, "couple_id"].to_numpy(),
                "partner": pd.Series([key] * int(rated.sum()), dtype=object),
                "source": pd.Series(source[rated.to_numpy()], dtype=object),
                "score": score[rated].to_numpy(),
                "session_date": sessions.loc[rated, "session_date"].to_numpy(),
            }
        )
        parts.append(part)
    # Partner A's ratings, then B's, each in session order (no sort needed: groupby keeps it).
    rows = pd.concat(parts, ignore_index=True)
    grouped = rows.groupby(["couple_id", "partner", "source"], sort=False)
    rows["session"] = grouped.cumcount().astype("int64") + 1
    rows["intake"] = grouped["score"].transform("first")
    return rows[COURSE_COLUMNS].reset_index(drop=True)


# --- fitting ---------------------------------------------------------------------------


def fit(
    course_rows: pd.DataFrame,
    *,
    measure: str,
    fallback_s_diff: float | None,
    min_couples: int = MIN_COUPLES,
    higher_is_better: bool = True,
    bounds: tuple[float, float] | None = None,
) -> ExpectedModel:
    """Fit each source's curves from `course_rows` (courses()'s columns), or fall back.

    `fallback_s_diff` is the norms' S_diff (an instrument with a published threshold:
    threshold / 1.96): the fallback's spread, and 1.96 of it the reliable-change line no
    fitted percentile falls under."""
    sign = 1.0 if higher_is_better else -1.0
    curves: dict[str, SourceCurves] = {}
    for source in SOURCES:
        rows = course_rows[course_rows["source"] == source]
        later = rows[rows["session"] >= 2]
        couples = int(later["couple_id"].nunique())
        course_keys = later[["couple_id", "partner"]].drop_duplicates()
        n_courses = len(course_keys)
        if couples < min_couples:
            fallback = _fallback_curves(fallback_s_diff, couples, n_courses)
            if fallback is not None:
                curves[source] = fallback
            continue
        floor = None if fallback_s_diff is None else -RELIABLE_Z * fallback_s_diff
        curves[source] = _fit_source(later, couples, n_courses, sign, floor)
    return ExpectedModel(measure, curves, "", higher_is_better, bounds, min_couples)


def _fit_source(
    later: pd.DataFrame, couples: int, n_courses: int, sign: float, floor: float | None
) -> SourceCurves:
    """One source's table; `floor` (better points, e.g. -1.96·S_diff) is the lowest change
    a percentile may sit at, so a reliable deterioration is always under the 10th."""
    intake = later.groupby(["couple_id", "partner"])["intake"].first()  # sorted: ties reproducible
    groups = int(min(MAX_GROUPS, max(1, len(intake) // GROUP_MIN_COURSES)))
    # Quantile groups of intake; ties at an edge go to one group (rank first).
    group_of = pd.Series(
        np.minimum((intake.rank(method="first") - 1) * groups // len(intake), groups - 1).astype(
            "int64"
        ),
        index=intake.index,
    )
    centers = intake.groupby(group_of).median().sort_index()
    frame = later.join(group_of.rename("group"), on=["couple_id", "partner"])
    change = (sign * (frame["score"] - frame["intake"])).to_numpy()
    k = np.minimum(frame["session"].to_numpy(), MAX_SESSION + 1)
    group = frame["group"].to_numpy()
    table = []
    for g in range(groups):
        mine_k, mine = k[group == g], change[group == g]
        rows: list[tuple[float, ...]] = []
        for at in range(2, MAX_SESSION + 1):
            near = mine[mine_k == at]
            if len(near) < ONE_RATING_ENOUGH:  # too few at this rating: add its neighbours
                near = mine[(mine_k >= at - 1) & (mine_k <= at + 1)]
            if len(near) >= MIN_AT_RATING or not rows:
                rows.append(tuple(float(v) for v in np.quantile(near, QUANTILES)))
            else:
                rows.append(rows[-1])
        table.append(rows)
    values = np.asarray(table)  # groups × ratings × quantiles
    if floor is not None:
        values = np.maximum(values, floor)
    # Groups sharing a median (ties on an integer scale) are one group: interpolating
    # between equal medians would divide by zero.
    medians = centers.to_numpy()
    unique = np.unique(medians)
    merged = np.stack([values[medians == m].mean(axis=0) for m in unique])
    return SourceCurves(
        CLINIC,
        couples,
        n_courses,
        tuple(float(c) for c in unique),
        tuple(tuple(tuple(float(v) for v in row) for row in g) for g in merged),
    )


def _bands(
    model: ExpectedModel, source: np.ndarray, intake: np.ndarray, session: np.ndarray
) -> np.ndarray:
    """Expected absolute scores (n × 4, NaN where none): one evaluation for scalar and
    vectorized callers alike, so the two cannot disagree."""
    out = np.full((len(source), len(QUANTILES)), np.nan)
    sign = 1.0 if model.higher_is_better else -1.0
    at = np.minimum(np.maximum(session, 2), MAX_SESSION) - 2  # row of the table
    for name, curves in model.curves.items():
        rows = (source == name) & (session >= 2)
        if not rows.any():
            continue
        centers = np.asarray(curves.centers)
        table = np.asarray(curves.table)  # groups × ratings × quantiles
        per_group = np.transpose(table[:, at[rows], :], (1, 0, 2))  # rows × groups × quantiles
        if len(centers) == 1:
            change = per_group[:, 0, :]
        else:
            x = np.clip(intake[rows], centers[0], centers[-1])
            hi = np.clip(np.searchsorted(centers, x, side="right"), 1, len(centers) - 1)
            lo = hi - 1
            span = centers[hi] - centers[lo]
            t = np.divide(x - centers[lo], span, out=np.zeros_like(x), where=span > 0)
            take = np.arange(len(x))
            change = per_group[take, lo, :] * (1 - t)[:, None] + per_group[take, hi, :] * t[:, None]
        change = np.maximum.accumulate(change, axis=1)  # percentiles never cross
        values = intake[rows, None] + sign * change
        if model.bounds is not None:
            values = np.clip(values, *model.bounds)
        out[rows] = values
    return out


# --- alerts ----------------------------------------------------------------------------


def _below(score: float, line: float, higher_is_better: bool) -> bool:
    gap = (line - score) if higher_is_better else (score - line)
    return gap > LINE_TOLERANCE


def alert(band: Band | None, score: float | None, *, higher_is_better: bool = True) -> Alert:
    """A partner's alert at one rating (module docstring: strictly under, inclusive on)."""
    if band is None or score is None or math.isnan(score):
        return Alert.NO_DATA
    if _below(score, band.p10, higher_is_better):
        return Alert.WELL_BELOW
    if _below(score, band.p25, higher_is_better):
        return Alert.BELOW
    return Alert.ON_COURSE


def _alerts(bands: np.ndarray, score: np.ndarray, higher_is_better: bool) -> np.ndarray:
    sign = 1.0 if higher_is_better else -1.0
    rank = np.where(np.isnan(bands[:, 0]) | np.isnan(score), 0, 1)
    rank = np.where((rank == 1) & (sign * (bands[:, 1] - score) > LINE_TOLERANCE), 2, rank)
    rank = np.where((rank >= 1) & (sign * (bands[:, 0] - score) > LINE_TOLERANCE), 3, rank)
    return np.array([_BY_RANK[r] for r in rank], dtype=object)


def partner_alerts(course_rows: pd.DataFrame, model: ExpectedModel) -> pd.Series:
    """The alert at every rating of `course_rows` (courses()'s columns)."""
    bands = _bands(
        model,
        course_rows["source"].to_numpy(dtype=object),
        course_rows["intake"].to_numpy(dtype="float64"),
        course_rows["session"].to_numpy(dtype="int64"),
    )
    alerts = _alerts(bands, course_rows["score"].to_numpy(dtype="float64"), model.higher_is_better)
    return pd.Series(alerts, index=course_rows.index, dtype=object)


@dataclass(frozen=True)
class PartnerAlert:
    partner: str  # "Partner A" / "Partner B"
    alert: Alert
    source: str | None = None
    session: int | None = None  # the rating number judged
    score: float | None = None
    intake: float | None = None
    band: Band | None = None


@dataclass(frozen=True)
class CoupleAlert:
    partner_a: PartnerAlert
    partner_b: PartnerAlert

    @property
    def alert(self) -> Alert:
        return worst((self.partner_a.alert, self.partner_b.alert))

    @property
    def partner(self) -> str | None:
        return _who(self.partner_a.alert, self.partner_b.alert)


def _who(a: Alert, b: Alert) -> str | None:
    worse = worst((a, b))
    if ALERT_RANK[worse] < ALERT_RANK[Alert.BELOW]:
        return None
    if a == b:
        return "both partners"
    return "Partner A" if a == worse else "Partner B"


def _judged_partner(
    label: str, scores: Sequence[float], sources: Sequence[str], model: ExpectedModel
) -> PartnerAlert:
    if not scores:
        return PartnerAlert(label, Alert.NO_DATA)
    pair = same_source_pair(sources)
    if pair.source is None:
        return PartnerAlert(label, Alert.NO_DATA)
    own = [x for x, s in zip(scores, sources, strict=True) if s == pair.source]
    band = model.band(pair.source, own[0], len(own))
    return PartnerAlert(
        label,
        alert(band, own[-1], higher_is_better=model.higher_is_better),
        pair.source,
        len(own),
        own[-1],
        own[0],
        band,
    )


def couple_alert(points: Sequence[SessionPoint], model: ExpectedModel) -> CoupleAlert:
    """The couple's alert from its sessions (date order): each partner at the latest
    rating of the source same_source_pair picks (like with like)."""
    judged = []
    for key, label in _PARTNERS:
        rated = [p for p in points if getattr(p, f"eii_{key}") is not None]
        judged.append(
            _judged_partner(
                label,
                [float(getattr(p, f"eii_{key}")) for p in rated],
                [getattr(p, f"source_{key}") or COUNSELOR for p in rated],
                model,
            )
        )
    return CoupleAlert(judged[0], judged[1])


ALERT_COLUMNS = [
    "alert_a",
    "alert_b",
    "alert",
    "alert_partner",
    *(
        f"{name}_{key}"
        for key in ("a", "b")
        for name in (
            "expected_source",
            "expected_session",
            "score",
            "expected_p10",
            "expected_p25",
            "expected_p50",
            "expected_p75",
        )
    ),
]


def caseload_alerts(sessions: pd.DataFrame, model: ExpectedModel) -> pd.DataFrame:
    """couple_alert for every couple of `sessions` at once (index couple_id)."""
    index = pd.Index(pd.unique(sessions["couple_id"].to_numpy())).sort_values()
    index.name = "couple_id"
    out = pd.DataFrame(index=index)
    rows = courses(sessions)
    per_partner: dict[str, pd.DataFrame] = {}
    for key, _ in _PARTNERS:
        mine = rows[rows["partner"] == key]
        latest = mine.groupby("couple_id", sort=True)["source"].last()
        counts = mine.groupby(["couple_id", "source"]).size().unstack(fill_value=0)
        counts = counts.reindex(columns=list(SOURCES), fill_value=0).reindex(latest.index)
        latest_self = latest.eq(SELF).to_numpy()
        n_latest = np.where(latest_self, counts[SELF], counts[COUNSELOR])
        n_other = np.where(latest_self, counts[COUNSELOR], counts[SELF])
        chosen = np.where(latest_self == (n_latest >= 2), SELF, COUNSELOR)
        valid = (n_latest >= 2) | (n_other >= 2)
        pick = pd.Series(chosen, index=latest.index)[valid]
        judged = mine.join(pick.rename("chosen"), on="couple_id", how="inner")
        # rename_axis: an empty join (no rating of this partner anywhere in the frame)
        # names its index couple_id, which the groupby below would find ambiguous.
        judged = judged[judged["source"] == judged["chosen"]].rename_axis(None)
        last = judged.groupby("couple_id", sort=True).tail(1).set_index("couple_id")
        bands = _bands(
            model,
            last["source"].to_numpy(dtype=object),
            last["intake"].to_numpy(dtype="float64"),
            last["session"].to_numpy(dtype="int64"),
        )
        last = last.assign(
            alert=_alerts(bands, last["score"].to_numpy(dtype="float64"), model.higher_is_better),
            **{f"p{int(q * 100)}": bands[:, i] for i, q in enumerate(QUANTILES)},
        ).reindex(index)
        per_partner[key] = last
        alerts = [Alert.NO_DATA if pd.isna(a) else Alert(a) for a in last["alert"].to_numpy()]
        out[f"alert_{key}"] = pd.Series(alerts, index=index, dtype=object)
    pairs = list(zip(out["alert_a"], out["alert_b"], strict=True))
    out["alert"] = pd.Series([worst(p) for p in pairs], index=index, dtype=object)
    out["alert_partner"] = pd.Series([_who(a, b) for a, b in pairs], index=index, dtype=object)
    for key, _ in _PARTNERS:
        last = per_partner[key]
        given = last["source"].to_numpy(dtype=object)
        out[f"expected_source_{key}"] = pd.Series(
            np.where(pd.isna(given), None, given), index=index, dtype=object
        )
        out[f"expected_session_{key}"] = last["session"].astype("Int64")
        out[f"score_{key}"] = last["score"].astype("float64")
        for q in QUANTILES:
            out[f"expected_p{int(q * 100)}_{key}"] = last[f"p{int(q * 100)}"].astype("float64")
    return out[ALERT_COLUMNS]
