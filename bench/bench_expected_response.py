"""Expected response (issue 22, point 4): does the expected course warn early, held out?

In `clinic_15k` and `clinic_150k` the couples are split in two halves at random (by
couple, seed 22); the expected course (`domain/expected_response.py`: `courses` +
`fit`) is fitted on one half and judges the other, beside today's not-on-track rules
(`outcomes.caseload_outcomes` as of each rated session) and the naive "any partner
below intake". Sessions are read as the supervisor review reads them
(`db/review_queries.review_sessions`); reliable change uses the published clinic norms.

Outcome classes: held-out couples with at least 4 rated sessions (a session where at
least one partner has an EII), judged at their last session by the partner-level
outcome (`domain/couple_outcome.py`): "ends deteriorated or stopped without improving"
= Deteriorated, Mixed or No reliable change; "ends improved" = Both improved or One
partner improved. "By the 4th rated session" = at any rating up to and including it.

Printed per clinic: sensitivity and false alarms by the 3rd and 4th rated session, the
sessions of warning gained over today's rules, and the AUCs (Mann-Whitney, ties half) of
the session-4 distance from the expected course, of intake alone and of session-4 change
alone, so the reader sees what the course adds to what the generator ties to the
outcome. BENCH lines and the figures measured: bench/README.md.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CLINIC_15K,
    CLINIC_150K,
    ClinicSize,
    clinic_info,
    db_path,
    ensure_size,
    measure,
    measure_interleaved,
    report_ratio,
)

if TYPE_CHECKING:
    from dashboard.domain.expected_response import ExpectedModel
    from dashboard.domain.scoring import ReliableChangeParams

SPLIT_SEED = 22  # the number: a fixed split, so runs compare
MIN_RATED = 4  # couples judged: at least this many rated sessions
CHECKPOINTS = (3, 4)  # "by the 3rd and 4th rated session"
FIT_RUNS = 3
COURSE_RUNS = 40

ENDS_WORSE = "ends deteriorated or stopped without improving"
ENDS_IMPROVED = "ends improved"


def value(name: str, figure: float) -> None:
    """Print `BENCH name=<name> value=<float>` (a share, an AUC or seconds)."""
    print(f"BENCH name={name} value={figure:.3f}", flush=True)


# --- Reading a clinic ----------------------------------------------------------------


@dataclass(frozen=True)
class Clinic:
    """The sessions frame of every live couple and the clinic's published EII norms."""

    name: str
    sessions: pd.DataFrame
    params: ReliableChangeParams
    norms_label: str


def read_clinic(size: ClinicSize) -> Clinic:
    """Every live couple's sessions, as the caseload review reads them."""
    from sqlalchemy import select

    from dashboard.services.norms import clinic_norms
    from db import review_queries
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple

    engine = make_engine(ensure_size(size))
    try:
        with make_sessionmaker(engine)() as db:
            every = select(Couple.id).where(Couple.deleted_at.is_(None))
            sessions = review_queries.review_sessions(db, every)
            norms = clinic_norms(db)
    finally:
        engine.dispose()
    return Clinic(size.name, sessions, norms.eii, norms.label)


