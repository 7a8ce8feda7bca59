"""Scores and the statistics behind them (DOMAIN.md, Scoring).

EII per partner and per couple; Cronbach's alpha; the Jacobson–Truax (1991) reliable
change index and clinically significant change; each couple's trajectory (improved /
no reliable change / deteriorated, not on track, partners diverging). Pure: numbers in,
frozen dataclasses and plain sentences out, so the timeline page, the PDF report and
the tests all read the same words.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from dashboard.domain.catalog import INDICATOR_BY_KEY, INDICATORS, RATING_MAX
from dashboard.domain.numbers import as_written, half_up, one_decimal, shown
from dashboard.domain.same_source import (
    COUNSELOR,
    SourcePair,
    nth_rating,
    same_source_pair,
    source_note,
)

if TYPE_CHECKING:  # expected_response builds on this module: imported where used
    from dashboard.domain.expected_response import CoupleAlert, ExpectedModel

EII_MIN_ITEMS = 6


def item_score(key: str, value: float) -> float:
    """A rating on the 'higher is better' side: warning signs are reverse-scored."""
    return RATING_MAX - value if INDICATOR_BY_KEY[key].reverse_scored else value


def partner_eii(ratings: Mapping[str, float | None]) -> float | None:
    """Emotional Intimacy Index 0-100 of one partner at one session.

    Mean of the eight items after reverse-scoring the warning signs, scaled to 0-100;
    None when fewer than 6 of the 8 items were rated, so a thin rating never poses as
    a score.
    """
    scored = [
        item_score(i.key, ratings[i.key]) for i in INDICATORS if ratings.get(i.key) is not None
    ]
    if len(scored) < EII_MIN_ITEMS:
        return None
    return sum(scored) / len(scored) * (100 / RATING_MAX)


def couple_eii(eii_a: float | None, eii_b: float | None) -> float | None:
    """Mean of both partners' EII; None unless both have one."""
    if eii_a is None or eii_b is None:
        return None
    return (eii_a + eii_b) / 2


def discrepancy(eii_a: float | None, eii_b: float | None) -> float | None:
    """|EII_A − EII_B|: how far apart the partners feel; None unless both have one."""
    if eii_a is None or eii_b is None:
        return None
    return abs(eii_a - eii_b)


# --- Internal consistency --------------------------------------------------------------


def cronbach_alpha(rows: Sequence[Sequence[float | None]]) -> float | None:
    """Cronbach's alpha: how consistently the items measure one thing.

    rows = respondents, columns = items. Only complete rows count (a row with any None
    is left out), so every variance is taken over the same people. Sample variances
    (ddof=1) throughout. None when fewer than 2 complete rows or 2 items, or when the
    totals do not vary (alpha is undefined then, not perfect).
    """
    complete = [[float(v) for v in row] for row in rows if all(v is not None for v in row)]
    if len(complete) < 2:
        return None
    k = len(complete[0])
    if any(len(row) != k for row in complete):
        raise ValueError("every respondent needs the same number of items")
    if k < 2:
        return None
    item_variances = sum(statistics.variance(col) for col in zip(*complete, strict=True))
    total_variance = statistics.variance([sum(row) for row in complete])
    if total_variance == 0:
        return None
    return k / (k - 1) * (1 - item_variances / total_variance)


# --- Reliable change (Jacobson & Truax 1991) -------------------------------------------

RELIABLE_Z = 1.96  # two-sided 95%: |RCI| must be strictly above this
# Float noise allowance at the line: 59.6 − 40 is 19.600000000000001 in binary, and a
# change the counselor sees as exactly at the line must not count as beyond it.
LINE_TOLERANCE = 1e-9
MIN_LOCAL_INTAKES = 30  # below this, a clinic's own SD and alpha are too unstable to use

Source = Literal["locally derived", "default", "published"]


@dataclass(frozen=True)
class CutoffMeaning:
    """What each side of an instrument's cutoff means, from its definition file
    (`[cutoff_meaning]`): plain_words fills in {cutoff} (the number) and {source}.

    A cutoff from norms of people not in distress is a range claim, said only once the
    change rests on a course long enough (Course.long_enough); an alliance check such as
    the SRS's is read at every session (`waits_for_early_change` false).
    """

    met: str  # e.g. "in the range of couples not in distress (cutoff {cutoff}, {source})"
    not_met: str
    waits_for_early_change: bool = True


