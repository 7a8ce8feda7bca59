"""The timeline's status in the counselor's words: known answers, one per case.

PARAMS (tests/unit/test_trajectory.py): SD 12.5, alpha .5, so S_diff = 12.5·√2·√0.5
= 12.5 and a change is reliable when |difference| / 12.5 > 1.96, i.e. more than 24.5
EII points; the cutoff is 60, locally derived (criterion a): at or above it is "beyond
the range typical of intakes at this clinic", never "healthy" (DOMAIN.md, "Words for
cutoffs"). Rows are weekly sessions: 5 span 28 days, the early-change minimum (4 rated
sessions over 28 days, both inclusive); before it, a sentence gives the count instead
of where the score stands against the cutoff.
"""

from __future__ import annotations

from datetime import date, timedelta

from dashboard.domain.plain_words import status_sentences
from dashboard.domain.scoring import SessionPoint, couple_trajectory
from tests.unit.test_trajectory import PARAMS, Row, sessions


def _lines(*rows: Row) -> tuple[str, ...]:
    return status_sentences("Priya", "Sam", couple_trajectory(sessions(*rows), PARAMS))


# Five weekly sessions: 28 days from the first to the last, the early-change minimum
# (4 rated sessions over 28 days, both inclusive); the middle ones do not change a
# first -> last judgement.
MIDDLE: list[Row] = [(1, 40.0, 50.0)] * 3


def test_clinically_significant_improvement_and_no_reliable_change() -> None:
    # Priya 30 -> 60: +30 > 24.5, and 60 reaches the cutoff: clinically significant.
    # Sam 45 -> 55: +10, within noise, 55 below 60. Couple 37.5 -> 57.5: +20, not
    # reliable; the couple's outcome is partner-level: one partner improved.
    assert _lines((1, 30.0, 45.0), *MIDDLE, (2, 60.0, 55.0)) == (
        "Priya: much better than at intake, a change larger than measurement noise, "
        "now beyond the range typical of intakes at this clinic (intake mean + 2 SD: 60.0).",
        "Sam: about the same as at intake: any change is within measurement noise, "
        "within the range typical of intakes at this clinic (intake mean + 2 SD: 60.0).",
        "As a couple: one partner improved — Priya is better than at intake; "
        "Sam is about the same as at intake.",
    )


def test_the_same_change_on_a_short_course_is_early_change_with_its_count() -> None:
    # Priya 30 -> 60 as above, but over 3 weekly sessions (14 days): early change.
    # With 4 sessions over 21 days, still early (days short); with 5 over 28 days, not.
    assert _lines((1, 30.0, 45.0), (1, 40.0, 50.0), (2, 60.0, 55.0))[0] == (
        "Priya: better than at intake, a change larger than measurement noise; early "
        "change: 3 rated sessions over 14 days so far (called clinically significant "
        "from 4 rated sessions over 28 days)."
    )
    four = _lines((1, 30.0, 45.0), *MIDDLE[:2], (2, 60.0, 55.0))[0]
    assert "early change: 4 rated sessions over 21 days so far" in four
    five = _lines((1, 30.0, 45.0), *MIDDLE, (2, 60.0, 55.0))[0]
    assert five.startswith("Priya: much better than at intake")


def test_reliable_improvement_short_of_the_cutoff() -> None:
    # Priya 20 -> 50: +30 reliable, 50 < 60. Sam 20 -> 46: +26 reliable, 46 < 60.
    # Couple 20 -> 48: +28 reliable, 48 < 60. Over 28 days: where each stands is said.
    assert _lines((1, 20.0, 20.0), *MIDDLE, (1, 50.0, 46.0)) == (
        "Priya: better than at intake, a change larger than measurement noise, "
        "within the range typical of intakes at this clinic (intake mean + 2 SD: 60.0).",
        "Sam: better than at intake, a change larger than measurement noise, "
        "within the range typical of intakes at this clinic (intake mean + 2 SD: 60.0).",
        "As a couple: both improved — Priya and Sam are both better than at intake.",
    )