def halves(
    sessions: pd.DataFrame, seed: int = SPLIT_SEED, *, swap: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fitted half, held-out half) of the sessions, split by couple at random; `swap`
    fits on the other half and judges this one (a check that the split was not lucky)."""
    couples = np.sort(sessions["couple_id"].unique())
    shuffled = np.random.default_rng(seed).permutation(couples)
    fitted = set(shuffled[: len(shuffled) // 2].tolist())
    in_fit = sessions["couple_id"].isin(fitted)
    if swap:
        in_fit = ~in_fit
    return sessions[in_fit], sessions[~in_fit]


def rated_before(sessions: pd.DataFrame) -> pd.Series:
    """Per session row: how many rated sessions (any partner with an EII) the couple had
    before it. A row belongs to the course "as of the k-th rated session" when this is
    below k; a rated row is the (this + 1)-th rated session."""
    rated = (sessions["eii_a"].notna() | sessions["eii_b"].notna()).astype("int64")
    return rated.groupby(sessions["couple_id"].to_numpy()).cumsum() - rated


def rated_count(sessions: pd.DataFrame) -> pd.Series:
    """couple_id -> how many rated sessions the couple has."""
    rated = sessions["eii_a"].notna() | sessions["eii_b"].notna()
    return rated.groupby(sessions["couple_id"].to_numpy()).sum()


def outcome_classes(
    sessions: pd.DataFrame, params: ReliableChangeParams
) -> tuple[pd.Series, pd.Series]:
    """(classes, outcomes): couple_id -> ENDS_WORSE / ENDS_IMPROVED for the couples with
    >= MIN_RATED rated sessions whose outcome over the whole course falls in one of the
    two classes, and their outcome words (couple_outcome.py)."""
    from dashboard.domain import couple_outcome as co
    from dashboard.domain.outcomes import caseload_outcomes

    outcome = caseload_outcomes(sessions, params)["outcome"]
    counts = rated_count(sessions).reindex(outcome.index, fill_value=0)
    classes = pd.Series(None, index=outcome.index, dtype=object)
    classes[outcome.isin([co.DETERIORATED, co.MIXED, co.NO_CHANGE])] = ENDS_WORSE
    classes[outcome.isin([co.BOTH_IMPROVED, co.ONE_IMPROVED])] = ENDS_IMPROVED
    judged = (counts >= MIN_RATED) & classes.notna()
    return classes[judged], outcome[judged]


# --- Today's rules, as of each rated session -------------------------------------------


def rules_first_flags(
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    couples: pd.Index,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """couple_id -> the first rated session at which the not-on-track rules flag the
    couple (`not_on_track`, and `deteriorated` = a partner reliably deteriorated alone),
    NaN when they never do. Each k runs caseload_outcomes once on every couple's sessions
    up to its k-th rated session: the real rules, no per-couple loop. Without `expected`
    they are today's rules; with it, the rules since issue 22 (a partner well below the
    expected course at their latest rating is not on track too)."""
    from dashboard.domain.outcomes import caseload_outcomes

    sessions = sessions[sessions["couple_id"].isin(couples)]
    before = rated_before(sessions)
    counts = rated_count(sessions)
    first = pd.DataFrame(np.nan, index=pd.Index(couples, name="couple_id"), columns=["any", "det"])
    open_ = set(couples)
    for k in range(1, int(counts.max()) + 1):
        still = counts.index[(counts >= k) & counts.index.isin(list(open_))]
        if len(still) == 0:
            break
        prefix = sessions[sessions["couple_id"].isin(still) & (before < k)]
        out = caseload_outcomes(prefix, params, expected)
        deteriorated = out["deteriorated_a"] | out["deteriorated_b"]
        for column, flagged in (("any", out["not_on_track"]), ("det", deteriorated)):
            new = flagged.index[flagged.to_numpy(dtype=bool)]
            new = new[first.loc[new, column].isna()]
            first.loc[new, column] = k
        open_ = set(first.index[first["any"].isna() | first["det"].isna()])
    return first


def naive_first_flags(sessions: pd.DataFrame, couples: pd.Index) -> pd.Series:
    """couple_id -> the first rated session at which a partner's EII is strictly below
    that partner's intake (their first EII of the same source); NaN when never."""
    from dashboard.domain.same_source import COUNSELOR

    sessions = sessions[sessions["couple_id"].isin(couples)]
    by = sessions["couple_id"].to_numpy()
    number = (rated_before(sessions) + 1).to_numpy(dtype="float64")
    hit = np.zeros(len(sessions), dtype=bool)
    for key in ("a", "b"):
        eii = sessions[f"eii_{key}"]
        source = sessions[f"source_{key}"].fillna(COUNSELOR).to_numpy()
        intake = eii.groupby([by, source]).transform("first")
        hit |= (eii < intake).to_numpy(dtype=bool)
    first = sessions.loc[hit, ["couple_id"]].assign(k=number[hit])
    return first.groupby("couple_id")["k"].min().reindex(couples)