@dataclass(frozen=True)
class ReliableChangeParams:
    """What a change must exceed to be called reliable, and where the cutoff sits.

    Carries its own provenance (n, source, method) because every threshold drawn on a
    chart must name its method and parameters: `describe()` and `describe_cutoff()` are
    those labels. `sd`/`reliability` are None for an instrument judged by a published
    threshold (`threshold_override`) or by its cutoff only (no reliable-change value).
    """

    sd: float | None
    reliability: float | None
    n: int  # intakes the parameters were (or would have been) derived from
    source: Source
    cutoff: float | None
    cutoff_method: str
    threshold_override: float | None = None
    scale: str = "EII"  # what the points are points of, in labels
    reliability_source: str = ""  # e.g. "Funk & Rogge 2007" for a published alpha
    # A locally derived alpha's own n: the intakes rated on every item, which can be
    # fewer than the `n` intakes behind the SD (an EII needs only 6 of the 8 items).
    reliability_n: int | None = None
    threshold_source: str = ""  # e.g. "Anderson et al. 2014" for a published threshold
    # A published threshold that a change of exactly its size meets (ORS: "5 or more",
    # PCOMS); otherwise a change must exceed it. RCI's 1.96 is always exceeded.
    threshold_inclusive: bool = False
    note: str = ""  # why a default is in use, or why there is no reliable-change value
    # An instrument's words for its cutoff (definition file); None for the EII, whose
    # words plain_words chooses by `source` (criterion a here, or the documented default).
    cutoff_meaning: CutoffMeaning | None = None
    # The narrow-band protection (issue 21, point 5): where the clinic's own intake SD
    # (`local_sd`) is below the documented floor, `sd` is the floor and `floor_in_use`.
    local_sd: float | None = None
    floor_in_use: bool = False
    mean: float | None = None  # the intakes' mean behind a locally derived cutoff
    # Who rated the `reliability_n` intakes behind a local alpha: the counselor in the
    # session, or the partner's own check-in (IndicatorRating.source).
    counselor_intakes: int | None = None
    self_intakes: int | None = None
    # Which published clinic-norms version these are, e.g. "clinic norms v3 of 2 Nov
    # 2026, 198 intakes", or why none is (services/norms.py sets it).
    norms_label: str = ""

    @property
    def s_diff(self) -> float | None:
        """Standard error of the difference: SD·√2·√(1−r) (Jacobson & Truax 1991)."""
        if self.sd is None or self.reliability is None:
            return None
        return self.sd * math.sqrt(2 * (1 - self.reliability))

    @property
    def threshold(self) -> float | None:
        """Points a change must exceed: the instrument's own value, else 1.96·S_diff."""
        if self.threshold_override is not None:
            return self.threshold_override
        s_diff = self.s_diff
        return None if s_diff is None else RELIABLE_Z * s_diff

    @property
    def has_reliable_change(self) -> bool:
        return self.threshold is not None

    def describe(self) -> str:
        """The reliable-change band's label: method, parameters and where they came from."""
        if self.threshold_override is not None:
            source = f" ({self.threshold_source})" if self.threshold_source else ""
            more = " or more" if self.threshold_inclusive else ""
            return f"{self.scale} reliable change {as_written(self.threshold_override)} points{more}{source}"
        s_diff, threshold = self.s_diff, self.threshold
        if self.sd is None or self.reliability is None or s_diff is None or threshold is None:
            if self.cutoff is None:
                return f"{self.scale} has no reliable-change value and no cutoff"
            return (
                f"{self.scale} has no reliable-change value: judged by its cutoff "
                f"{as_written(self.cutoff)} only ({self.cutoff_method})"
            )
        if self.source == "locally derived":
            origin = f"locally derived from {self.n} intakes"
            sd = self.describe_sd()
        else:
            why = self.note or f"only {_intakes(self.n)}; {MIN_LOCAL_INTAKES} needed"
            origin = f"documented default ({why})"
            sd = as_written(self.sd)
        alpha = f"α {shown(self.reliability, 2)}"
        if self.reliability_source:
            alpha += f" ({self.reliability_source})"
        elif self.reliability_n is not None:
            alpha += f" (from {self.describe_alpha_n()})"
        version = f"; {self.norms_label}" if self.norms_label else ""
        return (
            f"Jacobson–Truax reliable change, {origin}: SD {sd}, {alpha}, "
            f"S_diff {one_decimal(s_diff)} → ±{one_decimal(threshold)} {self.scale} points"
            f"{version}"
        )

    def describe_sd(self) -> str:
        """Which SD is in use: 'SD 15.0 (documented floor; this clinic's intake SD 12.1
        is smaller)' or '16.2 (this clinic's intakes)'; the bare default's as written."""
        if self.sd is None:
            return ""
        if self.floor_in_use and self.local_sd is not None:
            return (
                f"{as_written(self.sd)} (documented floor; this clinic's intake SD "
                f"{one_decimal(self.local_sd)} is smaller)"
            )
        if self.source == "locally derived":
            return f"{one_decimal(self.sd)} (this clinic's intakes)"
        return as_written(self.sd)

    def describe_alpha_n(self) -> str:
        """'140 intakes rated on every item: 134 by the counselor, 6 self-reported'."""
        text = f"{_intakes(self.reliability_n or 0)} rated on every item"
        if self.counselor_intakes is not None and self.self_intakes is not None:
            text += (
                f": {self.counselor_intakes} by the counselor, {self.self_intakes} self-reported"
            )
        return text

    def describe_cutoff(self) -> str | None:
        """The cutoff line's label, e.g. 'EII cutoff 62.3 (criterion a: intake mean …)'."""
        if self.cutoff is None:
            return None
        return f"{self.scale} cutoff {as_written(self.cutoff)} ({self.cutoff_method})"