def test_improvement_that_started_beyond_the_cutoff() -> None:
    # Priya 62 -> 90: +28 reliable, but she was already at or above 60 at intake.
    lines = _lines((3, 62.0, 70.0), *MIDDLE, (4, 90.0, 72.0))
    assert lines[0] == (
        "Priya: better than at intake, a change larger than measurement noise; "
        "already beyond the range typical of intakes at this clinic (intake mean + 2 SD: 60.0) at intake."
    )
    assert lines[1] == (
        "Sam: about the same as at intake: any change is within measurement noise, "
        "beyond the range typical of intakes at this clinic (intake mean + 2 SD: 60.0)."
    )


def test_deterioration_is_not_on_track_and_split_in_plain_words() -> None:
    # Priya 70 -> 40: -30 reliable deterioration (and below 60). Sam 30 -> 60: +30,
    # clinically significant. One better, the other worse: partners diverging too, and
    # the couple is "mixed", where the couple mean (50 -> 50) would say no change.
    assert _lines((2, 70.0, 30.0), *MIDDLE, (2, 40.0, 60.0)) == (
        "Priya: worse than at intake, a change larger than measurement noise, "
        "within the range typical of intakes at this clinic (intake mean + 2 SD: 60.0).",
        "Sam: much better than at intake, a change larger than measurement noise, "
        "now beyond the range typical of intakes at this clinic (intake mean + 2 SD: 60.0).",
        "As a couple: mixed — Sam is better than at intake, Priya is worse.",
        "Not on track: Priya is worse than at intake.",
        "Partners diverging: Sam is better while Priya is worse.",
    )


def test_stalled_and_regressed_and_far_apart() -> None:
    # Nine sessions, nobody moves more than 24.5 points; stages 3 -> 2 -> 1 at the end;
    # the last three jointly rated sessions are 30, 30, 30 points apart (> 20).
    rows: list[Row] = [(3, 50.0, 50.0)] * 6 + [(3, 40.0, 70.0), (2, 40.0, 70.0), (1, 40.0, 70.0)]
    lines = _lines(*rows)
    assert lines[3] == (
        "Not on track: nobody has improved beyond measurement noise after 9 sessions "
        "(the rule looks after 8); the stage dropped twice in a row (3 → 2 → 1)."
    )
    assert lines[4] == (
        "Partners diverging: Priya and Sam were rated more than 20 points apart "
        "at each of the last 3 sessions where both were rated."
    )


def test_too_early_to_judge() -> None:
    assert _lines() == (
        "Priya: not rated yet; two rated sessions are needed to judge change.",
        "Sam: not rated yet; two rated sessions are needed to judge change.",
        "As a couple: not yet measurable — neither Priya nor Sam can be judged yet.",
    )
    assert _lines((1, 40.0, None))[:2] == (
        "Priya: rated at one session so far, the baseline; a second rated session is "
        "needed to judge change.",
        "Sam: not rated yet; two rated sessions are needed to judge change.",
    )


# The couple's sentence at every outcome category (couple_outcome.py): a reliable change
# is more than 24.5 points (RCI 1.96 is not reliable), so +24.75 is and +24.5 is not.
COUPLE_SENTENCES = {
    "both worse": (
        [(2, 60.0, 60.0), (2, 35.25, 35.25)],
        "As a couple: deteriorated — Priya and Sam are both worse than at intake.",
    ),
    "Sam worse, Priya the same (at the line)": (
        [(2, 40.0, 60.0), (2, 64.5, 35.25)],
        "As a couple: deteriorated — Sam is worse than at intake; Priya is about the "
        "same as at intake.",
    ),
    "Priya worse, Sam not judged yet": (
        [(2, 60.0, 50.0), (2, 35.25, None)],
        "As a couple: deteriorated — Priya is worse than at intake; Sam cannot be judged yet.",
    ),
    "Sam better, Priya not judged yet": (
        [(2, None, 40.0), (2, 50.0, 64.75)],
        "As a couple: one partner improved — Sam is better than at intake; Priya cannot "
        "be judged yet.",
    ),
    "both the same (at the line)": (
        [(2, 40.0, 60.0), (2, 64.5, 35.5)],
        "As a couple: no reliable change — Priya and Sam are both about the same as at intake.",
    ),
    "Sam the same, Priya not judged yet": (
        [(2, None, 40.0), (2, 50.0, 50.0)],
        "As a couple: no reliable change — Sam is about the same as at intake; Priya "
        "cannot be judged yet.",
    ),
    "Priya better, Sam worse": (
        [(2, 40.0, 60.0), (2, 64.75, 35.25)],
        "As a couple: mixed — Priya is better than at intake, Sam is worse.",
    ),
}