# --- The new alerts ------------------------------------------------------------------


def auc(score: pd.Series, classes: pd.Series) -> float:
    """Mann-Whitney AUC: the chance that a couple that ends worse scores higher than one
    that ends improved (ties count half), over couples with a score."""
    both = pd.DataFrame({"score": score, "ends": classes}).dropna()
    worse = both["ends"].eq(ENDS_WORSE).to_numpy()
    ranks = both["score"].rank(method="average").to_numpy()
    n_worse, n_improved = int(worse.sum()), int((~worse).sum())
    if n_worse == 0 or n_improved == 0:
        return math.nan
    return (ranks[worse].sum() - n_worse * (n_worse + 1) / 2) / (n_worse * n_improved)


def share(first_flag: pd.Series, classes: pd.Series, ends: str, by: int) -> float:
    """Share of the couples in class `ends` flagged at or before rated session `by`."""
    flagged = first_flag.reindex(classes.index) <= by
    return float(flagged[classes.eq(ends)].mean())


@dataclass(frozen=True)
class Judged:
    """One clinic's held-out figures."""

    clinic: str
    norms_label: str
    model_label: str
    fitted_couples: int
    held_out_couples: int
    short_couples: int  # held out with fewer than MIN_RATED rated sessions: not judged
    classes: pd.Series  # couple_id -> ENDS_WORSE / ENDS_IMPROVED
    flags: pd.DataFrame  # couple_id -> first rated session of each warning (NaN: never)
    shown: pd.DataFrame  # bool: the caseload's alert at rated session 3 / 4
    distance_s4: pd.Series  # couple_id -> the worse partner's distance from the expected course
    intake: pd.Series  # couple_id -> the partners' mean intake EII
    change_s4: pd.Series  # couple_id -> the worse partner's change since intake by session 4
    intake_higher_is_worse: bool  # the direction read on the fitted half
    final_change: pd.Series  # couple_id -> the worse partner's change over the whole course
    final_outcome: pd.Series  # couple_id -> the outcome words over the whole course
    combined: pd.Series  # couple_id -> intake and session-4 change in one linear score
    # Couples who stopped after 2-3 rated sessions without improving (early_stoppers):
    # how many, and the share well below / below / today's rules flagged by their last.
    stopped: tuple[int, float, float, float]


def fit_model(sessions: pd.DataFrame, params: ReliableChangeParams) -> ExpectedModel:
    """The expected course of the EII from these couples, as the clinic's model is fitted:
    courses of the EII, the clinic norms' S_diff for the fallback, the 0-100 scale."""
    from dashboard.domain import expected_response as er

    return er.fit(
        er.courses(sessions), measure="eii", fallback_s_diff=params.s_diff, bounds=(0.0, 100.0)
    )


def numbered_courses(sessions: pd.DataFrame) -> pd.DataFrame:
    """expected_response.courses of the sessions, each rating with the couple's rated
    session number `k` it was given at (matched on the partner's n-th rating)."""
    from dashboard.domain import expected_response as er

    rows = er.courses(sessions)
    number = rated_before(sessions) + 1
    parts = []
    for key in ("a", "b"):
        rated = sessions[f"eii_{key}"].notna()
        parts.append(
            pd.DataFrame(
                {
                    "couple_id": sessions.loc[rated, "couple_id"].to_numpy(),
                    "partner": key,
                    "k": number[rated].to_numpy(),
                    "date": sessions.loc[rated, "session_date"].to_numpy(),
                }
            )
        )
    ks = pd.concat(parts, ignore_index=True)
    ks["nth"] = ks.groupby(["couple_id", "partner"]).cumcount()
    rows["nth"] = rows.groupby(["couple_id", "partner"]).cumcount()
    rows = rows.merge(ks, on=["couple_id", "partner", "nth"], how="left", validate="one_to_one")
    assert rows["date"].eq(rows["session_date"]).all(), "ratings matched to the wrong session"
    return rows.drop(columns=["nth", "date"])