# EII defaults, used until the clinic has MIN_LOCAL_INTAKES intakes (or when its own
# alpha is unusable). The EII is Bondline's own index, so no published norms exist:
# these are conservative placeholders, not findings. Both are chosen to make the band
# WIDE, so that few changes are called reliable by accident before local data exist:
# - SD 15 (1.5 points on the 0–10 item scale): a generous guess at how far partners'
#   intake EIIs spread; a wider spread means a wider band;
# - alpha .80: the conventional floor of "good" internal consistency; a lower alpha
#   means a wider band, and eight items about one relationship should reach it;
# - together: S_diff = 15·√2·√0.2 ≈ 9.49, so a change must exceed ±18.6 EII points
#   (about a quarter of the scale's usable range);
# - cutoff 65: where the average item reaches 6.5 of 10 (signs more present than
#   absent, warning signs rare); it is also criterion a (mean + 2 SD) for couples who
#   arrive near EII 35 with the default SD 15 (35 + 2 × 15 = 65).
# Once 30 intakes exist, the clinic's own SD, alpha and criterion a replace all four;
# except that the SD never goes below DEFAULT_EII_SD (the floor, as the CSI-4's):
# a clinic whose couples arrive alike has a small intake SD, and with a high alpha the
# band then shrinks below what eight 0–10 ratings by one rater can resolve (the demo's
# intake SD 9.2 and alpha .81 made it ±11.1 and turned 46 reliably improved partners
# into 76; issue 21). The floor is the same deliberately wide guess as the default, so
# a narrow clinic is judged no more loosely than a clinic with no norms at all.
DEFAULT_EII_SD = 15.0
DEFAULT_EII_RELIABILITY = 0.80
DEFAULT_EII_CUTOFF = 65.0
DEFAULT_EII_PARAMS = ReliableChangeParams(
    sd=DEFAULT_EII_SD,
    reliability=DEFAULT_EII_RELIABILITY,
    n=0,
    source="default",
    cutoff=DEFAULT_EII_CUTOFF,
    cutoff_method="documented default",
)
EII_MIN, EII_MAX = 0.0, 100.0


def eii_params(
    intakes: Sequence[Mapping[str, float | None]],
    sources: Sequence[str] | None = None,
) -> ReliableChangeParams:
    """Reliable-change parameters for EII from the clinic's own intakes.

    Each mapping is one partner's item ratings at their intake (first rated session);
    `sources[i]` says who gave intake i ("counselor" or "self"), counted for alpha.
    SD = sample SD of the intake EIIs (those with >= 6 items; n counts them), never
    below DEFAULT_EII_SD (the floor: at exactly 15.0 the clinic's own SD is used);
    r = Cronbach's alpha of the eight reverse-scored items over intakes with all 8.
    Cutoff = Jacobson–Truax criterion a: intake mean + 2 SD, clamped to 0–100.
    Fewer than 30 intakes, or an alpha that is missing, <= 0 or 1 (no usable S_diff):
    the documented defaults, with the real n recorded so the label can say why.
    """
    eiis = [e for e in (partner_eii(r) for r in intakes) if e is not None]
    n = len(eiis)
    if n < MIN_LOCAL_INTAKES:
        return replace(
            DEFAULT_EII_PARAMS,
            n=n,
            note=f"only {_intakes(n)}; {MIN_LOCAL_INTAKES} needed",
            cutoff_method=f"documented default; only {_intakes(n)}",
        )
    rows = [[_item(r, i.key) for i in INDICATORS] for r in intakes]
    whole = [all(v is not None for v in row) for row in rows]
    complete = sum(whole)
    # Alpha needs the same 30 as the SD: from a handful of complete rows it is noise.
    alpha = cronbach_alpha(rows) if complete >= MIN_LOCAL_INTAKES else None
    sd = statistics.stdev(eiis)
    if alpha is None or not 0 < alpha < 1 or sd <= 0:
        if alpha is None:
            why = (
                f"local α not computable: only {complete} intakes rated on all 8 items, "
                f"{MIN_LOCAL_INTAKES} needed"
            )
        else:
            why = f"local α {shown(alpha, 2)} unusable"
        return replace(
            DEFAULT_EII_PARAMS,
            n=n,
            note=why,
            cutoff_method=f"documented default; {why}",
        )
    mean = statistics.fmean(eiis)
    # The floor widens the reliable-change band only: the cutoff describes this
    # clinic's intakes (criterion a, "beyond the range typical of intakes here"), so it
    # keeps their own SD.
    floor = sd < DEFAULT_EII_SD
    used = DEFAULT_EII_SD if floor else sd
    raw_cutoff = mean + 2 * sd
    cutoff = min(EII_MAX, max(EII_MIN, raw_cutoff))
    method = f"criterion a: intake mean {one_decimal(mean)} + 2 SD"
    if cutoff != raw_cutoff:
        method += f", capped at {as_written(cutoff)}"
    by_self = (
        sum(1 for ok, src in zip(whole, sources, strict=True) if ok and src == "self")
        if sources is not None
        else None
    )
    return ReliableChangeParams(
        sd=used,
        reliability=alpha,
        n=n,
        source="locally derived",
        cutoff=cutoff,
        cutoff_method=method,
        reliability_n=complete,
        local_sd=sd,
        floor_in_use=floor,
        mean=mean,
        counselor_intakes=None if by_self is None else complete - by_self,
        self_intakes=by_self,
    )


