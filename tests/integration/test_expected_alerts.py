"""The expected-course alert through the services, on both backends (issue 22).

A partner's own check-in answers count like any rating of their source: Alex answers
two check-ins, the second far lower, and is judged on the self course. No clinic course
is published, so the rational fallback from the documented EII defaults is in use:
S_diff = 15 × √2 × √(1 − .80) = 9.487; 10th percentile = intake − 1.2816 × 9.487 =
intake − 12.16; 25th = intake − 0.6745 × 9.487 = intake − 6.40.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.check_in import Answers
from dashboard.domain.expected_response import Alert
from dashboard.domain.plain_words import expected_lines
from dashboard.domain.review import BELOW_EXPECTED, listed_for
from dashboard.domain.validation import SessionInput
from dashboard.services import check_ins, review, sessions, timeline
from dashboard.services.check_ins import Credential
from tests.conftest import Clinic
from tests.integration.conftest import full_ratings

TODAY = date(2026, 11, 1)


def _own(sign: int, warning: int | None = None) -> dict[str, int]:
    """The five signs rated `sign`, the three warning signs `warning` (10 − sign unless
    given; reverse-scored): EII = (5 × sign + 3 × (10 − warning)) / 8 × 10."""
    warning = 10 - sign if warning is None else warning
    return {i.key: (warning if i.reverse_scored else sign) for i in INDICATORS}


def _session_with_check_in(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], day: date, own: dict
) -> int:
    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A"}, initials={"A": "A", "B": "B"}
    )
    check_ins.submit_check_in(
        db, Credential("link", made.tokens["A"]), Answers(own, {}, ""), client="x"
    )
    answered = check_ins.self_reports(db, clinic.couple_id)["A"].check_in_partner_id
    inp = make_input(
        session_date=day,
        ratings={"A": own, "B": full_ratings(5)},
        self_reports={"A": answered},
    )
    return sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)


def test_own_answers_well_below_their_own_course_put_the_couple_on_the_list(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    # Counselor ratings first (every item 6: (5 × 6 + 3 × 4) / 8 × 10 = 52.5, twice), then
    # Alex's own answers: 80, then
    # (5 × 7 + 3 × 6) / 8 × 10 = 66.25: 13.75 down, not a reliable change (that needs
    # more than 1.96 × 9.487 = 18.59 points), but under the self course's 10th percentile.
    for day in (date(2026, 3, 2), date(2026, 3, 9)):
        sessions.log_session(
            db, clinic.counselor, clinic.couple_id, make_input(session_date=day), today=TODAY
        )
    _session_with_check_in(db, clinic, make_input, date(2026, 3, 16), _own(8))
    _session_with_check_in(db, clinic, make_input, date(2026, 3, 23), _own(7, 4))

    row = review.caseload_flags(db, clinic.counselor, [clinic.couple_id], today=TODAY).iloc[0]
    # The self course: intake 80, rating 2 = 66.25, under 80 − 12.16 = 67.84.
    assert row["expected"] == "well below expected — Partner A"
    assert row["not_on_track"] and row["flags"] == "Not on track"
    assert row["reasons"] == (
        "Not on track: Partner A is well below the expected course at Partner A's 2nd own "
        "answer (66.3; 10th percentile 67.8)"
    )
    # Blair, rated by the counselor: every item 4 ((5 × 4 + 3 × 6) / 8 × 10 = 47.5) twice,
    # then 5 (50.0) twice: 50 at rating 4 is above 47.5 − 6.40 = 41.1, on course.
    view = timeline.timeline_view(db, clinic.counselor, clinic.couple_id, record_view=False)
    alert = view.trajectory.expected
    assert alert is not None and alert.partner_a.source == "self"
    assert alert.partner_b.alert == Alert.ON_COURSE
    assert expected_lines(view.data, view.trajectory, view.expected_model) == (
        "Alex is well below the expected course: 66.3 at Alex's 2nd own answer; "
        "without enough of the clinic's own couples no change is expected, and a score "
        "unchanged since 80.0 would read 67.8 or more 9 times in 10.",
        "Blair is on course: 50.0 at the counselor's 4th rating; without enough of the "
        "clinic's own couples no change is expected, and a score unchanged since 47.5 "
        "would read 41.1 or more 3 times in 4.",
    )
    # The same couple on the supervisor's attention list, with the same words.
    listed = review.caseload_review(
        db, clinic.supervisor, review.ReviewFilters(), today=TODAY
    ).attention.set_index("couple_id")
    assert listed.loc[clinic.couple_id, "expected"] == "well below expected — Partner A"
    assert listed.loc[clinic.couple_id, "expected_numbers"].startswith(
        "Partner A: 66.3 at Partner A's 2nd own answer, well below expected; expected there: "
        "10th percentile 67.8"
    )


def test_a_couple_only_below_expected_is_found_off_the_list(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    # Alex rated by the counselor: signs 6, warning signs 6 (reverse-scored 4):
    # (5 × 6 + 3 × 4) / 8 × 10 = 52.5; then signs 5, warning signs 7: (5 × 5 + 3 × 3) / 8
    # × 10 = 42.5. Under the 25th percentile (52.5 − 6.40 = 46.1), over the 10th
    # (52.5 − 12.16 = 40.34): below expected, a warning, not on the attention list.
    for day, own in ((date(2026, 3, 2), _own(6, 6)), (date(2026, 3, 9), _own(5, 7))):
        inp = make_input(session_date=day, ratings={"A": own, "B": full_ratings(5)})
        sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    data = review.caseload_review(db, clinic.supervisor, review.ReviewFilters(), today=TODAY)
    assert clinic.couple_id not in data.attention["couple_id"].tolist()
    [row] = data.below_expected.to_dict("records")
    assert row["couple_id"] == clinic.couple_id
    assert row["expected"] == "below expected — Partner A"
    assert row["flags"] == "Not listed: below expected"
    assert row["attention_key"] == ""
    assert row["expected_numbers"].startswith(
        "Partner A: 42.5 at the counselor's 2nd rating, below expected; expected there: "
        "10th percentile 40.3, 25th 46.1, median 52.5."
    )
    found = listed_for(data.attention, [BELOW_EXPECTED], data.below_expected)
    assert found["couple_id"].tolist() == [clinic.couple_id]
    assert listed_for(data.attention, ["Not on track"], data.below_expected).empty