def first_at(rows: pd.DataFrame, hit: pd.Series) -> pd.Series:
    """couple_id -> the smallest rated session number `k` among the rows where `hit`."""
    return rows.loc[hit, ["couple_id", "k"]].groupby("couple_id")["k"].min()


def early_figures(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per couple, from numbered course rows: the partners' mean intake, the worse
    partner's change since intake by the 4th rated session, and over the whole course."""
    per_partner = rows.groupby(["couple_id", "partner"])
    intake = per_partner["score"].first().groupby("couple_id").mean()
    early = rows[rows["k"] <= 4].groupby(["couple_id", "partner"]).last()
    change_s4 = (early["score"] - early["intake"]).groupby("couple_id").min()
    last = per_partner.last()
    final_change = (last["score"] - last["intake"]).groupby("couple_id").min()
    return intake, change_s4, final_change


def combined_score(
    intake: pd.Series, change_s4: pd.Series, classes: pd.Series
) -> Callable[[pd.Series, pd.Series], pd.Series]:
    """A reference, not the product: the least-squares line of "ends worse" (1 / 0) on
    intake and session-4 change, fitted on these couples; returns the scorer to apply
    to other couples. What an early warning that kept the intake could reach."""
    data = pd.DataFrame({"intake": intake, "change": change_s4, "ends": classes}).dropna()
    x = np.column_stack([np.ones(len(data)), data["intake"], data["change"]])
    y = data["ends"].eq(ENDS_WORSE).to_numpy(dtype="float64")
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    return lambda i, c: w[0] + w[1] * i + w[2] * c


def judge(clinic: Clinic, *, swap: bool = False) -> Judged:
    """Fit on one half of the clinic's couples, judge the other half (module docstring)."""
    from dashboard.domain import expected_response as er

    fitted_half, held_out = halves(clinic.sessions, swap=swap)
    classes, outcomes = outcome_classes(held_out, clinic.params)
    model = fit_model(fitted_half, clinic.params)
    judged = held_out[held_out["couple_id"].isin(classes.index)]
    rows = numbered_courses(judged)
    rank = pd.Series(er.partner_alerts(rows, model)).map(er.ALERT_RANK)
    couples = classes.index
    flags = pd.DataFrame(index=couples)
    flags["well_below"] = first_at(rows, rank >= er.ALERT_RANK[er.Alert.WELL_BELOW])
    flags["below"] = first_at(rows, rank >= er.ALERT_RANK[er.Alert.BELOW])
    rules = rules_first_flags(judged, clinic.params, couples)
    flags["rules"], flags["deterioration"] = rules["any"], rules["det"]
    flags["naive"] = naive_first_flags(judged, couples)
    flags["with_alert"] = rules_first_flags(judged, clinic.params, couples, model)["any"]

    # What the caseload shows at the 3rd and 4th rated session: each partner at the
    # latest rating of the source same_source_pair picks, against that rating's band.
    at = {k: er.caseload_alerts(judged[rated_before(judged) < k], model) for k in CHECKPOINTS}
    shown = pd.DataFrame(index=couples)
    for k, alerts in at.items():
        level = alerts["alert"].reindex(couples).map(er.ALERT_RANK)
        for name, alert in (("well_below", er.Alert.WELL_BELOW), ("below", er.Alert.BELOW)):
            shown[f"{name}_{k}"] = (level >= er.ALERT_RANK[alert]).to_numpy(dtype=bool)
    shown_4 = at[4]
    distance = pd.concat(
        [
            (shown_4[f"score_{k}"] - shown_4[f"expected_p50_{k}"])
            / (shown_4[f"expected_p50_{k}"] - shown_4[f"expected_p10_{k}"])
            for k in ("a", "b")
        ],
        axis=1,
    ).min(axis=1)

    intake, change_s4, final_change = early_figures(rows)
    fitted_classes, _ = outcome_classes(fitted_half, clinic.params)
    fitted_rows = numbered_courses(fitted_half[fitted_half["couple_id"].isin(fitted_classes.index)])
    fitted_intake, fitted_change, _ = early_figures(fitted_rows)
    both = combined_score(fitted_intake, fitted_change, fitted_classes)
    return Judged(
        clinic=clinic.name,
        norms_label=clinic.norms_label,
        model_label=model.method_text("counselor"),
        fitted_couples=int(fitted_half["couple_id"].nunique()),
        held_out_couples=int(held_out["couple_id"].nunique()),
        short_couples=int(
            (
                rated_count(held_out).reindex(held_out["couple_id"].unique(), fill_value=0)
                < MIN_RATED
            ).sum()
        ),
        classes=classes,
        flags=flags.astype("float64"),
        shown=shown,
        distance_s4=distance.reindex(couples).astype("float64"),
        intake=intake.reindex(couples),
        change_s4=change_s4.reindex(couples),
        intake_higher_is_worse=bool(auc(fitted_intake, fitted_classes) >= 0.5),
        combined=both(intake.reindex(couples), change_s4.reindex(couples)),
        final_change=final_change.reindex(couples).astype("float64"),
        final_outcome=outcomes,
        stopped=early_stoppers(held_out, model, clinic.params),
    )


# --- Printing --------------------------------------------------------------------------

WARNINGS = (
    ("well_below", "new alert: well below expected (under the 10th), at any rating"),
    ("below", "new alert: below expected (under the 25th), at any rating"),
    ("rules", "today's rules: not on track"),
    ("deterioration", "  of which a partner reliably deteriorated"),
    ("naive", "naive: any partner below their intake"),
    ("with_alert", "not on track since issue 22 (rules + well below at the latest)"),
)
SHOWN = (
    ("well_below", "  well below expected"),
    ("below", "  below expected"),
)


def percent(figure: float) -> str:
    return "  n/a" if math.isnan(figure) else f"{figure * 100:4.0f}%"


def gained(flags: pd.DataFrame, classes: pd.Series, alert: str, rules: str) -> str:
    """The sessions of warning `alert` gains over `rules`, for couples that end worse."""
    worse = flags[classes.eq(ENDS_WORSE)]
    both = worse[worse[alert].notna() & worse[rules].notna()]
    gain = both[rules] - both[alert]
    never = worse[worse[rules].isna()]
    median = statistics.median(gain) if len(gain) else math.nan
    return (
        f"{len(both)} of {len(worse)} flagged by both, the alert a median "
        f"{median:+.1f} rated sessions earlier (earlier for {int((gain > 0).sum())}, at the "
        f"same session for {int((gain == 0).sum())}, later for {int((gain < 0).sum())}); "
        f"never flagged by the rule: {len(never)} (the alert flags "
        f"{int(never[alert].notna().sum())} of them)"
    )


def print_clinic(j: Judged) -> None:
    """The side-by-side table and the honesty figures of one clinic."""
    classes, flags = j.classes, j.flags
    n_worse, n_improved = int(classes.eq(ENDS_WORSE).sum()), int(classes.eq(ENDS_IMPROVED).sum())
    print(f"\n== {j.clinic}: the expected course fitted on {j.fitted_couples} couples, judged")
    print(f"   on the other {j.held_out_couples} (split by couple at random, seed {SPLIT_SEED})")
    print(f"   EII reliable change: {j.norms_label}")
    print(f"   Counselor ratings' course: {j.model_label}")
    print(f"   Held-out couples with at least {MIN_RATED} rated sessions, outcome over the whole")
    print("   course (partner-level; a couple still in therapy at its latest session):")
    print(f"   - {ENDS_WORSE} (Deteriorated, Mixed, No reliable change): {n_worse}")
    print(f"   - {ENDS_IMPROVED} (Both improved, One partner improved): {n_improved}")
    rest = j.held_out_couples - n_worse - n_improved - j.short_couples
    print(
        f"   - left out: {j.short_couples} with fewer than {MIN_RATED} rated sessions (a "
        f"couple who stops earlier is never judged here), {rest} not yet measurable"
    )
    n, well, below, rules = j.stopped
    print(
        f"   Stopped after 2-3 rated sessions without improving ({n} held out, not seen for "
        f"{STOPPED_AFTER_DAYS} days): flagged by their last rating: well below {percent(well)}, "
        f"below {percent(below)}, today's rules {percent(rules)}"
    )
    print(f"   {'':62} sensitivity    false alarms   ever flagged")
    print(f"   {'flagged by the rated session':62} 3rd    4th     3rd    4th    worse  improved")
    for column, words in WARNINGS:
        cells = [
            share(flags[column], classes, ends, k)
            for ends in (ENDS_WORSE, ENDS_IMPROVED)
            for k in CHECKPOINTS
        ]
        ever = [
            float(flags[column][classes.eq(ends)].notna().mean())
            for ends in (ENDS_WORSE, ENDS_IMPROVED)
        ]
        print(
            f"   {words:62} {'  '.join(percent(c) for c in cells)}  "
            f"{'  '.join(percent(c) for c in ever)}"
        )
    print("   the alert the caseload shows at that session (not 'by'):")
    for column, words in SHOWN:
        cells = [
            float(j.shown[f"{column}_{k}"][classes.eq(ends)].mean())
            for ends in (ENDS_WORSE, ENDS_IMPROVED)
            for k in CHECKPOINTS
        ]
        print(f"   {words:62} {'  '.join(percent(c) for c in cells)}")
    print("   Warning gained over today's rules, couples who end deteriorated or stopped")
    print("   without improving:")
    for alert, words in (("well_below", "well below"), ("below", "below")):
        for rules, name in (("rules", "not on track"), ("deterioration", "reliable deterioration")):
            print(f"   - {words} vs {name}: {gained(flags, classes, alert, rules)}")
    direction = "higher" if j.intake_higher_is_worse else "lower"
    worse_first = j.intake if j.intake_higher_is_worse else -j.intake
    print("   What the generator ties to the outcome (AUC: a couple that ends worse ranked above")
    print("   one that ends improved, ties half, held out):")
    print(
        "   - session-4 distance from the expected course (the worse partner's "
        "(score - 50th) / (50th - 10th), lower = worse): "
        f"{auc(-j.distance_s4, classes):.3f}"
    )
    print(
        f"   - intake alone (the partners' mean first EII, {direction} = worse as read on "
        f"the fitted half): {auc(worse_first, classes):.3f}"
    )
    print(
        "   - session-4 change alone (the worse partner's change since intake, lower = "
        f"worse): {auc(-j.change_s4, classes):.3f}"
    )
    print(
        "   - for reference, intake and session-4 change together (a least-squares line "
        f"fitted on the fitted half): {auc(j.combined, classes):.3f}"
    )
    rho = j.change_s4.rank().corr(j.final_change.rank())
    print(f"   - rank correlation, session-4 change vs change over the whole course: {rho:.2f}")
    frame = pd.DataFrame({"change": j.change_s4, "intake": j.intake, "ends": j.final_outcome})
    medians = frame.groupby("ends").median()
    print("   - medians by final outcome (session-4 change of the worse partner; intake):")
    for name, row in medians.iterrows():
        print(f"     {name}: {row['change']:+.1f}; intake {row['intake']:.1f}")


STOPPED_AFTER_DAYS = 35  # not seen for five weeks before the clinic's last session: stopped


def early_stoppers(
    held_out: pd.DataFrame, model: ExpectedModel, params: ReliableChangeParams
) -> tuple[int, float, float, float]:
    """The couples MIN_RATED leaves out that the issue is about: held out, 2-3 rated
    sessions, not seen for STOPPED_AFTER_DAYS before the clinic's last session, and no
    partner reliably improved. Returns (how many, the share the well-below alert flagged
    at any of their ratings, the same for below, the share today's rules flagged)."""
    from dashboard.domain import expected_response as er
    from dashboard.domain.outcomes import caseload_outcomes

    counts = rated_count(held_out)
    last_seen = held_out.groupby("couple_id")["session_date"].max()
    gone = last_seen < held_out["session_date"].max() - pd.Timedelta(days=STOPPED_AFTER_DAYS)
    short = counts.index[counts.between(2, MIN_RATED - 1) & gone.reindex(counts.index)]
    sessions = held_out[held_out["couple_id"].isin(short)]
    out = caseload_outcomes(sessions, params)
    improved = out["status_a"].eq("improved") | out["status_b"].eq("improved")
    stopped = out.index[~improved.to_numpy(dtype=bool)]
    if len(stopped) == 0:
        return 0, math.nan, math.nan, math.nan
    rows = numbered_courses(sessions[sessions["couple_id"].isin(stopped)])
    rank = pd.Series(er.partner_alerts(rows, model)).map(er.ALERT_RANK)
    well = first_at(rows, rank >= er.ALERT_RANK[er.Alert.WELL_BELOW]).reindex(stopped)
    below = first_at(rows, rank >= er.ALERT_RANK[er.Alert.BELOW]).reindex(stopped)
    rules = rules_first_flags(sessions, params, pd.Index(stopped))["any"]
    return (
        len(stopped),
        float(well.notna().mean()),
        float(below.notna().mean()),
        float(rules.notna().mean()),
    )


def report_clinic(j: Judged, suffix: str) -> None:
    """The BENCH lines of one clinic (at the 4th rated session)."""
    classes, flags = j.classes, j.flags
    value(f"expected_auc_s4{suffix}", auc(-j.distance_s4, classes))
    for name, column in (
        ("expected", "well_below"),
        ("expected_below", "below"),
        ("rules", "rules"),
    ):
        value(f"{name}_sensitivity_s4{suffix}", share(flags[column], classes, ENDS_WORSE, 4))
        value(f"{name}_false_alarm_s4{suffix}", share(flags[column], classes, ENDS_IMPROVED, 4))
    worse_first = j.intake if j.intake_higher_is_worse else -j.intake
    value(f"intake_auc{suffix}", auc(worse_first, classes))
    value(f"change_auc_s4{suffix}", auc(-j.change_s4, classes))
    value(f"expected_sensitivity_stopped{suffix}", j.stopped[1])
    value(f"rules_sensitivity_stopped{suffix}", j.stopped[3])


# --- Speed ---------------------------------------------------------------------------

FLOOR_SQL = (
    "SELECT couple_id, id, session_date, attendance, stage, eii_a, eii_b, source_a, source_b "
    "FROM sessions WHERE deleted_at IS NULL ORDER BY couple_id, session_date, id"
)


def fit_speed() -> None:
    """expected_fit_150k: the EII's expected course fitted from the whole database, as
    the service fits a candidate (read every live couple's sessions, courses, fit), in
    a fresh session on an engine made once; against reading the same rows with
    hand-written SQL through sqlite3 (no SQLAlchemy, no pandas), taking turns. Then
    expected_candidate_150k: `services.expected.candidate`, what the admin's preview and
    publish fit (the EII and every questionnaire)."""
    from sqlalchemy import select

    from dashboard.services import expected
    from dashboard.services.norms import clinic_norms
    from db import review_queries
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple

    engine = make_engine(ensure_size(CLINIC_150K))
    sessions = make_sessionmaker(engine)
    raw = sqlite3.connect(db_path(CLINIC_150K.name))
    try:

        def fitted() -> None:
            with sessions() as db:
                every = select(Couple.id).where(Couple.deleted_at.is_(None))
                frame = review_queries.review_sessions(db, every)
                fit_model(frame, clinic_norms(db).eii)
                db.rollback()

        def floor() -> None:
            raw.execute(FLOOR_SQL).fetchall()

        def publishable() -> None:
            with sessions() as db:
                expected.candidate(db)
                db.rollback()

        samples = measure_interleaved({"fit": fitted, "read": floor}, runs=FIT_RUNS, warmup=1)
        seconds = statistics.median(samples["fit"]) / 1000
        value("expected_fit_150k", seconds)
        report_ratio(
            "expected_fit_150k_vs_read", seconds * 1000 / statistics.median(samples["read"])
        )
        value(
            "expected_candidate_150k", statistics.median(measure(publishable, runs=FIT_RUNS)) / 1000
        )
    finally:
        raw.close()
        engine.dispose()


def course_speed() -> None:
    """expected_course_vs_timeline: the long couple of clinic_150k, its expected course
    as the timeline builds it (the published model read through services/expected.py in
    a fresh session, then `expected_bands.partner_bands` for both partners' EII) against
    its timeline load as bench_timeline.py loads it (timeline_view, every figure and
    table), taking turns. Target <= 0.2."""
    from sqlalchemy import select

    from bench.bench_timeline import page_load
    from dashboard.domain.expected_bands import partner_bands
    from dashboard.domain.same_source import COUNSELOR
    from dashboard.services import expected
    from db import review_queries
    from db.engine import make_engine, make_sessionmaker
    from db.models import Couple

    engine = make_engine(ensure_size(CLINIC_150K))
    sessions = make_sessionmaker(engine)
    case_code = clinic_info(CLINIC_150K.name)["long_couples"][0]
    try:
        with sessions() as db:
            couple = select(Couple.id).where(Couple.case_code == case_code)
            one = review_queries.review_sessions(db, couple)
            print(f"   {case_code}'s course: {expected.expected_model(db).label}")

        def course() -> None:
            with sessions() as db:
                model = expected.expected_model(db)
                db.rollback()
            for key in ("a", "b"):
                rated = one.dropna(subset=[f"eii_{key}"])
                sources = rated[f"source_{key}"].fillna(COUNSELOR)
                partner_bands(
                    key.upper(),
                    list(rated["session_date"]),
                    list(rated[f"eii_{key}"]),
                    list(sources),
                    model,
                    list(rated["session_id"]),
                )

        with contextlib.ExitStack() as stack:
            samples = measure_interleaved(
                {"course": course, "timeline": page_load(CLINIC_150K, stack)},
                runs=COURSE_RUNS,
                warmup=3,
            )
        course_ms = statistics.median(samples["course"])
        timeline_ms = statistics.median(samples["timeline"])
        print(f"BENCH name=expected_course_150k median_ms={course_ms:.2f} runs={COURSE_RUNS}")
        print(f"BENCH name=timeline_150k_beside median_ms={timeline_ms:.2f} runs={COURSE_RUNS}")
        report_ratio("expected_course_vs_timeline", course_ms / timeline_ms)
    finally:
        engine.dispose()


def print_swapped(j: Judged) -> None:
    """The headline figures with the halves swapped: fitted on the half judged above."""
    classes, flags = j.classes, j.flags
    cells = ", ".join(
        f"{name} {percent(share(flags[column], classes, ENDS_WORSE, 4)).strip()} / "
        f"{percent(share(flags[column], classes, ENDS_IMPROVED, 4)).strip()}"
        for column, name in (("well_below", "well below"), ("below", "below"), ("rules", "rules"))
    )
    print(
        f"   Halves swapped (fitted on the {j.fitted_couples} couples judged above): "
        f"AUC {auc(-j.distance_s4, classes):.3f}; by the 4th, sensitivity / false alarms: "
        f"{cells}"
    )


def main() -> int:
    for size, suffix in ((CLINIC_15K, ""), (CLINIC_150K, "_150k")):
        clinic = read_clinic(size)
        judged = judge(clinic)
        print_clinic(judged)
        print_swapped(judge(clinic, swap=True))
        report_clinic(judged, suffix)
    fit_speed()
    course_speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
