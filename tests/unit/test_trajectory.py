"""Trajectory rules (DOMAIN.md, Scoring), each tested at its boundary.

All tests use S_diff = 12.5 exactly (SD 12.5, r .5: 12.5 * sqrt(2 * 0.5) = 12.5), so an
RCI of exactly 1.96 is a change of 1.96 * 12.5 = 24.5 EII points and 1.98 is 24.75.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dashboard.domain.scoring import (
    DIVERGING_GAP,
    DIVERGING_SESSIONS,
    NOT_ON_TRACK_AFTER_SESSIONS,
    Change,
    ReliableChangeParams,
    SessionPoint,
    couple_trajectory,
    partner_trajectory,
)

PARAMS = ReliableChangeParams(
    sd=12.5,
    reliability=0.5,
    n=40,
    source="locally derived",
    cutoff=60.0,
    cutoff_method="test",
)
START = date(2026, 1, 5)

Row = tuple[int | None, float | None, float | None]  # stage, EII A, EII B


def sessions(*rows: Row, held: bool = True) -> list[SessionPoint]:
    """Weekly held sessions from (stage, eii_a, eii_b) rows."""
    return [
        SessionPoint(START + timedelta(weeks=i), held, stage, a, b)
        for i, (stage, a, b) in enumerate(rows)
    ]


def flat(count: int, eii: float = 50.0) -> list[SessionPoint]:
    """`count` held sessions, stage 2, both partners at the same EII: no change at all."""
    return sessions(*[(2, eii, eii)] * count)


# --- partner status ---------------------------------------------------------------


def test_no_ratings_and_a_single_rating_have_no_status() -> None:
    none = partner_trajectory("Partner A", [None, None], PARAMS)
    assert none.status is None and none.describe() == "no ratings yet"
    one = partner_trajectory("Partner A", [None, 55.0, None], PARAMS)
    assert one.status is None and one.describe() == "baseline only"
    assert one.baseline == one.latest == 55.0


def test_first_and_last_available_eii_are_compared_gaps_skipped() -> None:
    # 40 (missed) (missed) 64.75: change 24.75, RCI 1.98 -> improved.
    t = partner_trajectory("Partner B", [None, 40.0, None, None, 64.75, None], PARAMS)
    assert t.ratings == 2 and (t.baseline, t.latest) == (40.0, 64.75)
    assert t.status is Change.IMPROVED


@pytest.mark.parametrize(
    ("last", "status"),
    [
        (64.5, Change.NO_RELIABLE_CHANGE),  # RCI 24.5 / 12.5 = 1.96: not above 1.96
        (64.75, Change.IMPROVED),  # RCI 24.75 / 12.5 = 1.98
        (15.5, Change.NO_RELIABLE_CHANGE),  # RCI -24.5 / 12.5 = -1.96
        (15.25, Change.DETERIORATED),  # RCI -24.75 / 12.5 = -1.98
    ],
)
def test_partner_status_at_the_rci_boundary(last: float, status: Change) -> None:
    t = couple_trajectory(sessions((2, 40.0, 50.0), (2, last, 50.0)), PARAMS)
    assert t.partner_a.status is status
    assert t.partner_b.status is Change.NO_RELIABLE_CHANGE


def test_couple_status_uses_first_and_last_sessions_with_both_eiis() -> None:
    # Joint sessions: (40, 50) -> couple 45 and (70, 69.5) -> couple 69.75.
    # Couple change 24.75, RCI 1.98 -> improved. The session with only A is not used.
    t = couple_trajectory(
        sessions((1, 40.0, 50.0), (2, 90.0, None), (2, 70.0, 69.5)),
        PARAMS,
    )
    assert t.couple is not None
    assert (t.couple.baseline, t.couple.latest) == (45.0, 69.75)
    assert t.couple.status is Change.IMPROVED


def test_one_joint_session_gives_no_couple_change() -> None:
    t = couple_trajectory(sessions((1, 40.0, 50.0), (1, 45.0, None)), PARAMS)
    assert t.couple is None


# --- not on track: deterioration ----------------------------------------------------


def test_a_partner_reliably_deteriorating_is_not_on_track() -> None:
    # B: 60 -> 35.25, change -24.75, RCI -1.98.
    t = couple_trajectory(sessions((2, 50.0, 60.0), (2, 50.0, 35.25)), PARAMS)
    assert t.not_on_track
    assert t.not_on_track_reasons == ("Partner B reliably deteriorated (RCI −2.0)",)


def test_a_drop_exactly_at_the_line_is_not_deterioration() -> None:
    # B: 60 -> 35.5, change -24.5, RCI -1.96: not reliable.
    t = couple_trajectory(sessions((2, 50.0, 60.0), (2, 50.0, 35.5)), PARAMS)
    assert not t.not_on_track


# --- not on track: no reliable improvement after 8 sessions ------------------------


def test_eight_sessions_without_improvement_are_not_yet_flagged() -> None:
    assert NOT_ON_TRACK_AFTER_SESSIONS == 8
    t = couple_trajectory(flat(8), PARAMS)
    assert t.sessions_held == 8
    assert not t.not_on_track


def test_nine_sessions_without_improvement_are_not_on_track() -> None:
    t = couple_trajectory(flat(9), PARAMS)
    assert t.sessions_held == 9
    assert t.not_on_track
    assert t.not_on_track_reasons == ("no reliable improvement after 8 sessions (9 held)",)


def test_sessions_nobody_attended_do_not_count_as_held() -> None:
    cancelled = [SessionPoint(date(2026, 6, 1), False, None, None, None)] * 2
    t = couple_trajectory([*flat(8), *cancelled], PARAMS)
    assert t.sessions_held == 8 and not t.not_on_track


def test_one_partners_reliable_improvement_is_enough_after_8_sessions() -> None:
    # A: 40 -> 64.75 (RCI 1.98) over 9 held sessions; B flat. Reading chosen: flagged
    # only when neither partner reliably improved (partner-level).
    rows: list[Row] = [(2, 40.0, 50.0)] * 8
    t = couple_trajectory(sessions(*rows, (2, 64.75, 50.0)), PARAMS)
    assert t.partner_a.improved and t.couple is not None and not t.couple.improved
    assert not t.not_on_track


def test_only_the_couple_mean_improving_is_not_enough_after_8_sessions() -> None:
    # Couple mean 40 -> 65 (+25: RCI 2.0, improved); each partner 50 -> 65 (+15, RCI
    # 1.2): partner-level, so 9 held sessions without a partner's improvement are flagged.
    rows: list[Row] = [(2, 50.0, None), (2, None, 50.0), (2, 40.0, 40.0), *[(2, 52.0, 52.0)] * 5]
    t = couple_trajectory(sessions(*rows, (2, 65.0, 65.0)), PARAMS)
    assert t.couple is not None and t.couple.improved
    assert not t.partner_a.improved and not t.partner_b.improved
    assert t.sessions_held == 9 and t.not_on_track
    assert t.not_on_track_reasons == ("no reliable improvement after 8 sessions (9 held)",)


def test_improvement_only_at_the_line_does_not_count_after_8_sessions() -> None:
    # A: 40 -> 64.5 (RCI exactly 1.96): not reliable, so 9 held sessions are flagged.
    rows: list[Row] = [(2, 40.0, 50.0)] * 8
    t = couple_trajectory(sessions(*rows, (2, 64.5, 50.0)), PARAMS)
    assert t.not_on_track


def test_no_ratings_at_all_after_9_sessions_is_not_on_track() -> None:
    t = couple_trajectory(sessions(*[(2, None, None)] * 9), PARAMS)
    assert t.not_on_track and t.partner_a.describe() == "no ratings yet"


# --- not on track: stage regressed twice in a row -----------------------------------


@pytest.mark.parametrize(
    ("stages", "flagged"),
    [
        ([3, 2, 1], True),  # two drops in a row
        ([1, 2, 3, 2, 1], True),  # the two most recent changes are drops
        ([3, None, 2, 1], True),  # an unrated session is skipped, not a plateau
        ([3, 2, 2, 1], False),  # regression, plateau, regression: not in a row
        ([3, 2, 1, 2], False),  # regressed twice, but the latest change is a rise
        ([4, 2], False),  # one drop, however large
        ([2, 1], False),
        ([1, 1, 1], False),
    ],
)
def test_stage_regressed_twice_in_a_row(stages: list[int | None], flagged: bool) -> None:
    t = couple_trajectory(sessions(*[(s, 50.0, 50.0) for s in stages]), PARAMS)
    assert t.not_on_track is flagged
    if flagged:
        assert t.not_on_track_reasons[0].startswith("stage regressed twice in a row (")


def test_regression_reason_shows_the_stages() -> None:
    t = couple_trajectory(sessions((3, 50.0, 50.0), (2, 50.0, 50.0), (1, 50.0, 50.0)), PARAMS)
    assert t.not_on_track_reasons == ("stage regressed twice in a row (3 → 2 → 1)",)


# --- partners diverging ---------------------------------------------------------------


def test_one_partner_improving_while_the_other_deteriorates_is_split() -> None:
    # A: 40 -> 64.75 (RCI 1.98); B: 60 -> 35.25 (RCI -1.98).
    t = couple_trajectory(sessions((2, 40.0, 60.0), (2, 64.75, 35.25)), PARAMS)
    assert t.diverging
    assert t.diverging_reasons[0] == (
        "Partner A reliably improved while Partner B reliably deteriorated"
    )
    assert t.not_on_track  # B's deterioration counts there too


def test_improvement_against_no_reliable_change_is_not_split() -> None:
    # A improves (RCI 1.98), B falls by exactly the line (RCI -1.96, not reliable).
    t = couple_trajectory(sessions((2, 40.0, 60.0), (2, 64.75, 35.5)), PARAMS)
    assert not t.diverging


@pytest.mark.parametrize(
    ("gaps", "diverging"),
    [
        ([21, 21, 21], True),  # above 20 in each of the last 3
        ([20, 20, 20], False),  # exactly 20 is not above 20
        ([20, 21, 21], False),  # only the last 2 above 20
        ([21, 21, 21, 20], False),  # 3 above 20 earlier, but not the most recent
        ([21, 21], False),  # only 2 jointly rated sessions
        ([5, 30, 25, 21], True),  # an early small gap does not matter
    ],
)
def test_diverging_by_discrepancy(gaps: list[float], diverging: bool) -> None:
    assert (DIVERGING_GAP, DIVERGING_SESSIONS) == (20.0, 3)
    # A at 50 + gap, B at 50: |EII_A - EII_B| = gap. A's change stays below the line.
    rows: list[Row] = [(2, 50.0 + g, 50.0) for g in gaps]
    t = couple_trajectory(sessions(*rows), PARAMS)
    assert t.diverging is diverging


def test_discrepancy_counts_only_sessions_where_both_partners_have_an_eii() -> None:
    # Gaps 21, (B missing), 21, 21: the 3 most recent joint sessions are all above 20.
    rows: list[Row] = [(2, 71.0, 50.0), (2, 71.0, None), (2, 71.0, 50.0), (2, 71.0, 50.0)]
    t = couple_trajectory(sessions(*rows), PARAMS)
    assert t.diverging
    assert t.diverging_reasons == (
        "partners more than 20 EII points apart in each of the last 3 jointly rated "
        "sessions (21.0, 21.0, 21.0)",
    )
    # ... while a missing partner does not fill in: 21, 21, (B missing) is only 2.
    short = couple_trajectory(sessions(rows[0], rows[2], rows[1]), PARAMS)
    assert not short.diverging


# --- summary and input checks -------------------------------------------------------


def test_summary_reads_as_the_timeline_header() -> None:
    # A: 40 -> 70 over 9 sessions: RCI 30 / 12.5 = 2.4, crosses the cutoff 60.
    # B: 50 -> 60: RCI 10 / 12.5 = 0.8. Couple: 45 -> 65, RCI 20 / 12.5 = 1.6.
    rows: list[Row] = [(2, 40.0, 50.0)] * 8 + [(2, 70.0, 60.0)]
    t = couple_trajectory(sessions(*rows), PARAMS)
    assert t.summary() == (
        "Partner A: clinically significant improvement (RCI 2.4; crossed the cutoff 60.0); "
        "Partner B: no reliable change (RCI 0.8); couple: no reliable change (RCI 1.6)"
    )


def test_summary_lists_why_a_couple_is_not_on_track() -> None:
    # Neither improves over 9 sessions: A 40 -> 45 (RCI 0.4), B 50 -> 60 (RCI 0.8).
    rows: list[Row] = [(2, 40.0, 50.0)] * 8 + [(2, 45.0, 60.0)]
    t = couple_trajectory(sessions(*rows), PARAMS)
    assert t.summary() == (
        "Partner A: no reliable change (RCI 0.4); Partner B: no reliable change (RCI 0.8); "
        "couple: no reliable change (RCI 0.6); "
        "not on track: no reliable improvement after 8 sessions (9 held)"
    )


def test_a_couple_with_no_sessions_has_a_plain_summary() -> None:
    t = couple_trajectory([], PARAMS)
    assert t.summary() == "Partner A: no ratings yet; Partner B: no ratings yet"
    assert not t.not_on_track and not t.diverging and t.couple is None


def test_a_couple_with_one_session_shows_a_baseline() -> None:
    t = couple_trajectory(sessions((1, 40.0, 55.0)), PARAMS)
    assert t.summary() == "Partner A: baseline only; Partner B: baseline only"


def test_sessions_must_come_in_date_order() -> None:
    late, early = sessions((1, 40.0, 50.0), (1, 40.0, 50.0))
    with pytest.raises(ValueError, match="date order"):
        couple_trajectory([early, late], PARAMS)
    # several sessions may share a date
    same_day = SessionPoint(late.session_date, True, 1, 40.0, 50.0)
    couple_trajectory([late, same_day], PARAMS)