def _item(ratings: Mapping[str, float | None], key: str) -> float | None:
    value = ratings.get(key)
    return None if value is None else item_score(key, value)


def rci(first: float, last: float, s_diff: float) -> float:
    """Reliable Change Index (Jacobson & Truax 1991): (last − first) / S_diff."""
    if s_diff <= 0:
        raise ValueError("S_diff must be above 0")
    return (last - first) / s_diff


# "Clinically significant" only once the change rests on a course long enough to call
# it that (DOMAIN.md, "early change"). Chosen: at least 4 rated sessions AND at least 28
# days from the first of them to the last, both inclusive. Why both: a couple called
# clinically significantly improved after 3 sessions in 2 weeks was the case that asked
# for this rule; early gains are common and often do not last, so neither a burst of
# sessions in one week nor one session four weeks later is enough by itself. Before the
# minimum the same facts are called "early change", with the sessions and days shown.
EARLY_CHANGE_MIN_SESSIONS = 4
EARLY_CHANGE_MIN_DAYS = 28


@dataclass(frozen=True)
class Course:
    """What a change rests on: the rated sessions from baseline to latest, and the days
    between the first and the last of them."""

    sessions: int
    days: int

    @classmethod
    def of(cls, dates: Sequence[date]) -> Course:
        return cls(len(dates), (max(dates) - min(dates)).days if dates else 0)

    @property
    def long_enough(self) -> bool:
        """Inclusive on both counts: 4 sessions over exactly 28 days is enough."""
        return self.sessions >= EARLY_CHANGE_MIN_SESSIONS and self.days >= EARLY_CHANGE_MIN_DAYS

    def describe(self) -> str:
        day = "day" if self.days == 1 else "days"
        return f"{self.sessions} rated sessions over {self.days} {day}"


def early_change_rule() -> str:
    return (
        f"called clinically significant from {EARLY_CHANGE_MIN_SESSIONS} rated sessions "
        f"over {EARLY_CHANGE_MIN_DAYS} days"
    )


class Change(StrEnum):
    IMPROVED = "improved"
    NO_RELIABLE_CHANGE = "no reliable change"
    DETERIORATED = "deteriorated"


