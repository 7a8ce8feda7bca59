"""The vectorized caseload rules (outcomes.py) agree with scoring.couple_trajectory.

Each scenario of test_trajectory.py is built once as SessionPoints, judged by the scalar
couple_trajectory, and judged again as rows of one caseload frame; every field must
match. S_diff = 12.5 exactly (SD 12.5, r .5), so RCI 1.96 is a change of 24.5 points
and 1.98 is 24.75.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from dashboard.domain.catalog import INDICATORS, RATING_MAX
from dashboard.domain.couple_outcome import couple_outcome
from dashboard.domain.outcomes import OUTCOME_COLUMNS, caseload_outcomes, partner_eii_frame
from dashboard.domain.scoring import (
    DEFAULT_EII_PARAMS,
    Change,
    CoupleTrajectory,
    ReliableChangeParams,
    SessionPoint,
    couple_trajectory,
    partner_eii,
)

PARAMS = ReliableChangeParams(
    sd=12.5, reliability=0.5, n=40, source="locally derived", cutoff=60.0, cutoff_method="test"
)
OVERRIDE = ReliableChangeParams(
    sd=None,
    reliability=None,
    n=0,
    source="published",
    cutoff=60.0,
    cutoff_method="test",
    threshold_override=24.5,
)
# The same line met at exactly its size (ORS's "5 or more"): the scenarios at the line
# (+24.5, -24.5) are reliable here and not under OVERRIDE.
INCLUSIVE = replace(OVERRIDE, threshold_inclusive=True)
CUTOFF_ONLY = ReliableChangeParams(
    sd=None, reliability=None, n=0, source="published", cutoff=60.0, cutoff_method="test"
)
START = date(2026, 1, 5)

Row = tuple[int | None, float | None, float | None]


def sessions(*rows: Row, held: bool = True) -> list[SessionPoint]:
    return [
        SessionPoint(START + timedelta(weeks=i), held, stage, a, b)
        for i, (stage, a, b) in enumerate(rows)
    ]


def flat(count: int, eii: float = 50.0) -> list[SessionPoint]:
    return sessions(*[(2, eii, eii)] * count)


C, S = "counselor", "self"


def sourced(*rows: tuple[float | None, str, float | None, str]) -> list[SessionPoint]:
    """Weekly held sessions from (EII A, its source, EII B, its source), stage 2."""
    return [
        SessionPoint(START + timedelta(weeks=i), True, 2, a, b, source_a=sa, source_b=sb)
        for i, (a, sa, b, sb) in enumerate(rows)
    ]


# Like with like (same_source.py), A's sources varied, B counselor-rated and flat.
SOURCE_SCENARIOS: dict[str, list[SessionPoint]] = {
    # Counselor baseline, self latest: no same-source pair, not yet measurable.
    "A C then S": sourced((40.0, C, 50.0, C), (70.0, S, 50.0, C)),
    # Latest is self (1 rating); the counselor's pair 40 -> 70 (+30) is judged.
    "A C C S": sourced((40.0, C, 50.0, C), (70.0, C, 50.0, C), (30.0, S, 50.0, C)),
    # Latest source self has a pair: 50 -> 80 (+30), the counselor's baseline left out.
    "A C S S": sourced((40.0, C, 50.0, C), (50.0, S, 50.0, C), (80.0, S, 50.0, C)),
    # Counselor first and latest: 40 -> 50 (+10), the self 90 between is not compared.
    "A C S C": sourced((40.0, C, 50.0, C), (90.0, S, 50.0, C), (50.0, C, 50.0, C)),
    # Self pair first, counselor pair latest: 40 -> 10 (-30), deteriorated.
    "A S S C C": sourced(
        (60.0, S, 50.0, C), (62.0, S, 50.0, C), (40.0, C, 50.0, C), (10.0, C, 50.0, C)
    ),
    # Across sources 40 -> 72 (+32) would be "improved"; self 70 -> 72 is not.
    "A C S S small": sourced((40.0, C, 50.0, C), (70.0, S, 50.0, C), (72.0, S, 50.0, C)),
    # Both partners self only: as if counselor-rated.
    "both self": sourced((40.0, S, 40.0, S), (64.75, S, 40.0, S)),
}


SCENARIOS: dict[str, list[SessionPoint]] = {
    "rci exactly 1.96 up": sessions((2, 40.0, 50.0), (2, 64.5, 50.0)),
    "rci 1.98 up": sessions((2, 40.0, 50.0), (2, 64.75, 50.0)),
    "rci exactly -1.96": sessions((2, 40.0, 50.0), (2, 15.5, 50.0)),
    "rci -1.98": sessions((2, 40.0, 50.0), (2, 15.25, 50.0)),
    "B deteriorates": sessions((2, 50.0, 60.0), (2, 50.0, 35.25)),
    "B at the line": sessions((2, 50.0, 60.0), (2, 50.0, 35.5)),
    "gaps skipped": sessions((2, None, 40.0), (2, 50.0, None), (2, 50.0, 64.75)),
    "couple improves": sessions((1, 40.0, 50.0), (2, 90.0, None), (2, 70.0, 69.5)),
    "one joint session": sessions((1, 40.0, 50.0), (1, 45.0, None)),
    "8 held": flat(8),
    "9 held": flat(9),
    "8 held + 2 cancelled": [
        *flat(8),
        *[SessionPoint(date(2026, 6, 1), False, None, None, None)] * 2,
    ],
    "9 held, A improves": sessions(*[(2, 40.0, 50.0)] * 8, (2, 64.75, 50.0)),
    "9 held, A at the line": sessions(*[(2, 40.0, 50.0)] * 8, (2, 64.5, 50.0)),
    "9 held, no EII": sessions(*[(2, None, None)] * 9),
    "one session": sessions((2, 55.0, 45.0)),
    "one session, no EII": sessions((None, None, None)),
    "opposite": sessions((2, 40.0, 60.0), (2, 64.75, 35.25)),
    "opposite, B up": sessions((2, 60.0, 40.0), (2, 35.25, 64.75)),
    "gap 21 x3": sessions(*[(2, 40.0, 61.0)] * 3),
    "gap 20 x3": sessions(*[(2, 40.0, 60.0)] * 3),
    "gap 21 x2": sessions(*[(2, 40.0, 61.0)] * 2),
    "gap 21 x3 with one-EII session between": sessions(
        (2, 40.0, 61.0), (2, 40.0, None), (2, 40.0, 61.0), (2, 39.0, 61.0)
    ),
    "gap 21, 20, 21": sessions((2, 40.0, 61.0), (2, 40.0, 60.0), (2, 40.0, 61.0)),
    "gap 20 only early": sessions(*[(2, 40.0, 61.0)] * 3, (2, 50.0, 50.0)),
    "float noise gap": sessions(*[(2, 40.0, 60.000000000001)] * 3),
    # The couple mean improves (40 -> 65, +25: RCI 2.0) while neither partner does
    # (each 50 -> 65, +15): 9 held, partner-level, so not on track.
    "9 held, only the couple mean improves": sessions(
        (2, 50.0, None), (2, None, 50.0), (2, 40.0, 40.0), *[(2, 52.0, 52.0)] * 5, (2, 65.0, 65.0)
    ),
    "A up, B down at the line": sessions((2, 40.0, 60.0), (2, 64.75, 35.5)),
    "both up": sessions((2, 40.0, 40.0), (2, 64.75, 64.75)),
    "A up, B at the line up": sessions((2, 40.0, 40.0), (2, 64.75, 64.5)),
    "A up, B baseline only": sessions((2, 40.0, 50.0), (2, 64.75, None)),
    "A down, B baseline only": sessions((2, 40.0, 50.0), (2, 15.25, None)),
    "A at the line, B baseline only": sessions((2, 40.0, 50.0), (2, 64.5, None)),
    "both down": sessions((2, 40.0, 60.0), (2, 15.25, 35.25)),
}
STAGES: dict[str, list[int | None]] = {
    "3-2-1": [3, 2, 1],
    "1-2-3-2-1": [1, 2, 3, 2, 1],
    "3-None-2-1": [3, None, 2, 1],
    "3-2-2-1": [3, 2, 2, 1],
    "3-2-1-2": [3, 2, 1, 2],
    "4-2": [4, 2],
    "2-1": [2, 1],
    "1-1-1": [1, 1, 1],
    "3-2-1-None": [3, 2, 1, None],
}
for name, stages in STAGES.items():
    SCENARIOS[f"stages {name}"] = sessions(*[(s, 50.0, 50.0) for s in stages])


def frame(couples: dict[int, list[SessionPoint]]) -> pd.DataFrame:
    rows = [
        {
            "couple_id": couple_id,
            "session_id": couple_id * 1000 + n,
            "session_date": pd.Timestamp(p.session_date),
            "held": p.held,
            "stage": p.stage,
            "eii_a": p.eii_a,
            "eii_b": p.eii_b,
            "source_a": p.source_a if p.eii_a is not None else None,
            "source_b": p.source_b if p.eii_b is not None else None,
        }
        for couple_id, points in couples.items()
        for n, p in enumerate(points)
    ]
    out = pd.DataFrame(rows)
    out["stage"] = out["stage"].astype("Int64")
    out["eii_a"] = out["eii_a"].astype("float64")
    out["eii_b"] = out["eii_b"].astype("float64")
    return out


def same_number(x: float, y: float | None) -> bool:
    return (y is None and math.isnan(x)) or (y is not None and x == y)


def assert_agrees(row: pd.Series, t: CoupleTrajectory, points: list[SessionPoint]) -> None:
    assert row["sessions_held"] == t.sessions_held
    assert row["status_a"] is t.partner_a.status
    assert row["status_b"] is t.partner_b.status
    assert row["status_couple"] is (None if t.couple is None else t.couple.status)
    assert row["outcome"] == couple_outcome(t.partner_a.status, t.partner_b.status)
    for key, partner in (("a", t.partner_a), ("b", t.partner_b)):
        pair = partner.pair
        assert row[f"judged_on_{key}"] == (None if pair is None else pair.source)
    for key, change in (
        ("a", t.partner_a.change),
        ("b", t.partner_b.change),
        ("couple", t.couple),
    ):
        assert same_number(row[f"rci_{key}"], None if change is None else change.rci)
        assert same_number(row[f"change_{key}"], None if change is None else change.difference)
    assert bool(row["not_on_track"]) is t.not_on_track
    assert bool(row["diverging"]) is t.diverging
    assert row["not_on_track_reasons"] == ("; ".join(t.not_on_track_reasons) or None)
    assert row["diverging_reasons"] == ("; ".join(t.diverging_reasons) or None)
    # reasons = the not-on-track / partners-diverging parts of summary(), word for word.
    expected = []
    if t.not_on_track:
        expected.append("not on track: " + "; ".join(t.not_on_track_reasons))
    if t.diverging:
        expected.append("partners diverging: " + "; ".join(t.diverging_reasons))
    assert row["reasons"] == "; ".join(expected)
    assert t.summary().endswith(row["reasons"])
    stages = [p.stage for p in points if p.stage is not None]
    assert (pd.isna(row["stage_first"]) and not stages) or row["stage_first"] == stages[0]
    assert (pd.isna(row["stage_latest"]) and not stages) or row["stage_latest"] == stages[-1]


@pytest.mark.parametrize("params", [PARAMS, OVERRIDE, INCLUSIVE, CUTOFF_ONLY, DEFAULT_EII_PARAMS])
def test_every_scenario_agrees_with_couple_trajectory(params: ReliableChangeParams) -> None:
    everything = [*SCENARIOS.values(), *SOURCE_SCENARIOS.values()]
    couples = {n + 1: points for n, points in enumerate(everything)}
    out = caseload_outcomes(frame(couples), params)
    assert list(out.columns) == OUTCOME_COLUMNS
    assert list(out.index) == sorted(couples)
    for couple_id, points in couples.items():
        assert_agrees(out.loc[couple_id], couple_trajectory(points, params), points)


@pytest.mark.parametrize("name", [*SCENARIOS, *SOURCE_SCENARIOS])
def test_each_scenario_alone_agrees(name: str) -> None:
    # Alone in the frame, so no neighbouring couple can leak into a shift or a first().
    points = {**SCENARIOS, **SOURCE_SCENARIOS}[name]
    out = caseload_outcomes(frame({7: points}), PARAMS)
    assert_agrees(out.loc[7], couple_trajectory(points, PARAMS), points)


@pytest.mark.parametrize(
    ("name", "flag", "expected"),
    [
        ("rci exactly 1.96 up", "status_a", Change.NO_RELIABLE_CHANGE),
        ("rci 1.98 up", "status_a", Change.IMPROVED),
        ("rci exactly -1.96", "status_a", Change.NO_RELIABLE_CHANGE),
        ("rci -1.98", "status_a", Change.DETERIORATED),
        ("8 held", "not_on_track", False),
        ("9 held", "not_on_track", True),
        ("gap 20 x3", "diverging", False),
        ("gap 21 x3", "diverging", True),
        ("stages 3-2-1", "stage_regressed", True),
        ("stages 3-2-2-1", "stage_regressed", False),
        ("one session", "status_couple", None),
        ("one session, no EII", "status_a", None),
        ("9 held, only the couple mean improves", "status_couple", Change.IMPROVED),
        ("9 held, only the couple mean improves", "no_improvement", True),
    ],
)
def test_boundaries_by_hand(name: str, flag: str, expected: object) -> None:
    out = caseload_outcomes(frame({1: SCENARIOS[name]}), PARAMS)
    value = out.loc[1, flag]
    assert value is expected or (isinstance(expected, bool) and bool(value) is expected)


def test_reason_words() -> None:
    out = caseload_outcomes(
        frame({1: SCENARIOS["opposite"], 2: SCENARIOS["9 held"], 3: SCENARIOS["gap 21 x3"]}),
        PARAMS,
    )
    assert out.loc[1, "reasons"] == (
        "not on track: Partner B reliably deteriorated (RCI −2.0); "
        "partners diverging: Partner A reliably improved while Partner B reliably deteriorated"
    )
    assert out.loc[2, "reasons"] == (
        "not on track: no reliable improvement after 8 sessions (9 held)"
    )
    assert out.loc[3, "reasons"] == (
        "partners diverging: partners more than 20 EII points apart in each of the last 3 "
        "jointly rated sessions (21.0, 21.0, 21.0)"
    )


def test_neighbouring_couples_do_not_leak() -> None:
    # Couple 1 ends with two stage drops and two wide gaps; couple 2 starts with one more
    # of each. Per-couple shifts must not join them into a run of three.
    one = sessions((3, 40.0, 61.0), (2, 40.0, 61.0), (1, 40.0, 61.0))[1:]
    two = sessions((0, 40.0, 61.0), (1, 50.0, 50.0))
    out = caseload_outcomes(frame({1: one, 2: two}), PARAMS)
    assert not out["stage_regressed"].any() and not out["diverging_discrepancy"].any()


def test_first_reliable_improvement_session() -> None:
    # Partner-level. Couple 1, A: 40, 40, (cancelled), 56 (+16), 70 (+30: RCI 2.4), 50,
    # 70; B: 50, 50, 56, 69.5 (+19.5), 50, 70 (+20): A's is the first reliable
    # improvement, at the 4th held session; later dips do not move it.
    couples = {
        1: [
            *sessions((2, 40.0, 50.0), (2, 40.0, 50.0)),
            SessionPoint(START + timedelta(days=15), False, None, None, None),
            SessionPoint(START + timedelta(weeks=3), True, 2, 56.0, 56.0),
            SessionPoint(START + timedelta(weeks=4), True, 2, 70.0, 69.5),
            SessionPoint(START + timedelta(weeks=5), True, 2, 50.0, 50.0),
            SessionPoint(START + timedelta(weeks=6), True, 2, 70.0, 70.0),
        ],
        2: SCENARIOS["rci exactly 1.96 up"],  # A only at the line: never
        3: SCENARIOS["couple improves"],  # A 40 -> 90 at the 2nd held session
        4: SCENARIOS["one session, no EII"],
        # Only the couple mean improves (40 -> 65), no partner: never.
        5: SCENARIOS["9 held, only the couple mean improves"],
        # B first: B 40 -> 64.75 (RCI 1.98) at the 2nd session, A only at the 3rd.
        6: sessions((2, 40.0, 40.0), (2, 50.0, 64.75), (2, 64.75, 64.75)),
    }
    out = caseload_outcomes(frame(couples), PARAMS)
    got = out["first_reliable_improvement_session"]
    assert got.loc[1] == 4.0 and got.loc[3] == 2.0 and got.loc[6] == 2.0
    assert math.isnan(got.loc[2]) and math.isnan(got.loc[4]) and math.isnan(got.loc[5])
    reached = out["first_reliable_improvement_date"]
    assert reached.loc[1] == pd.Timestamp(START + timedelta(weeks=4))
    assert pd.isna(reached.loc[2]) and pd.isna(reached.loc[4])
    none = caseload_outcomes(frame(couples), CUTOFF_ONLY)["first_reliable_improvement_session"]
    assert none.isna().all()


def test_sessions_out_of_date_order_are_refused() -> None:
    points = list(reversed(flat(2)))
    with pytest.raises(ValueError, match="date order"):
        caseload_outcomes(frame({1: points}), PARAMS)
    # The same dates across two couples are fine.
    caseload_outcomes(frame({1: flat(3), 2: flat(2)}), PARAMS)


# --- partner_eii_frame ---------------------------------------------------------------


def test_partner_eii_frame_matches_partner_eii() -> None:
    keys = [i.key for i in INDICATORS]
    cases: dict[tuple[int, str], dict[str, int | None]] = {
        (1, "A"): dict.fromkeys(keys, 7),
        (1, "B"): {k: n % 11 for n, k in enumerate(keys)},
        (2, "A"): {k: 3 for k in keys[:6]},  # exactly 6 items: scored
        (2, "B"): {k: 3 for k in keys[:5]},  # 5 items: NaN
        (3, "A"): {**{k: 9 for k in keys[2:]}, keys[0]: None},  # a None is not an item
        (3, "B"): {**dict.fromkeys(keys, RATING_MAX), "not_an_item": 0},
    }
    ratings = pd.DataFrame(
        [
            (sid, partner, item, value)
            for (sid, partner), items in cases.items()
            for item, value in items.items()
        ],
        columns=["session_id", "partner", "item", "value"],
    )
    out = partner_eii_frame(ratings).set_index(["session_id", "partner"])
    assert len(out) == len(cases)
    for key, items in cases.items():
        expected = partner_eii(items)
        got = out.loc[key, "eii"]
        assert (expected is None and math.isnan(got)) or got == expected
    assert out.loc[(2, "B"), "items"] == 5


def test_an_empty_caseload_gives_an_empty_frame() -> None:
    empty = frame({1: flat(1)}).iloc[0:0]
    out = caseload_outcomes(empty, PARAMS)
    assert out.empty and list(out.columns) == OUTCOME_COLUMNS
    ratings = pd.DataFrame(columns=["session_id", "partner", "item", "value"])
    assert partner_eii_frame(ratings).empty


def test_an_inclusive_line_counts_a_change_of_exactly_its_size() -> None:
    """+24.5 against a 24.5 line: not reliable when it must be exceeded, reliable when
    the line is inclusive, in the caseload frame as in couple_trajectory."""
    couples = {1: SCENARIOS["rci exactly 1.96 up"], 2: SCENARIOS["rci exactly -1.96"]}
    strict = caseload_outcomes(frame(couples), OVERRIDE)
    inclusive = caseload_outcomes(frame(couples), INCLUSIVE)
    assert list(strict["status_a"]) == [Change.NO_RELIABLE_CHANGE] * 2
    assert list(inclusive["status_a"]) == [Change.IMPROVED, Change.DETERIORATED]


# Known answers, like with like: (status of A, change of A, source judged).
SOURCE_ANSWERS = {
    "A C then S": (None, None, None),
    "A C C S": (Change.IMPROVED, 30.0, C),
    "A C S S": (Change.IMPROVED, 30.0, S),
    "A C S C": (Change.NO_RELIABLE_CHANGE, 10.0, C),
    "A S S C C": (Change.DETERIORATED, -30.0, C),
    "A C S S small": (Change.NO_RELIABLE_CHANGE, 2.0, S),
    "both self": (Change.IMPROVED, 24.75, S),
}


@pytest.mark.parametrize("name", list(SOURCE_ANSWERS))
def test_like_with_like_known_answers(name: str) -> None:
    status, change, source = SOURCE_ANSWERS[name]
    row = caseload_outcomes(frame({1: SOURCE_SCENARIOS[name]}), PARAMS).loc[1]
    assert row["status_a"] is status
    assert same_number(row["change_a"], change)
    assert row["judged_on_a"] == source
    t = couple_trajectory(SOURCE_SCENARIOS[name], PARAMS)
    assert t.partner_a.status is status


def test_first_reliable_improvement_is_like_with_like() -> None:
    # A: counselor 40, self 70 (+30 across sources: not counted), self 96 (+26 over the
    # self baseline 70: reliable) at the 3rd held session.
    points = sourced((40.0, C, 50.0, C), (70.0, S, 50.0, C), (96.0, S, 50.0, C))
    got = caseload_outcomes(frame({1: points}), PARAMS)["first_reliable_improvement_session"]
    assert got.loc[1] == 3.0


# The couple mean, like with like: its change over the jointly rated sessions whose two
# sources are the latest one's, or None with fewer than two such sessions.
COUPLE_MEAN_ANSWERS = {
    # (C, C) then (S, C): one session of the latest pair. Across sources: 45 -> 60.
    "A C then S": None,
    # (S, C) twice at the end: mean (50 + 50) / 2 = 50 -> (80 + 50) / 2 = 65, +15.
    # Across sources it would be 45 -> 65, +20.
    "A C S S": 15.0,
    # (C, C), (C, C), then (S, C) once: None. Across sources: 45 -> 40.
    "A C C S": None,
    # Both self throughout: (40 + 40) / 2 = 40 -> (64.75 + 40) / 2 = 52.375, +12.375.
    "both self": 12.375,
}


@pytest.mark.parametrize("name", list(COUPLE_MEAN_ANSWERS))
def test_the_couple_mean_compares_like_with_like(name: str) -> None:
    expected = COUPLE_MEAN_ANSWERS[name]
    t = couple_trajectory(SOURCE_SCENARIOS[name], PARAMS)
    row = caseload_outcomes(frame({1: SOURCE_SCENARIOS[name]}), PARAMS).loc[1]
    if expected is None:
        assert t.couple is None and row["status_couple"] is None
    else:
        assert t.couple is not None and t.couple.difference == pytest.approx(expected)
    assert same_number(row["change_couple"], expected)


def test_the_diverging_gap_compares_like_with_like() -> None:
    """Three joint sessions 30 points apart (above the 20-point line, DIVERGING_GAP) are
    flagged when one source rated both each time; when the last one pairs A's own answer
    with the counselor's rating of B, no earlier session shares that pair, so there is no
    run of three and nothing is flagged, in both rule forms."""
    apart = sourced((20.0, C, 50.0, C), (20.0, C, 50.0, C), (20.0, C, 50.0, C))
    mixed = sourced((20.0, C, 50.0, C), (20.0, C, 50.0, C), (20.0, S, 50.0, C))
    for points, flagged in ((apart, True), (mixed, False)):
        t = couple_trajectory(points, PARAMS)
        row = caseload_outcomes(frame({1: points}), PARAMS).loc[1]
        assert t.diverging is flagged
        assert bool(row["diverging_discrepancy"]) is flagged
