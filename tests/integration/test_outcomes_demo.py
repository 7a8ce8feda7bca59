"""The vectorized caseload rules agree with couple_trajectory for every demo couple.

The equivalence proof issue 4 relies on: the whole demo clinic is read with plain
selects, judged once by outcomes.caseload_outcomes, and each couple is judged again by
scoring.couple_trajectory from the same rows. Runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.domain.catalog import Attendance
from dashboard.domain.couple_outcome import DETERIORATED, MIXED, couple_outcome
from dashboard.domain.outcomes import caseload_outcomes, partner_eii_frame
from dashboard.domain.same_source import eii_source
from dashboard.domain.scoring import (
    DEFAULT_EII_PARAMS,
    Change,
    ReliableChangeParams,
    SessionPoint,
    couple_trajectory,
)
from dashboard.services.timeline import clinic_norms
from db.models import Couple, CoupleSession, IndicatorRating

TIGHT = ReliableChangeParams(
    sd=8.0, reliability=0.6, n=40, source="locally derived", cutoff=60.0, cutoff_method="test"
)


def caseload_frame(db: Session) -> pd.DataFrame:
    live = CoupleSession.deleted_at.is_(None) & Couple.deleted_at.is_(None)
    sessions = pd.DataFrame(
        db.execute(
            select(
                CoupleSession.couple_id,
                CoupleSession.id.label("session_id"),
                CoupleSession.session_date,
                CoupleSession.attendance,
                CoupleSession.stage,
                CoupleSession.source_a,
                CoupleSession.source_b,
            )
            .join(Couple, Couple.id == CoupleSession.couple_id)
            .where(live)
            .order_by(CoupleSession.couple_id, CoupleSession.session_date, CoupleSession.id)
        ).all(),
        columns=[
            "couple_id",
            "session_id",
            "session_date",
            "attendance",
            "stage",
            "source_a",
            "source_b",
        ],
    )
    ratings = pd.DataFrame(
        db.execute(
            select(
                IndicatorRating.session_id,
                IndicatorRating.partner,
                IndicatorRating.item,
                IndicatorRating.value,
            )
            .join(CoupleSession, CoupleSession.id == IndicatorRating.session_id)
            .join(Couple, Couple.id == CoupleSession.couple_id)
            .where(live)
        ).all(),
        columns=["session_id", "partner", "item", "value"],
    )
    eii = partner_eii_frame(ratings).pivot(index="session_id", columns="partner", values="eii")
    sessions["held"] = sessions["attendance"].map(lambda a: Attendance(a).held).astype(bool)
    sessions["stage"] = sessions["stage"].astype("Int64")
    sessions["session_date"] = pd.to_datetime(sessions["session_date"])
    for partner in ("A", "B"):
        column = eii[partner] if partner in eii.columns else pd.Series(dtype="float64")
        sessions[f"eii_{partner.lower()}"] = sessions["session_id"].map(column).astype("float64")
    return sessions


def points(frame: pd.DataFrame) -> list[SessionPoint]:
    return [
        SessionPoint(
            session_date=r.session_date.date(),
            held=bool(r.held),
            stage=None if pd.isna(r.stage) else int(r.stage),
            eii_a=None if pd.isna(r.eii_a) else float(r.eii_a),
            eii_b=None if pd.isna(r.eii_b) else float(r.eii_b),
            source_a=r.source_a if isinstance(r.source_a, str) else "counselor",
            source_b=r.source_b if isinstance(r.source_b, str) else "counselor",
        )
        for r in frame.itertuples()
    ]


@pytest.mark.parametrize("params", [DEFAULT_EII_PARAMS, TIGHT], ids=["default", "tight"])
def test_every_demo_couple_agrees_with_couple_trajectory(
    db: Session, backend: str, params: ReliableChangeParams
) -> None:
    load_demo(db, bcrypt_rounds=4)
    sessions = caseload_frame(db)
    outcomes = caseload_outcomes(sessions, params)

    couples = sessions.groupby("couple_id", sort=True)
    assert list(outcomes.index) == list(couples.groups)
    flags: Counter[str] = Counter()
    for couple_id, frame in couples:
        t = couple_trajectory(points(frame), params)
        row = outcomes.loc[couple_id]
        where = f"couple {couple_id}"
        assert row["sessions_held"] == t.sessions_held, where
        assert row["status_a"] is t.partner_a.status, where
        assert row["status_b"] is t.partner_b.status, where
        assert row["status_couple"] is (None if t.couple is None else t.couple.status), where
        assert row["outcome"] == couple_outcome(t.partner_a.status, t.partner_b.status), where
        assert bool(row["not_on_track"]) is t.not_on_track, where
        assert bool(row["diverging"]) is t.diverging, where
        assert row["not_on_track_reasons"] == ("; ".join(t.not_on_track_reasons) or None), where
        assert row["diverging_reasons"] == ("; ".join(t.diverging_reasons) or None), where
        flags.update(
            name
            for name in ("not_on_track", "diverging", "no_improvement", "stage_regressed")
            if row[name]
        )
        flags.update(str(s) for s in (t.partner_a.status, t.partner_b.status) if s)
    # The demo is built to contain each kind of couple the rules look for, so the
    # agreement above is not vacuous.
    assert flags["not_on_track"] and flags["diverging"], flags
    assert flags["improved"] and flags["no reliable change"], flags
    assert outcomes["first_reliable_improvement_session"].notna().any()


def test_no_demo_couple_with_a_worse_partner_shows_as_improved_or_unchanged(
    db: Session, backend: str
) -> None:
    """Issue 21, point 1, with the clinic's own norms as the review reads them. Measured
    on the demo of this commit (like with like, clinic norms v1 with the EII SD floor):
    7 couples with a reliably deteriorated partner; the couple mean called 3 of them "no
    reliable change" and 4 "deteriorated"; partner-level they are 4 "Deteriorated" and
    3 "Mixed: one improved, one deteriorated" (the demo before issue 21: 11, 7 + 4 and
    7 + 4)."""
    load_demo(db, bcrypt_rounds=4)
    outcomes = caseload_outcomes(caseload_frame(db), clinic_norms(db).eii)
    worse = outcomes[outcomes["deteriorated_a"] | outcomes["deteriorated_b"]]
    assert len(worse) > 0
    assert set(worse["outcome"]) <= {MIXED, DETERIORATED}
    # Mixed exactly when the other partner reliably improved.
    improved = worse["status_a"].eq(Change.IMPROVED) | worse["status_b"].eq(Change.IMPROVED)
    assert (worse["outcome"].eq(MIXED) == improved).all()
    # ... where the couple mean hid some of them (the case the issue found).
    assert worse["status_couple"].eq(Change.NO_RELIABLE_CHANGE).any()


def test_no_demo_partner_is_judged_across_sources(db: Session, backend: str) -> None:
    """Issue 21, point 4, measured on the demo of this commit with the clinic's norms:
    18 partners have a counselor-rated first rating and a self-reported latest one, or
    the reverse (8 A, 10 B; the issue found 17 on the demo before point 9); judged first
    vs latest, all 18 were judged and 6 called reliably changed (clinic norms v1, EII SD
    floor). Like with like, none is judged across sources: 2 reliably improved on a
    same-source pair, 13 no reliable change, 3 not yet measurable."""
    load_demo(db, bcrypt_rounds=4)
    sessions = caseload_frame(db)
    outcomes = caseload_outcomes(sessions, clinic_norms(db).eii)
    mixed = 0
    for key in ("a", "b"):
        rated = sessions[sessions[f"eii_{key}"].notna()]
        for couple_id, frame in rated.groupby("couple_id"):
            sources = frame[f"source_{key}"].tolist()
            assert set(sources) <= {"counselor", "self"}, couple_id
            row = outcomes.loc[couple_id]
            mixed += sources[0] != sources[-1]
            used = row[f"judged_on_{key}"]
            if used is None:
                assert row[f"status_{key}"] is None
                continue
            same = frame[frame[f"source_{key}"] == used][f"eii_{key}"]
            # The judged change is that source's own first -> latest, and the latest
            # source is used whenever it has two ratings.
            assert len(same) >= 2
            assert row[f"change_{key}"] == same.iloc[-1] - same.iloc[0], couple_id
            if sources.count(sources[-1]) >= 2:
                assert used == sources[-1], couple_id
    assert mixed > 0  # the demo holds partners whose sources changed: not vacuous
    # The stored sources are the rule over the items' sources (what the timeline reads).
    items: dict[tuple[int, str], dict[str, str]] = {}
    for sid, partner, item, source in db.execute(
        select(
            IndicatorRating.session_id,
            IndicatorRating.partner,
            IndicatorRating.item,
            IndicatorRating.source,
        )
    ):
        items.setdefault((sid, partner), {})[item] = source
    for r in sessions.itertuples():
        for partner, stored in (("A", r.source_a), ("B", r.source_b)):
            expected = eii_source(items.get((r.session_id, partner), {}))
            assert (stored if isinstance(stored, str) else None) == expected, r.session_id