@dataclass(frozen=True)
class ChangeResult:
    """Baseline against latest, judged for reliable and clinically significant change.

    `rci` is None when judged by an instrument's own threshold; `status` is None when
    the scale has no reliable-change value at all (SRS: cutoff only). `meets_cutoff`
    says whether the latest score is on the cutoff's good side: at or above it when
    higher is better, at or below otherwise (None: no cutoff). What that side means for a
    person depends on the cutoff (plain_words says it).
    """

    baseline: float
    latest: float
    difference: float
    rci: float | None
    status: Change | None
    clinically_significant: bool
    cutoff: float | None = None
    threshold: float | None = None
    meets_cutoff: bool | None = None
    higher_is_better: bool = True
    inclusive: bool = False  # the threshold is met at exactly its size (ORS)
    # Reliable improvement that crossed the cutoff, but on too short a course to call
    # clinically significant yet (see EARLY_CHANGE_MIN_SESSIONS); `course` says how short.
    early_change: bool = False
    course: Course | None = None
    # What it was judged against: plain_words says what the cutoff means from these.
    params: ReliableChangeParams | None = None

    @property
    def improved(self) -> bool:
        return self.status is Change.IMPROVED

    @property
    def deteriorated(self) -> bool:
        return self.status is Change.DETERIORATED

    def describe(self) -> str:
        """e.g. 'reliable improvement (RCI 2.4)' or 'clinically significant improvement
        (RCI 3.1; crossed the cutoff 62.0)'."""
        if self.status is None:
            if self.cutoff is None or self.meets_cutoff is None:
                return "not judged for reliable change (no reliable-change value)"
            if self.higher_is_better:
                side = "at or above" if self.meets_cutoff else "below"
            else:
                side = "at or below" if self.meets_cutoff else "above"
            return (
                f"not judged for reliable change (no reliable-change value); "
                f"latest {as_written(self.latest)} is {side} the cutoff {as_written(self.cutoff)}"
            )
        if self.rci is not None:
            evidence = f"RCI {shown_beside(self.rci, RELIABLE_Z)}"
        else:
            limit = self.threshold if self.threshold is not None else 0.0
            change = shown_beside(self.difference, limit, signed=True, inclusive=self.inclusive)
            more = " or more" if self.inclusive else ""
            evidence = f"{change} points; threshold {as_written(limit)}{more}"
        words = {
            Change.IMPROVED: "reliable improvement",
            Change.NO_RELIABLE_CHANGE: "no reliable change",
            Change.DETERIORATED: "reliable deterioration",
        }[self.status]
        if self.clinically_significant and self.cutoff is not None:
            return (
                f"clinically significant improvement ({evidence}; "
                f"crossed the cutoff {as_written(self.cutoff)})"
            )
        if self.early_change and self.cutoff is not None and self.course is not None:
            return (
                f"early change: reliable improvement ({evidence}; crossed the cutoff "
                f"{as_written(self.cutoff)}; {self.course.describe()}, {early_change_rule()})"
            )
        return f"{words} ({evidence})"


def classify_change(
    first: float,
    last: float,
    params: ReliableChangeParams,
    *,
    higher_is_better: bool = True,
    course: Course | None = None,
) -> ChangeResult:
    """Judge first → last against the params (over `course`, when known).

    Reliable when |RCI| > 1.96, or |difference| > the instrument's own threshold; exactly
    at the line is NOT reliable (allowing 1e-9 of float noise), except for a threshold
    its source states inclusively (`threshold_inclusive`: ORS, a change of 5 or more). Clinically significant =
    reliable improvement AND moving from the cutoff's far side to its good side (good:
    at or above the cutoff when higher is better, at or below otherwise, inclusive; so
    a baseline already on the good side cannot "cross"); and, with a
    `course`, one long enough (Course.long_enough): before that it is "early change".
    """
    difference = last - first

    def good_side(x: float) -> bool | None:
        if params.cutoff is None:
            return None
        return x >= params.cutoff if higher_is_better else x <= params.cutoff

    index: float | None = None
    if params.threshold_override is not None:
        reliable: bool | None = _beyond(
            difference, params.threshold_override, inclusive=params.threshold_inclusive
        )
    elif params.s_diff is not None:
        index = rci(first, last, params.s_diff)
        reliable = _beyond(index, RELIABLE_Z)
    else:
        reliable = None

    status: Change | None
    if reliable is None:
        status = None
    elif not reliable:
        status = Change.NO_RELIABLE_CHANGE
    elif (difference > 0) == higher_is_better:
        status = Change.IMPROVED
    else:
        status = Change.DETERIORATED

    crossed = good_side(first) is False and good_side(last) is True
    significant = status is Change.IMPROVED and crossed
    early = significant and course is not None and not course.long_enough
    return ChangeResult(
        baseline=first,
        latest=last,
        difference=difference,
        rci=index,
        status=status,
        clinically_significant=significant and not early,
        cutoff=params.cutoff,
        threshold=params.threshold,
        meets_cutoff=good_side(last),
        higher_is_better=higher_is_better,
        inclusive=params.threshold_override is not None and params.threshold_inclusive,
        early_change=early,
        course=course,
        params=params,
    )


# --- Trajectory (DOMAIN.md: trajectory status, not on track, partners diverging) -------------

NOT_ON_TRACK_AFTER_SESSIONS = 8  # the rule applies once MORE than this many were held
# The expected-course alert (expected_response.Alert's value) from which a couple is not
# on track (issue 22): "well below expected", strictly under the 10th percentile of the
# course expected at that rating for partners who started where this one did. Finch,
# Lambert & Schaalje 2001 warn on a tolerance line in the tail. "Below expected" (under
# the 25th) is a warning on the caseload, not a flag. One constant: moved here, it moves
# the scalar rule (couple_trajectory) and the caseload's (outcomes.py) alike.
NOT_ON_TRACK_ALERT = "well below expected"
# Which percentile line an alert is strictly under, as the reason names it.
_ALERT_LINE = {"well below expected": ("10th", "p10"), "below expected": ("25th", "p25")}
DIVERGING_GAP = 20.0  # EII points; a gap must be ABOVE this
DIVERGING_SESSIONS = 3  # ... in each of this many most recent jointly rated sessions


