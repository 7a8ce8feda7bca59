"""Every cutoff says what it means, and no more (DOMAIN.md, "Words for cutoffs").

- The EII's locally derived cutoff (criterion a: intake mean + 2 SD) means "beyond the
  range typical of intakes at this clinic"; the documented default says it is one.
- A published cutoff from norms of people not in distress says so, with its source
  (the definition file's [cutoff_meaning]); the SRS cutoff is an alliance check.
- Neither range claim is made before the early-change minimum (scoring.Course:
  4 rated sessions AND 28 days from first to last, both inclusive); the count instead.
- The cutoff itself is inclusive: at or above it (higher is better) is on its far side.

PARAMS (tests/unit/test_trajectory.py): S_diff 12.5, so a change is reliable when it is
more than 1.96 × 12.5 = 24.5 EII points; cutoff 60.0, locally derived.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from dashboard.domain.instruments import instrument_params, load_instruments
from dashboard.domain.plain_words import change_words, cutoff_label, status_sentences
from dashboard.domain.scoring import (
    DEFAULT_EII_PARAMS,
    Course,
    ReliableChangeParams,
    SessionPoint,
    classify_change,
    couple_trajectory,
)
from tests.unit.test_trajectory import PARAMS, START

NOISE = "a change larger than measurement noise"
SAME = "about the same as at intake: any change is within measurement noise"
BEYOND = "beyond the range typical of intakes at this clinic (intake mean + 2 SD: 60.0)"
WITHIN = "within the range typical of intakes at this clinic (intake mean + 2 SD: 60.0)"
LONG = Course(4, 28)  # exactly the early-change minimum: enough
SHORT = Course(4, 27)  # one day short


def _lines(days: list[int], eii_a: list[float], eii_b: list[float]) -> tuple[str, ...]:
    rows = [
        SessionPoint(START + timedelta(days=d), True, 2, a, b)
        for d, a, b in zip(days, eii_a, eii_b, strict=True)
    ]
    return status_sentences("Priya", "Sam", couple_trajectory(rows, PARAMS))


def test_the_eii_cutoff_exactly_met_at_exactly_the_early_change_minimum() -> None:
    # 4 rated sessions, days 0..28: the minimum, met exactly (inclusive).
    # Priya 30 -> 60.0: +30 > 24.5, and 60.0 is the cutoff itself (at or above: met).
    # Sam 35.1 -> 59.9: +24.8 > 24.5, reliable, but 59.9 is below 60.0.
    # The couple's line is partner-level (couple_outcome.py): both reliably improved.
    lines = _lines([0, 10, 20, 28], [30.0, 40.0, 50.0, 60.0], [35.1, 40.0, 50.0, 59.9])
    assert lines[:3] == (
        f"Priya: much better than at intake, {NOISE}, now {BEYOND}.",
        f"Sam: better than at intake, {NOISE}, {WITHIN}.",
        "As a couple: both improved — Priya and Sam are both better than at intake.",
    )


@pytest.mark.parametrize(
    ("days", "course"),
    [
        ([0, 10, 20, 27], "4 rated sessions over 27 days"),  # one day short
        ([0, 14, 28], "3 rated sessions over 28 days"),  # one session short
    ],
)
def test_before_the_early_change_minimum_the_count_is_said_instead(
    days: list[int], course: str
) -> None:
    n = len(days)
    lines = _lines(days, [30.0] * (n - 1) + [60.0], [35.1] * (n - 1) + [59.9])
    rule = "called clinically significant from 4 rated sessions over 28 days"
    too_early = (
        f"too early to say where this stands against the cutoff: {course} so far "
        "(said from 4 rated sessions over 28 days)"
    )
    assert lines[:2] == (
        f"Priya: better than at intake, {NOISE}; early change: {course} so far ({rule}).",
        f"Sam: better than at intake, {NOISE}; {too_early}.",
    )


def test_no_sentence_ever_says_healthy() -> None:
    days = [0, 7, 14, 21, 28]
    for a, b in [(30.0, 60.0), (70.0, 40.0), (62.0, 90.0), (50.0, 52.0), (20.0, 50.0)]:
        for span in (days, days[:2]):
            for line in _lines(span, [a] * (len(span) - 1) + [b], [b] * len(span)):
                assert "healthy" not in line, line


def test_the_documented_default_eii_line_says_what_it_is() -> None:
    # No local norms yet (12 intakes): the default cutoff 65.0 (scoring.DEFAULT_EII_CUTOFF).
    # Default S_diff 15·√2·√0.2 = 9.487, reliable beyond 18.59 points.
    params = replace(DEFAULT_EII_PARAMS, n=12)
    line = "the documented default line 65.0, used until this clinic has its own intake norms"
    met = classify_change(40.0, 65.0, params, course=LONG)  # +25, crosses at exactly 65
    assert change_words(met) == f"much better than at intake, {NOISE}, now at or above {line}"
    short = classify_change(50.0, 64.9, params, course=LONG)  # +14.9, below 65
    assert change_words(short) == f"{SAME}, below {line}"
    assert cutoff_label(params) == f"At or above {line}"


INSTRUMENTS = load_instruments()


def _instrument(key: str) -> ReliableChangeParams:
    return instrument_params(INSTRUMENTS[key], [])


def test_a_published_cutoff_says_in_the_range_of_people_not_in_distress() -> None:
    # ORS: a change of 5 or more is reliable (inclusive); cutoff 25 (Miller & Duncan,
    # adults), at or above it met. 20 -> 25.0: +5.0 reliable, crosses at exactly 25.
    ors = _instrument("ors")
    words = "the range of adults not in distress (cutoff 25.0, Miller & Duncan, adults)"
    assert change_words(classify_change(20.0, 25.0, ors, course=LONG)) == (
        f"much better than at intake, {NOISE}, now in {words}"
    )
    # 20.1 -> 24.9: +4.8, within noise; 24.9 below 25.
    assert change_words(classify_change(20.1, 24.9, ors, course=LONG)) == (f"{SAME}, below {words}")
    # The same crossing one day short of the minimum: early change, no range claim.
    early = change_words(classify_change(20.0, 25.0, ors, course=SHORT))
    assert early.startswith(f"better than at intake, {NOISE}; early change: 4 rated sessions")
    assert "not in distress" not in early
    # CSI-4 totals are whole numbers: 14 is in the range (cutoff 13.5), 13 is not.
    csi = _instrument("csi4")
    csi_words = (
        "the range of couples not in distress (cutoff 13.5, Funk & Rogge 2007, commonly cited)"
    )
    assert change_words(classify_change(13.0, 14.0, csi, course=LONG)) == f"{SAME}, in {csi_words}"
    assert change_words(classify_change(14.0, 13.0, csi, course=LONG)) == (
        f"{SAME}, below {csi_words}"
    )
    assert cutoff_label(csi) == f"At or above: in {csi_words}"


def test_the_srs_cutoff_is_an_alliance_check_read_at_every_session() -> None:
    # No reliable-change value; cutoff 36 (Miller & Duncan), at or above it met. Not a
    # range claim, so it is said on a two-session course too.
    srs = _instrument("srs")
    judged = "not judged for change (this measure has no reliable-change value)"
    two = Course(2, 7)
    assert change_words(classify_change(30.0, 36.0, srs, course=two)) == (
        f"{judged}, at or above the SRS alliance cutoff 36.0 (Miller & Duncan)"
    )
    assert change_words(classify_change(30.0, 35.9, srs, course=two)) == (
        f"{judged}, below the SRS alliance cutoff 36.0 (Miller & Duncan)"
    )
    assert cutoff_label(srs) == "At or above the SRS alliance cutoff 36.0 (Miller & Duncan)"


def test_every_bundled_cutoff_says_what_it_means() -> None:
    for key, instrument in INSTRUMENTS.items():
        if instrument.cutoff is None:
            continue
        meaning = instrument.cutoff_meaning
        assert meaning is not None, key
        label = cutoff_label(_instrument(key), higher_is_better=instrument.higher_is_better)
        assert label is not None and ("not in distress" in label or "alliance" in label), key


def test_the_chart_labels_the_eii_cutoff_in_the_same_words() -> None:
    assert cutoff_label(PARAMS) == f"At or above: {BEYOND}"
