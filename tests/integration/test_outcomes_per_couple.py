"""The one-couple path (outcomes_per_couple.py, what a save's summary row is computed
with) gives exactly the vectorized caseload's frame: every column, value and type, for
every couple of the demo clinic and after seeded random edits. Runs on SQLite, and on
PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.domain import review
from dashboard.domain.alliance import AllianceFlag
from dashboard.domain.couple_summary import FOREVER
from dashboard.domain.outcomes import caseload_outcomes
from dashboard.domain.outcomes_per_couple import per_couple_outcomes
from dashboard.domain.scoring import DEFAULT_EII_PARAMS
from dashboard.services import couple_summaries
from dashboard.services.expected import expected_model
from dashboard.services.norms import clinic_norms
from db import review_queries
from db.models import Couple
from tests.conftest import Clinic
from tests.integration.test_couple_summaries import _random_edits
from tests.integration.test_outcomes_demo import TIGHT

EVERYONE = select(Couple.id).where(Couple.deleted_at.is_(None))


def _both_ways(
    db: Session, monkeypatch: pytest.MonkeyPatch, end: date = FOREVER
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """couple_figures of every live couple as at `end`, built couple by couple and
    vectorized."""
    monkeypatch.setattr(review, "PER_COUPLE_FIGURES_MAX", 10**9)
    _, _, per_couple = couple_summaries.figures_on_the_fly(db, EVERYONE, end)
    monkeypatch.setattr(review, "PER_COUPLE_FIGURES_MAX", 0)
    _, _, vectorized = couple_summaries.figures_on_the_fly(db, EVERYONE, end)
    db.rollback()
    return per_couple, vectorized


def test_every_demo_couple_judged_alone_equals_the_vectorized_caseload(
    db: Session, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(db, bcrypt_rounds=4)
    sessions = review_queries.review_sessions(db, EVERYONE)
    model, norms = expected_model(db), clinic_norms(db).eii
    db.rollback()
    assert sessions["couple_id"].nunique() >= 60  # the whole demo clinic, not a few
    for params in (norms, DEFAULT_EII_PARAMS, TIGHT):
        for expected in (model, None):
            pd.testing.assert_frame_equal(
                per_couple_outcomes(sessions, params, expected),
                caseload_outcomes(sessions, params, expected),
            )
    per_couple, vectorized = _both_ways(db, monkeypatch)
    pd.testing.assert_frame_equal(per_couple, vectorized)
    # A past range's end (the review's on-the-fly figures): the median session's day.
    middle = sessions["session_date"].sort_values().iloc[len(sessions) // 2].date()
    pd.testing.assert_frame_equal(*_both_ways(db, monkeypatch, middle))
    # Not a frame of blanks: the demo holds every case the rows meet (flags, safety,
    # the three answers of the split-alliance rule, a couple without a session yet).
    assert per_couple["not_on_track"].any() and per_couple["diverging"].any()
    assert per_couple["safety"].any() and per_couple["sessions_held"].eq(0).any()
    assert set(per_couple["alliance"]) == {f.value for f in AllianceFlag}
    assert per_couple["first_reliable_improvement_date"].notna().any()


def test_after_random_edits_each_couple_alone_equals_the_vectorized_caseload(
    backend: str, db: Session, clinic: Clinic, make_input, monkeypatch: pytest.MonkeyPatch
) -> None:
    _random_edits(db, clinic, make_input, random.Random(24))
    per_couple, vectorized = _both_ways(db, monkeypatch)
    assert len(per_couple) == 7  # the clinic's two couples and the five the edits open
    pd.testing.assert_frame_equal(per_couple, vectorized)
    # The rows the saves wrote (one couple each: couple by couple) are, field by field,
    # what the vectorized recomputation of the whole clinic gives (_both_ways left it on).
    assert review.PER_COUPLE_FIGURES_MAX == 0
    found, _ = couple_summaries.compare(db)
    db.rollback()
    assert found == []