@dataclass(frozen=True)
class SessionPoint:
    """One session as the trajectory rules see it (sessions are passed in date order)."""

    session_date: date
    held: bool
    stage: int | None
    eii_a: float | None
    eii_b: float | None
    # Who gave each EII (same_source.py): "counselor" or "self"; ignored without an EII.
    source_a: str = COUNSELOR
    source_b: str = COUNSELOR


@dataclass(frozen=True)
class PartnerTrajectory:
    """One partner's change, judged on ratings from one source (same_source.py).

    Sessions without an EII for this partner are skipped, not interpolated. With fewer
    than 2 EIIs there is no change to judge: status is None and describe() says
    "baseline only" (one EII) or "no ratings yet" (none); with 2 or more but no two
    from one source, status is None too, and describe() says why.
    """

    partner: str  # "Partner A" / "Partner B"
    ratings: int  # sessions at which this partner has an EII
    baseline: float | None
    latest: float | None
    change: ChangeResult | None
    pair: SourcePair | None = None  # None: no ratings
    pair_dates: tuple[date, date] | None = None  # the judged pair's sessions

    def source_note(self, name: str | None = None) -> str:
        """'' when baseline and latest share a source; else what was compared, and why."""
        return source_note(self.pair, name or self.partner, self.pair_dates)

    @property
    def status(self) -> Change | None:
        return None if self.change is None else self.change.status

    @property
    def improved(self) -> bool:
        return self.change is not None and self.change.improved

    @property
    def deteriorated(self) -> bool:
        return self.change is not None and self.change.deteriorated

    def describe(self) -> str:
        note = self.source_note()
        if self.change is not None:
            return self.change.describe() + (f"; {note}" if note else "")
        if self.ratings >= 2:
            return f"not yet measurable: {note}"
        return "baseline only" if self.ratings == 1 else "no ratings yet"


def partner_trajectory(
    partner: str,
    eiis: Sequence[float | None],
    params: ReliableChangeParams,
    dates: Sequence[date] | None = None,
    sources: Sequence[str] | None = None,
) -> PartnerTrajectory:
    """Classify one partner's EII series (session order; None = not rated that session),
    judging like with like (same_source.same_source_pair over the `sources`, all
    "counselor" when not given), over the course of that source's rated sessions when
    the sessions' `dates` are given."""
    sources = sources if sources is not None else [COUNSELOR] * len(eiis)
    at = [i for i, e in enumerate(eiis) if e is not None]
    if not at:
        return PartnerTrajectory(partner, 0, None, None, None)
    rated = [float(eiis[i]) for i in at]  # type: ignore[arg-type]
    pair = same_source_pair([sources[i] for i in at])
    if pair.source is None or pair.first is None or pair.last is None:
        return PartnerTrajectory(partner, len(at), rated[0], rated[-1], None, pair)
    course = pair_dates = None
    if dates is not None:
        same = [dates[i] for i in at if sources[i] == pair.source]
        course, pair_dates = Course.of(same), (same[0], same[-1])
    first, last = rated[pair.first], rated[pair.last]
    change = classify_change(first, last, params, course=course)
    return PartnerTrajectory(partner, len(at), first, last, change, pair, pair_dates)


@dataclass(frozen=True)
class CoupleTrajectory:
    """The couple's status in words and flags, exactly as DOMAIN.md defines it."""

    partner_a: PartnerTrajectory
    partner_b: PartnerTrajectory
    # Couple EII (the mean), first → last jointly rated session with the latest one's pair
    # of sources; drawn and shown in the technical line, never the couple's outcome.
    couple: ChangeResult | None
    sessions_held: int
    not_on_track: bool
    not_on_track_reasons: tuple[str, ...]
    diverging: bool
    diverging_reasons: tuple[str, ...]
    # The expected-course alert (expected_response.couple_alert), when a model was given.
    expected: CoupleAlert | None = None

    def summary(self) -> str:
        """One line for the timeline header and the report, e.g. 'Partner A: reliable
        improvement (RCI 2.4); Partner B: no reliable change (RCI 0.8); not on track: no
        reliable improvement after 8 sessions (9 held)'."""
        parts = [
            f"{self.partner_a.partner}: {self.partner_a.describe()}",
            f"{self.partner_b.partner}: {self.partner_b.describe()}",
        ]
        if self.couple is not None:
            parts.append(f"couple: {self.couple.describe()}")
        if self.not_on_track:
            parts.append("not on track: " + "; ".join(self.not_on_track_reasons))
        if self.diverging:
            parts.append("partners diverging: " + "; ".join(self.diverging_reasons))
        return "; ".join(parts)