def test_the_couple_sentence_says_its_category_with_names() -> None:
    for name, (rows, sentence) in COUPLE_SENTENCES.items():
        assert _lines(*rows)[2] == sentence, name


def test_like_with_like_says_which_ratings_were_compared() -> None:
    # S_diff 12.5: reliable beyond 24.5 points. Weekly from 5 Jan 2026.
    c, s = "counselor", "self"
    start = date(2026, 1, 5)

    def lines(*rows: tuple[float, str]) -> tuple[str, ...]:
        points = [
            SessionPoint(start + timedelta(weeks=i), True, 2, a, 50.0, source_a=src)
            for i, (a, src) in enumerate(rows)
        ]
        return status_sentences("Priya", "Sam", couple_trajectory(points, PARAMS))

    # Counselor 40, 70 (+30: reliable), then Priya's own 30: the counselor's pair.
    assert lines((40.0, c), (70.0, c), (30.0, s))[0].endswith(
        "; not comparable yet: baseline rated by the counselor, latest given in Priya's own "
        "check-in; judged on the counselor's ratings of 5 Jan 2026 to 12 Jan 2026."
    )
    # Counselor baseline, Priya's own latest, no pair: not yet measurable.
    assert lines((40.0, c), (70.0, s))[0] == (
        "Priya: not yet measurable; not comparable yet: baseline rated by the counselor, "
        "latest given in Priya's own check-in."
    )
    # Priya's own 50 -> 80 after a counselor baseline: her own pair, named, and the
    # change is since her first own answer (12 Jan), not since intake (5 Jan).
    assert lines((40.0, c), (50.0, s), (80.0, s))[0].startswith(
        "Priya: better than on 12 Jan 2026, a change larger than measurement noise"
    )
    assert lines((40.0, c), (50.0, s), (80.0, s))[0].endswith(
        "; judged on Priya's own ratings of 12 Jan 2026 to 19 Jan 2026 (the baseline was "
        "rated by the counselor)."
    )
    # One source throughout: nothing added, and the change is since intake.
    assert "judged on" not in lines((40.0, s), (80.0, s))[0]
    assert lines((40.0, s), (80.0, s))[0].startswith("Priya: better than at intake")


def test_the_couple_and_the_reasons_say_where_each_change_is_measured_from() -> None:
    # S_diff 12.5: reliable beyond 24.5 points. Weekly from 5 Jan 2026. Priya: the
    # counselor's 40, then her own 50 and 80 (+30 on her own pair, from 12 Jan); Sam:
    # the counselor's 50, 50, 20 (-30 since intake).
    c, s = "counselor", "self"
    start = date(2026, 1, 5)
    rows = ((40.0, c, 50.0), (50.0, s, 50.0), (80.0, s, 20.0))
    points = [
        SessionPoint(start + timedelta(weeks=i), True, 2, a, b, source_a=src, source_b=c)
        for i, (a, src, b) in enumerate(rows)
    ]
    lines = status_sentences("Priya", "Sam", couple_trajectory(points, PARAMS))
    assert lines[2] == (
        "As a couple: mixed — Priya is better than on 12 Jan 2026, Sam is worse than at intake."
    )
    # Priya worse on her own pair (60 -> 30 from 12 Jan): the reason says since when.
    rows = ((60.0, c, 50.0), (60.0, s, 50.0), (30.0, s, 50.0))
    points = [
        SessionPoint(start + timedelta(weeks=i), True, 2, a, b, source_a=src, source_b=c)
        for i, (a, src, b) in enumerate(rows)
    ]
    lines = status_sentences("Priya", "Sam", couple_trajectory(points, PARAMS))
    assert "Not on track: Priya is worse than on 12 Jan 2026." in lines
