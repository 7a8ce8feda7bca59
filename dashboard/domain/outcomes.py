"""The trajectory rules of scoring.py, vectorized over a whole caseload (issue 4).

scoring.couple_trajectory judges one couple from a list of SessionPoint; the supervisor
review needs the same judgement for thousands of couples at once, computed with
groupby / first / last / shift on one frame instead of a Python loop over couples.
Every rule below names the scalar function it mirrors, and the tests (unit:
tests/unit/test_outcomes.py; the whole demo clinic: tests/integration/
test_outcomes_demo.py) check the two agree field by field. Pure: frames in, frames out.

The only per-row Python left is formatting the reason sentences, and only for couples
that are flagged (the attention list), so the words are exactly scoring's words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain import scoring
from dashboard.domain.catalog import INDICATORS, RATING_MAX
from dashboard.domain.couple_outcome import couple_outcomes
from dashboard.domain.expected_response import (
    ALERT_RANK,
    Alert,
    CoupleAlert,
    ExpectedModel,
    caseload_alerts,
)
from dashboard.domain.numbers import one_decimal
from dashboard.domain.same_source import COUNSELOR, SELF, SOURCES
from dashboard.domain.scoring import (
    DIVERGING_GAP,
    DIVERGING_SESSIONS,
    EII_MIN_ITEMS,
    LINE_TOLERANCE,
    NOT_ON_TRACK_AFTER_SESSIONS,
    RELIABLE_Z,
    Change,
    ReliableChangeParams,
    expected_reason,
    shown_beside,
)

# The rules' separate findings, each a bool column of caseload_outcomes' result.
TRAJECTORY_FLAGS = (
    "deteriorated_a",
    "deteriorated_b",
    "no_improvement",
    "stage_regressed",
    "below_expected",  # the worst partner's expected-course alert is NOT_ON_TRACK_ALERT
    "diverging_opposite",
    "diverging_discrepancy",
)

# The expected-course alert (expected_response.caseload_alerts), every couple: the
# couple's worst alert and its partner ("Partner A", "Partner B", "both partners" or
# None), and per partner the alert and what it was judged on: the source, the rating
# number, the score and the expected percentiles there (None / NaN without a model or a
# band).
_PER_PARTNER = ("alert", "source", "session", "score", "p10", "p25", "p50")
EXPECTED_COLUMNS = [
    "expected_alert",
    "expected_partner",
    *(f"expected_{name}_{key}" for key in ("a", "b") for name in _PER_PARTNER),
]
_TEXT = ("expected_alert", "expected_partner", "expected_source")
# caseload_alerts' column -> ours.
_FROM_ALERTS = {
    "alert": "expected_alert",
    "alert_partner": "expected_partner",
    **{f"alert_{k}": f"expected_alert_{k}" for k in ("a", "b")},
    **{f"score_{k}": f"expected_score_{k}" for k in ("a", "b")},
    **{
        f"expected_{n}_{k}": f"expected_{n}_{k}"
        for k in ("a", "b")
        for n in ("source", "session", "p10", "p25", "p50")
    },
}

# Columns of caseload_outcomes' result (index: couple_id).
OUTCOME_COLUMNS = [
    "sessions_held",
    "status_a",
    "status_b",
    "status_couple",
    "rci_a",
    "rci_b",
    "rci_couple",
    "change_a",
    "change_b",
    "change_couple",
    "judged_on_a",
    "judged_on_b",
    "outcome",
    *TRAJECTORY_FLAGS,
    "not_on_track",
    "diverging",
    "not_on_track_reasons",
    "diverging_reasons",
    "reasons",
    "stage_first",
    "stage_latest",
    "first_reliable_improvement_session",
    "first_reliable_improvement_date",
    *EXPECTED_COLUMNS,
]

_STATUS = np.empty(4, dtype=object)  # code -> status: 0 None (not judged), 1, 2, 3
_STATUS[1:] = [Change.NO_RELIABLE_CHANGE, Change.IMPROVED, Change.DETERIORATED]
_REVERSE = {i.key: i.reverse_scored for i in INDICATORS}
_PARTNERS = (("a", "Partner A"), ("b", "Partner B"))


# --- EII per partner and session -----------------------------------------------------


def partner_eii_frame(ratings: pd.DataFrame) -> pd.DataFrame:
    """scoring.partner_eii for every (session_id, partner) in a long ratings frame.

    Input columns session_id, partner, item, value (one row per rated item). Mirrors
    partner_eii exactly: only the eight catalogue items count (partner_eii walks
    INDICATORS, so other keys are ignored); missing values are not items; warning signs
    are reverse-scored (RATING_MAX − value, scoring.item_score); the mean of the scored
    items is scaled to 0–100 as sum / count · (100 / RATING_MAX); NaN when fewer than
    EII_MIN_ITEMS (6) items were rated. Output: one row per (session_id, partner) that
    has any row in the input, columns session_id, partner, items, eii.
    """
    keys = ["session_id", "partner"]
    # Look the item keys up once per distinct key (a .map over millions of strings is
    # the slow part otherwise): 1 = reverse-scored, 0 = scored as is, -1 = not an item.
    codes, uniques = pd.factorize(ratings["item"], use_na_sentinel=True)
    kind = np.array([{True: 1, False: 0}.get(_REVERSE.get(u), -1) for u in uniques] + [-1])
    kind = kind[codes]  # code -1 (missing key) picks the trailing -1
    value = ratings["value"].to_numpy(dtype="float64", na_value=np.nan)
    score = np.where(kind == 1, RATING_MAX - value, value)
    score[kind < 0] = np.nan
    frame = ratings[keys].assign(score=score)
    agg = frame.groupby(keys, sort=True).agg(total=("score", "sum"), items=("score", "count"))
    eii = (agg["total"] / agg["items"] * (100 / RATING_MAX)).where(agg["items"] >= EII_MIN_ITEMS)
    out = agg[["items"]].assign(eii=eii.astype("float64")).reset_index()
    out["items"] = out["items"].astype("int64")
    return out


# --- Reliable change, vectorized -----------------------------------------------------


def _judge(
    first: pd.Series, last: pd.Series, valid: pd.Series, params: ReliableChangeParams
) -> pd.DataFrame:
    """scoring.classify_change (higher is better) for many first → last pairs at once.

    Reliable when |RCI| > RELIABLE_Z, or |difference| > the instrument's own threshold
    (threshold_override), each strictly above the line plus scoring's 1e-9 tolerance,
    or at or above it for an inclusive threshold (scoring._beyond). A reliable change is an improvement when the difference is above
    0, otherwise a deterioration (as in classify_change). Rows where `valid` is False
    (fewer than two scores: PartnerTrajectory / couple with no change) have status None
    and NaN numbers; so has every row when the params carry no reliable-change value.
    """
    difference = (last - first).where(valid)
    index = pd.Series(np.nan, index=first.index, dtype="float64")
    if params.threshold_override is not None:
        if params.threshold_inclusive:
            reliable = difference.abs() >= params.threshold_override - LINE_TOLERANCE
        else:
            reliable = difference.abs() > params.threshold_override + LINE_TOLERANCE
        judged = True
    elif params.s_diff is not None:
        if params.s_diff <= 0:  # scoring.rci refuses the same
            raise ValueError("S_diff must be above 0")
        index = difference / params.s_diff
        reliable = index.abs() > RELIABLE_Z + LINE_TOLERANCE
        judged = True
    else:
        reliable = pd.Series(False, index=first.index)
        judged = False
    ok = valid.to_numpy(dtype=bool)
    reliable_np = reliable.to_numpy(dtype=bool) & ok
    up = reliable_np & (difference.to_numpy() > 0)
    down = reliable_np & ~up
    code = np.where(up, 2, np.where(down, 3, 1 if judged else 0))
    code[~ok] = 0
    status = _STATUS[code]  # fancy indexing keeps the Change members (np.full would not)
    return pd.DataFrame(
        {
            "status": pd.Series(status, index=first.index, dtype=object),
            "rci": index.astype("float64"),
            "change": difference.astype("float64"),
            "improved": up,
            "deteriorated": down,
        },
        index=first.index,
    )


def _evidence(rci: pd.Series, change: pd.Series, params: ReliableChangeParams) -> pd.Series:
    """scoring.change_evidence's words ('RCI −2.0' or '−24.8 points') for the given rows."""
    if params.threshold_override is None:
        return rci.map(lambda v: f"RCI {shown_beside(v, RELIABLE_Z)}").astype(str)
    limit = params.threshold or 0.0
    inclusive = params.threshold_inclusive
    return change.map(
        lambda v: f"{shown_beside(v, limit, signed=True, inclusive=inclusive)} points"
    ).astype(str)