def couple_trajectory(
    sessions: Sequence[SessionPoint],
    params: ReliableChangeParams,
    expected: ExpectedModel | None = None,
) -> CoupleTrajectory:
    """Apply DOMAIN.md's trajectory rules to a couple's sessions (in date order).

    Rule choices (each at its boundary):
    - Partner status: that partner's first vs last available EII from one source
      (PartnerTrajectory; like with like, same_source.py).
      Couple status: couple EII at the first vs last session where both partners have
      an EII, judged with the same params (the partners' SD, which is at least the SD
      of a mean of two, so the couple band is if anything conservative).
    - Not on track, any of:
      1. either partner reliably deteriorated;
      2. "no reliable improvement after 8 sessions": once MORE than 8 sessions have been
         held (8 held: not yet applied; 9: applied), neither partner has reliably
         improved. Partner-level, like the couple's outcome (couple_outcome.py): the
         couple-mean EII does not count, since a mean can rise on one partner's gain
         while the other stays put. One partner's reliable improvement is enough to
         pass, since the counselor can see it; a partner getting worse meanwhile is
         rule 1. Held = at least one partner attended; no-shows and cancellations don't
         count;
      3. "stage regressed twice in a row": the two most recent changes between
         consecutive stage-rated sessions are both drops (3 → 2 → 1 counts;
         3 → 2 → 2 → 1 does not, the plateau breaks the run). Sessions without a
         stage rating are skipped;
      4. with an `expected` model (issue 22): a partner's alert at their latest rating
         (expected_response.couple_alert, like with like) is NOT_ON_TRACK_ALERT or worse
         ("well below expected": strictly under the 10th percentile of the course
         expected there; exactly on it is not); a reason per such partner, A first.
         Without a model, rules 1-3 only, as before.
    - Partners diverging, either:
      1. one partner reliably improved while the other reliably deteriorated;
      2. |EII_A − EII_B| above 20 (21 yes, 20 no) in each of the 3 most recent sessions
         where both partners have an EII (sessions with one EII are skipped).
    """
    for before, after in pairwise(sessions):
        if after.session_date < before.session_date:
            raise ValueError("sessions must be in date order")

    dates = [s.session_date for s in sessions]
    a = partner_trajectory(
        "Partner A", [s.eii_a for s in sessions], params, dates, [s.source_a for s in sessions]
    )
    b = partner_trajectory(
        "Partner B", [s.eii_b for s in sessions], params, dates, [s.source_b for s in sessions]
    )
    both = [s for s in sessions if s.eii_a is not None and s.eii_b is not None]
    joint = [(s.eii_a, s.eii_b) for s in both]
    couple = None
    # The couple mean compares like with like too: only jointly rated sessions whose two
    # sources are the latest one's (counselor/counselor, or each partner's own answers).
    latest = _pair(both[-1]) if both else None
    alike = [
        ((x + y) / 2, s.session_date)
        for s, (x, y) in zip(both, joint, strict=True)
        if _pair(s) == latest
    ]
    if len(alike) >= 2:
        course = Course.of([when for _, when in alike])
        couple = classify_change(alike[0][0], alike[-1][0], params, course=course)
    held = sum(1 for s in sessions if s.held)

    not_on_track: list[str] = []
    for partner in (a, b):
        if partner.deteriorated and partner.change is not None:
            not_on_track.append(
                f"{partner.partner} reliably deteriorated ({change_evidence(partner.change)})"
            )
    improved = a.improved or b.improved
    if held > NOT_ON_TRACK_AFTER_SESSIONS and not improved:
        not_on_track.append(
            f"no reliable improvement after {NOT_ON_TRACK_AFTER_SESSIONS} sessions ({held} held)"
        )
    stages = [s.stage for s in sessions if s.stage is not None]
    if len(stages) >= 3 and stages[-3] > stages[-2] > stages[-1]:
        path = " → ".join(str(x) for x in stages[-3:])
        not_on_track.append(f"stage regressed twice in a row ({path})")
    alert = None
    if expected is not None:
        from dashboard.domain.expected_response import couple_alert

        alert = couple_alert(sessions, expected)
        for judged in (alert.partner_a, alert.partner_b):
            band, score, session = judged.band, judged.score, judged.session
            if expected_flag(judged.alert) and None not in (band, score, session):
                assert band is not None and score is not None and session is not None
                not_on_track.append(
                    expected_reason(
                        judged.partner,
                        judged.alert,
                        judged.source,
                        session,
                        score,
                        band.p10,
                        band.p25,
                    )
                )

    diverging: list[str] = []
    if (a.improved and b.deteriorated) or (b.improved and a.deteriorated):
        up, down = (a, b) if a.improved else (b, a)
        diverging.append(
            f"{up.partner} reliably improved while {down.partner} reliably deteriorated"
        )
    # Like with like: the gap is read only across sessions with the latest pair of sources
    # (a partner's own answer beside the counselor's rating of the other is not a gap).
    same = [xy for s, xy in zip(both, joint, strict=True) if _pair(s) == latest]
    recent = same[-DIVERGING_SESSIONS:]
    gaps = [abs(x - y) for x, y in recent]
    if len(recent) == DIVERGING_SESSIONS and all(g > DIVERGING_GAP + LINE_TOLERANCE for g in gaps):
        apart = ", ".join(one_decimal(g) for g in gaps)
        diverging.append(
            f"partners more than {DIVERGING_GAP:g} EII points apart in each of the "
            f"last {DIVERGING_SESSIONS} jointly rated sessions ({apart})"
        )

    return CoupleTrajectory(
        partner_a=a,
        partner_b=b,
        couple=couple,
        sessions_held=held,
        not_on_track=bool(not_on_track),
        not_on_track_reasons=tuple(not_on_track),
        diverging=bool(diverging),
        diverging_reasons=tuple(diverging),
        expected=alert,
    )


