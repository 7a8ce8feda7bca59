"""A reviewed couple leaves the attention list until a new session changes why it is there.

The full path on both backends: sessions logged through the session service, the review
filed by the supervisor, the list read back as the page reads it
(review.caseload_review + supervision.attention_with_reviews).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.services import review, sessions, supervision
from dashboard.services.errors import ValidationFailed
from dashboard.services.timeline import NORMS_CACHE
from db.models import SupervisionReview
from tests.conftest import Clinic
from tests.integration.conftest import TODAY

MakeInput = Callable[..., SessionInput]


def ratings(sign: int, warning: int) -> dict[str, int | None]:
    """Every sign rated `sign`, every warning sign `warning`.

    EII = (5·sign + 3·(10 − warning)) / 80 · 100: (9, 1) → 90, (2, 8) → 20, (8, 2) → 80.
    With fewer than 30 intakes the default norms apply: reliable beyond ±18.59 points.
    """
    return {i.key: (warning if i.reverse_scored else sign) for i in INDICATORS}


GOOD, POOR, FINE = ratings(9, 1), ratings(2, 8), ratings(8, 2)


@pytest.fixture(autouse=True)
def _fresh_norms() -> None:
    NORMS_CACHE.clear()


def listed(db: Session, clinic: Clinic) -> pd.DataFrame:
    """The supervisor's attention list with review status, indexed by couple."""
    data = review.caseload_review(
        db, clinic.supervisor, review.ReviewFilters(), today=TODAY, record_view=False
    )
    return supervision.attention_with_reviews(db, data.attention).set_index("couple_id")


def log(db: Session, clinic: Clinic, make_input: MakeInput, on: date, **fields: object) -> int:
    return sessions.log_session(
        db, clinic.counselor, clinic.couple_id, make_input(session_date=on, **fields), today=TODAY
    )


def a_deteriorates(db: Session, clinic: Clinic, make_input: MakeInput) -> None:
    """Partner A 90 → 20 (−70: reliable deterioration) in September; B stays at 80."""
    log(db, clinic, make_input, date(2026, 9, 7), ratings={"A": GOOD, "B": FINE})
    log(db, clinic, make_input, date(2026, 9, 14), ratings={"A": POOR, "B": FINE})


def test_a_review_holds_until_a_new_session_changes_the_reasons(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    couple = clinic.couple_id
    a_deteriorates(db, clinic, make_input)
    before = listed(db, clinic).loc[couple]
    # A's 20 is also far under the 10th percentile of the course expected from 90 (the
    # rational fallback: 90 - 12.16): below the expected course, a reason of its own.
    assert before["attention_key"] == "deteriorated_a,below_expected"
    assert not before["reviewed"] and pd.isna(before["reviewed_key"])

    supervision.mark_reviewed(db, clinic.supervisor, couple, "Seen; discussed.", today=TODAY)
    after = listed(db, clinic).loc[couple]
    assert after["reviewed"] and after["reviewer"] == "Sam Super"
    assert after["comment"] == "Seen; discussed."

    # Another session with the same picture: the review still holds.
    log(db, clinic, make_input, date(2026, 9, 21), ratings={"A": POOR, "B": FINE})
    assert listed(db, clinic).loc[couple, "reviewed"]

    # Partner B now deteriorates too (80 → 20): a new reason, so the couple is back.
    log(db, clinic, make_input, date(2026, 9, 28), ratings={"A": POOR, "B": POOR})
    back = listed(db, clinic).loc[couple]
    assert back["attention_key"] == "deteriorated_a,deteriorated_b,below_expected"
    assert back["reviewed_key"] == "deteriorated_a,below_expected" and not back["reviewed"]


def test_a_new_safety_flag_brings_a_reviewed_couple_back(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    couple = clinic.couple_id
    first = log(db, clinic, make_input, date(2026, 10, 5), safety_flag=True, safety_note="Fear")
    assert listed(db, clinic).loc[couple, "attention_key"] == f"safety@{first}"
    supervision.mark_reviewed(db, clinic.supervisor, couple, "Safety plan in place.", today=TODAY)
    assert listed(db, clinic).loc[couple, "reviewed"]

    # A calm session does not clear the flag (safety is judged over the whole course),
    # and the review of it still holds.
    log(db, clinic, make_input, date(2026, 10, 12))
    calm = listed(db, clinic).loc[couple]
    assert calm["attention_key"] == f"safety@{first}" and calm["reviewed"]

    # A later flagged session is a new event, even though the reasons read the same.
    again = log(db, clinic, make_input, date(2026, 10, 19), safety_flag=True, safety_note="Again")
    back = listed(db, clinic).loc[couple]
    assert back["attention_key"] == f"safety@{again}" and not back["reviewed"]


def test_a_review_of_a_picture_that_has_since_changed_is_refused(
    db: Session, clinic: Clinic, make_input: MakeInput, backend: str
) -> None:
    couple = clinic.couple_id
    a_deteriorates(db, clinic, make_input)
    shown = listed(db, clinic).loc[couple, "attention_key"]  # what the supervisor saw
    # Meanwhile the counselor logs a flagged session: the picture changed.
    flagged = {"safety_flag": True, "safety_note": "Threats"}
    log(db, clinic, make_input, date(2026, 9, 21), ratings={"A": POOR, "B": FINE}, **flagged)
    with pytest.raises(ValidationFailed) as refused:
        supervision.mark_reviewed(
            db, clinic.supervisor, couple, "Seen.", today=TODAY, shown_key=shown
        )
    assert refused.value.errors == {"comment": supervision.PICTURE_CHANGED}
    assert db.scalar(select(func.count()).select_from(SupervisionReview)) == 0
    db.rollback()