def _join(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """Join per-row reason Series with '; ', skipping rows' missing parts."""
    acc = pd.Series(None, index=index, dtype=object)
    for part in parts:
        part = part.reindex(index).astype(object)
        both = acc.notna() & part.notna()
        acc = acc.where(acc.notna(), part)
        acc[both] = acc[both] + "; " + part[both]
    return acc


# --- The caseload --------------------------------------------------------------------


def caseload_outcomes(
    sessions: pd.DataFrame,
    params: ReliableChangeParams,
    expected: ExpectedModel | None = None,
) -> pd.DataFrame:
    """scoring.couple_trajectory for every couple in `sessions`, without a per-couple loop.

    Input: one row per live session, columns couple_id, session_id, session_date, held
    (bool), stage (Int64, NA = not rated), eii_a, eii_b (float, NaN = no EII), and
    optionally source_a, source_b (who gave each EII; "counselor" when absent), already in
    (couple_id, session_date, session_id) order (a date going backwards within a couple
    raises ValueError, as couple_trajectory does). Output: one row per couple, index
    couple_id, columns OUTCOME_COLUMNS. Rules, each mirroring couple_trajectory:

    - sessions_held: count of held sessions (couple_trajectory's `held`).
    - status_a / status_b, rci_a / rci_b, change_a / change_b: first vs last EII of that
      partner from one source, NaN skipped (partner_trajectory, same_source.py): the
      latest rating's source when it has 2 ratings, else the other source's when it has
      2; None without such a pair. judged_on_a / judged_on_b: that source (None).
    - status_couple / rci_couple / change_couple: couple EII (A + B) / 2 at the first vs
      last session where both have an EII and the two sources are the latest such
      session's (like with like); None with fewer than 2 such sessions. Drawn
      on charts, never the couple's outcome.
    - outcome: couple_outcome.couple_outcome of status_a and status_b (partner-level).
    - not_on_track = deteriorated_a | deteriorated_b | no_improvement | stage_regressed
      | below_expected:
      no_improvement = more than NOT_ON_TRACK_AFTER_SESSIONS (8) held and neither
      partner reliably improved (partner-level: the couple mean does not count); stage_regressed = the last three
      stage-rated sessions drop twice in a row (a plateau breaks the run, unrated
      sessions are skipped); below_expected = with an `expected` model, the couple's
      worst partner alert (expected_response.caseload_alerts, proven equal to
      couple_alert) is scoring.NOT_ON_TRACK_ALERT or worse (False without a model).
    - EXPECTED_COLUMNS: that alert for every couple (NO_DATA for a couple without a
      rating to judge; None and NaN without a model).
    - diverging = diverging_opposite | diverging_discrepancy: one partner reliably improved
      while the other reliably deteriorated; |EII_A − EII_B| above DIVERGING_GAP (20,
      plus the 1e-9 tolerance) in each of the last DIVERGING_SESSIONS (3) jointly rated
      sessions.
    - not_on_track_reasons / diverging_reasons: "; ".join of
      CoupleTrajectory.not_on_track_reasons / diverging_reasons, word for word (None
      when not flagged); reasons: the same "not on track: …; partners diverging: …" parts as
      CoupleTrajectory.summary() ("" when neither).
    - stage_first / stage_latest: first and last stage rating (Int64, NA if none).
    - first_reliable_improvement_session: held sessions counted up to and including the
      first session at which either partner's EII is a reliable improvement over that
      partner's baseline (their first EII), judged as classify_change would judge
      baseline → that session; NaN if that never happened (or no reliable-change
      value). Partner-level, like the outcome. For the clinic overview's "median
      sessions to a partner's first reliable improvement"; first_reliable_improvement_date
      is that session's date (NaT if none).
    """
    couple = sessions["couple_id"]
    _check_order(sessions)
    held = sessions["held"].astype(bool)
    by = couple.to_numpy()
    index = pd.Index(pd.unique(by)).sort_values()
    index.name = "couple_id"
    out = pd.DataFrame(index=index)
    out["sessions_held"] = held.groupby(by).sum().reindex(index, fill_value=0).astype("int64")

    judged: dict[str, pd.DataFrame] = {}
    for key, _label in _PARTNERS:
        first, last, valid, source = _same_source(sessions, key, by, index)
        judged[key] = _judge(first, last, valid, params)
        out[f"judged_on_{key}"] = source

    joint_mask = sessions["eii_a"].notna() & sessions["eii_b"].notna()
    joint = sessions.loc[joint_mask, ["couple_id"]].copy()
    joint["eii"] = (sessions.loc[joint_mask, "eii_a"] + sessions.loc[joint_mask, "eii_b"]) / 2
    joint["gap"] = (sessions.loc[joint_mask, "eii_a"] - sessions.loc[joint_mask, "eii_b"]).abs()
    # The couple mean like with like (couple_trajectory): only jointly rated sessions
    # whose pair of sources is the couple's latest pair.
    pair = (_sources(sessions, "a") + "/" + _sources(sessions, "b"))[joint_mask]
    alike = pair.eq(pair.groupby(joint["couple_id"].to_numpy()).transform("last"))
    jgrouped = joint[alike].groupby("couple_id", sort=True)["eii"]
    jcount = jgrouped.count().reindex(index, fill_value=0)
    judged["couple"] = _judge(
        jgrouped.first().reindex(index), jgrouped.last().reindex(index), jcount >= 2, params
    )

    for key in ("a", "b", "couple"):
        out[f"status_{key}"] = judged[key]["status"]
    for key in ("a", "b", "couple"):
        out[f"rci_{key}"] = judged[key]["rci"]
    for key in ("a", "b", "couple"):
        out[f"change_{key}"] = judged[key]["change"]

    out["outcome"] = couple_outcomes(out["status_a"], out["status_b"])

    # Not on track (couple_trajectory, rules 1-3).
    out["deteriorated_a"] = judged["a"]["deteriorated"]
    out["deteriorated_b"] = judged["b"]["deteriorated"]
    improved = judged["a"]["improved"] | judged["b"]["improved"]
    out["no_improvement"] = (out["sessions_held"] > NOT_ON_TRACK_AFTER_SESSIONS) & ~improved

    rated = sessions.loc[sessions["stage"].notna(), ["couple_id", "stage"]]
    stage = rated["stage"].astype("float64")
    sgrouped = stage.groupby(rated["couple_id"].to_numpy())
    before1, before2 = sgrouped.shift(1), sgrouped.shift(2)
    last_rated = ~rated["couple_id"].duplicated(keep="last")
    path = pd.DataFrame(
        {"s2": before2, "s1": before1, "s0": stage, "couple_id": rated["couple_id"]}
    )[last_rated].set_index("couple_id")
    path = path.reindex(index)
    out["stage_regressed"] = ((path["s2"] > path["s1"]) & (path["s1"] > path["s0"])).fillna(False)

    # Partners diverging (couple_trajectory, rules 1-2).
    a, b = judged["a"], judged["b"]
    out["diverging_opposite"] = (a["improved"] & b["deteriorated"]) | (
        b["improved"] & a["deteriorated"]
    )
    # Gaps like with like (couple_trajectory): sessions with the latest pair of sources.
    same = joint[alike]
    ggrouped = same["gap"].groupby(same["couple_id"].to_numpy())
    gaps = pd.DataFrame(
        {f"g{lag}": ggrouped.shift(lag) for lag in range(DIVERGING_SESSIONS - 1, -1, -1)}
    )
    gaps["couple_id"] = same["couple_id"]
    gaps = gaps[~same["couple_id"].duplicated(keep="last")].set_index("couple_id")
    gaps = gaps.reindex(index)
    wide = gaps.gt(DIVERGING_GAP + LINE_TOLERANCE)  # NaN (too few sessions) compares False
    out["diverging_discrepancy"] = wide.all(axis=1)

    alerts = _expected(sessions, index, expected)
    for column in EXPECTED_COLUMNS:
        out[column] = alerts[column]
    out["below_expected"] = alerts["flag_a"] | alerts["flag_b"]

    out["not_on_track"] = (
        out["deteriorated_a"]
        | out["deteriorated_b"]
        | out["no_improvement"]
        | out["stage_regressed"]
        | out["below_expected"]
    )
    out["diverging"] = out["diverging_opposite"] | out["diverging_discrepancy"]

    _reasons(out, path, gaps, params, alerts)
    out["stage_first"] = _stage(sessions, by, index, "first")
    out["stage_latest"] = _stage(sessions, by, index, "last")
    sessions_to, reached_on = _first_improvement(sessions, held, index, params)
    out["first_reliable_improvement_session"] = sessions_to
    out["first_reliable_improvement_date"] = reached_on
    return out[OUTCOME_COLUMNS]


def alert_columns(alert: CoupleAlert | None) -> dict[str, object]:
    """scoring's CoupleTrajectory.expected (expected_response.couple_alert) as the
    EXPECTED_COLUMNS of one couple: what the caseload's row holds (None / NaN without)."""
    if alert is None:
        return {c: None if c.startswith(_TEXT) else np.nan for c in EXPECTED_COLUMNS}
    out: dict[str, object] = {"expected_alert": alert.alert, "expected_partner": alert.partner}
    for key, judged in (("a", alert.partner_a), ("b", alert.partner_b)):
        band = judged.band
        out[f"expected_alert_{key}"] = judged.alert
        out[f"expected_source_{key}"] = judged.source
        out[f"expected_session_{key}"] = np.nan if judged.session is None else float(judged.session)
        out[f"expected_score_{key}"] = np.nan if judged.score is None else float(judged.score)
        for p in ("p10", "p25", "p50"):
            out[f"expected_{p}_{key}"] = np.nan if band is None else float(getattr(band, p))
    return {c: out[c] for c in EXPECTED_COLUMNS}


def _expected(
    sessions: pd.DataFrame, index: pd.Index, expected: ExpectedModel | None
) -> pd.DataFrame:
    """EXPECTED_COLUMNS and `flag_a` / `flag_b` (a partner at NOT_ON_TRACK_ALERT or worse)
    per couple of `index`."""
    out = pd.DataFrame(index=index)
    if expected is None:
        for column in EXPECTED_COLUMNS:
            out[column] = (
                pd.Series([None] * len(index), index=index, dtype=object)
                if column.startswith(_TEXT)
                else pd.Series(np.nan, index=index, dtype="float64")
            )
        out["flag_a"] = out["flag_b"] = False
        return out
    columns = ["couple_id", "session_id", "session_date", "held", "eii_a", "eii_b"]
    frame = sessions[columns].assign(
        source_a=_sources(sessions, "a"), source_b=_sources(sessions, "b")
    )
    alerts = caseload_alerts(frame, expected).rename(columns=_FROM_ALERTS).reindex(index)
    # Read at call time, as scoring.expected_flag reads it: the one constant moves both.
    line = ALERT_RANK[Alert(scoring.NOT_ON_TRACK_ALERT)]
    for column in EXPECTED_COLUMNS:
        values = alerts[column]
        if column.startswith(_TEXT):
            out[column] = values.astype(object).where(values.notna(), None)
        else:
            out[column] = values.astype("float64")
    for key in ("a", "b", ""):
        column = f"expected_alert_{key}" if key else "expected_alert"
        out[column] = out[column].where(out[column].notna(), Alert.NO_DATA).astype(object)
    for key in ("a", "b"):
        rank = out[f"expected_alert_{key}"].map(lambda a: ALERT_RANK[Alert(a)])
        out[f"flag_{key}"] = (rank >= line).astype(bool)
    return out


def _sources(sessions: pd.DataFrame, key: str) -> pd.Series:
    """The partner's rating source per session ("counselor" when the frame has none)."""
    column = f"source_{key}"
    if column not in sessions.columns:
        return pd.Series(COUNSELOR, index=sessions.index, dtype=object)
    return sessions[column].astype(object).where(sessions[column].notna(), COUNSELOR)


def _same_source(
    sessions: pd.DataFrame, key: str, by: np.ndarray, index: pd.Index
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """same_source.same_source_pair for every couple at once: the first and last EII of
    the source judged, whether there is a pair, and its source (None without one).

    The latest rating's source L, when it has >= 2 ratings; else the other source O when
    it has >= 2; else none (scoring.partner_trajectory)."""
    eii = sessions[f"eii_{key}"].astype("float64")
    rated = eii.notna().to_numpy()
    source = _sources(sessions, key)[rated]
    scores, couples = eii[rated], by[rated]
    latest = source.groupby(couples).last().reindex(index)
    grouped = scores.groupby([couples, source.to_numpy()])
    stats = {
        name: getattr(grouped, name)().unstack().reindex(index=index, columns=list(SOURCES))
        for name in ("count", "first", "last")
    }
    count = stats["count"].fillna(0)
    latest_self = latest.eq(SELF).to_numpy()
    n_latest = np.where(latest_self, count[SELF], count[COUNSELOR])
    n_other = np.where(latest_self, count[COUNSELOR], count[SELF])
    use_self = np.where(n_latest >= 2, latest_self, ~latest_self)
    valid = pd.Series((n_latest >= 2) | (n_other >= 2), index=index)
    pick = {
        name: pd.Series(np.where(use_self, stats[name][SELF], stats[name][COUNSELOR]), index=index)
        for name in ("first", "last")
    }
    judged_on = pd.Series(np.where(use_self, SELF, COUNSELOR), index=index, dtype=object)
    return pick["first"], pick["last"], valid, judged_on.where(valid, None)


def _check_order(sessions: pd.DataFrame) -> None:
    """couple_trajectory refuses sessions out of date order; so does the caseload."""
    same = sessions["couple_id"].eq(sessions["couple_id"].shift())
    when = pd.to_datetime(sessions["session_date"])
    backwards = when.lt(when.shift())
    if (same & backwards).any():
        raise ValueError("sessions must be in date order")


def _stage(sessions: pd.DataFrame, by: np.ndarray, index: pd.Index, how: str) -> pd.Series:
    grouped = sessions["stage"].astype("Int64").groupby(by)
    result = grouped.first() if how == "first" else grouped.last()
    return result.reindex(index).astype("Int64")


def _first_improvement(
    sessions: pd.DataFrame,
    held: pd.Series,
    index: pd.Index,
    params: ReliableChangeParams,
) -> tuple[pd.Series, pd.Series]:
    """Held sessions up to a partner's first reliable improvement, and that session's date."""
    by = sessions["couple_id"].to_numpy()
    held_so_far = held.astype("int64").groupby(by).cumsum().to_numpy()
    hit = np.zeros(len(sessions), dtype=bool)
    for key, _label in _PARTNERS:
        eii = sessions[f"eii_{key}"].astype("float64")
        rated = eii.notna().to_numpy()
        scores = eii[rated]
        source = _sources(sessions, key)[rated].to_numpy()
        baseline = scores.groupby([by[rated], source]).transform("first")
        valid = pd.Series(True, index=scores.index)
        improved = _judge(baseline, scores, valid, params)["improved"].to_numpy(dtype=bool)
        hit[np.flatnonzero(rated)[improved]] = True
    couples = by[hit]
    counted = pd.Series(held_so_far[hit]).groupby(couples).first()
    dates = pd.Series(pd.to_datetime(sessions["session_date"]).to_numpy()[hit])
    reached = dates.groupby(couples).first()
    return counted.reindex(index).astype("float64"), reached.reindex(index)


def _reasons(
    out: pd.DataFrame,
    path: pd.DataFrame,
    gaps: pd.DataFrame,
    params: ReliableChangeParams,
    alerts: pd.DataFrame,
) -> None:
    """The reason sentences of couple_trajectory, word for word, for flagged rows only."""
    index = out.index
    parts: list[pd.Series] = []
    for key, label in _PARTNERS:
        rows = out[f"deteriorated_{key}"]
        evidence = _evidence(out.loc[rows, f"rci_{key}"], out.loc[rows, f"change_{key}"], params)
        parts.append(f"{label} reliably deteriorated (" + evidence + ")")
    rows = out["no_improvement"]
    parts.append(
        f"no reliable improvement after {NOT_ON_TRACK_AFTER_SESSIONS} sessions ("
        + out.loc[rows, "sessions_held"].astype(str)
        + " held)"
    )
    rows = out["stage_regressed"]
    steps = [path.loc[rows, c].astype("int64").astype(str) for c in ("s2", "s1", "s0")]
    parts.append(
        "stage regressed twice in a row (" + steps[0] + " → " + steps[1] + " → " + steps[2] + ")"
    )
    # The expected-course reasons, by scoring.expected_reason itself: A's, then B's, for
    # the partners at NOT_ON_TRACK_ALERT or worse only.
    for key, label in _PARTNERS:
        fields = ("alert", "source", "session", "score", "p10", "p25")
        flagged = out.loc[alerts[f"flag_{key}"], [f"expected_{f}_{key}" for f in fields]]
        columns = [flagged[c].tolist() for c in flagged.columns]  # plain values, no frame rows
        parts.append(
            pd.Series(
                [
                    expected_reason(label, str(a), s, int(k), float(x), float(p10), float(p25))
                    for a, s, k, x, p10, p25 in zip(*columns, strict=True)
                ],
                index=flagged.index,
                dtype=object,
            )
        )
    not_on_track = _join(parts, index)

    rows = out["diverging_opposite"]
    a_up = out.loc[rows, "status_a"].eq(Change.IMPROVED)
    opposite = pd.Series(
        np.where(
            a_up,
            "Partner A reliably improved while Partner B reliably deteriorated",
            "Partner B reliably improved while Partner A reliably deteriorated",
        ),
        index=a_up.index,
        dtype=object,
    )
    rows = out["diverging_discrepancy"]
    shown = pd.Series("", index=gaps.index[rows], dtype=str)
    for n, column in enumerate(gaps.columns):
        shown = (
            shown + ("" if n == 0 else ", ") + gaps.loc[rows, column].map(one_decimal).astype(str)
        )
    apart = (
        f"partners more than {DIVERGING_GAP:g} EII points apart in each of the "
        f"last {DIVERGING_SESSIONS} jointly rated sessions (" + shown + ")"
    )
    diverging = _join([opposite, apart], index)

    out["not_on_track_reasons"] = not_on_track.astype(object).where(not_on_track.notna(), None)
    out["diverging_reasons"] = diverging.astype(object).where(diverging.notna(), None)
    out["reasons"] = _join(
        ["not on track: " + not_on_track.dropna(), "partners diverging: " + diverging.dropna()],
        index,
    ).fillna("")