def expected_flag(alert: str | None) -> bool:
    """A partner's (or the couple's worst) alert is NOT_ON_TRACK_ALERT or worse (not on
    track, rule 4)."""
    from dashboard.domain.expected_response import ALERT_RANK, Alert

    if alert is None:
        return False
    return ALERT_RANK[Alert(alert)] >= ALERT_RANK[Alert(NOT_ON_TRACK_ALERT)]


def expected_reason(
    partner: str,
    alert: str,
    source: str | None,
    session: int,
    score: float,
    p10: float,
    p25: float,
) -> str:
    """Rule 4's reason: 'Partner B is well below the expected course at the counselor's
    3rd rating (41.0; 10th percentile 44.0)', or '... at Partner B's 3rd own answer ...'
    (whose rating the number counts: same_source.nth_rating), the score shown with as
    many decimals as keep it visibly under the line it is strictly under."""
    nth, line = _ALERT_LINE[str(alert)]
    limit = p10 if line == "p10" else p25
    under, at = shown_under(score, limit)
    words = str(alert).removesuffix(" expected")
    return (
        f"{partner} is {words} the expected course at "
        f"{nth_rating(source or COUNSELOR, partner, int(session))} ({under}; {nth} percentile {at})"
    )


def shown_under(value: float, line: float) -> tuple[str, str]:
    """`value` and the `line` it is strictly under, both rounded half up to the fewest
    decimals (one at least) that still show the value under the line: 43.96 under 44.0
    reads "43.96" and "44.00", never "44.0" beside "44.0"."""
    for places in range(1, 9):
        if half_up(value, places) < half_up(line, places):
            return shown(value, places), shown(line, places)
    return shown(value, 9), shown(line, 9)


def _pair(point: SessionPoint) -> tuple[str, str]:
    """Who gave each partner's EII at a session (None counts as the counselor)."""
    return (point.source_a or COUNSELOR, point.source_b or COUNSELOR)


# --- Formatting helpers --------------------------------------------------------------


def _intakes(n: int) -> str:
    return f"{n} intake" if n == 1 else f"{n} intakes"


def _minus(text: str) -> str:
    return text.replace("-", "−")


def shown_beside(
    value: float, limit: float, *, signed: bool = False, inclusive: bool = False
) -> str:
    """Round for display (half up, numbers.shown), adding decimals until the shown number
    falls on the same side of `limit` as the real one: RCI 1.96 reads "1.96" (not
    reliable), 1.964 reads "1.964", never a "2.0" beside "no reliable change"; with an
    inclusive line, ORS +4.96 reads "+4.96", never a "+5.0" beside "no reliable change"."""
    side = _beyond(value, limit, inclusive=inclusive)
    for places in range(1, 9):
        if _beyond(half_up(value, places), limit, inclusive=inclusive) == side:
            return shown(value, places, signed=signed)
    return _minus(f"{value:{'+' if signed else ''}}")


def _beyond(value: float, limit: float, *, inclusive: bool = False) -> bool:
    """|value| strictly above the line (a float a hair's breadth over it is AT it); or,
    for an inclusive line, at or above it (a hair's breadth under it is AT it too)."""
    if inclusive:
        return abs(value) >= limit - LINE_TOLERANCE
    return abs(value) > limit + LINE_TOLERANCE


def change_evidence(change: ChangeResult) -> str:
    """The statistic behind a judged change: 'RCI −2.4' or '+5.0 points'."""
    if change.rci is not None:
        return f"RCI {shown_beside(change.rci, RELIABLE_Z)}"
    limit = change.threshold or 0.0
    return (
        f"{shown_beside(change.difference, limit, signed=True, inclusive=change.inclusive)} points"
    )
