"""The caseload review (issue 4) against a small hand-built clinic, on SQLite and PostgreSQL.

Every number below is a literal worked out by hand from the clinic drawn here, with the
arithmetic beside it. TODAY is Sunday 1 Nov 2026 and every session is on a Monday.

EII: a partner who rates the five signs k and the three warning signs 10 - k scores
EII 10k exactly (every item scores k after reverse-scoring). The clinic has 14 partner
intakes (< 30), so the documented default params apply: S_diff = 15 * sqrt(2) *
sqrt(1 - .80) = 9.487, reliable when |change| > 1.96 * 9.487 = 18.59 EII points: a
change of 20 is reliable (RCI +-2.108, shown "2.1"), a change of 10 is not.

Counselors: Cara Couns and Dana Deux (supervised by Sam Super), Olly Other (not).
A session is "A/B stage": the partners' k and the stage; nothing else was held.

  K0 C-2026-0001 Cara  active, intake 5 Jan (the conftest couple), no session
  K1 C-2026-0002 Olly  active, intake 1 Feb (the conftest couple), no session
  C1 C-2026-0003 Cara  active, intake 1 Jun: improved
     8 Jun 4/4 st1 [stress 2] | 6 Jul 5/5 st2 [stress 3, communication 1] | 3 Aug no-show
     | 7 Sep 6/6 st2 | 19 Oct cancelled | 26 Oct 7/7 st3
  C2 C-2026-0004 Cara  active, intake 1 Jul: deteriorated, stage regressed, safety
     6 Jul 6/6 st4 | 10 Aug 5/5 st3 [communication 2] | 14 Sep 4/4 st2 safety flag
  C3 C-2026-0005 Cara  paused 1 Sep, intake 2 Mar: no reliable change
     9 Mar 5/5 st2 | 6 Apr 5/6 st2
  D1 C-2026-0006 Dana  active, intake 3 Aug: partners diverging (A up 20, B down 20)
     10 Aug 4/6 st2 | 14 Sep 5/5 st2 | 12 Oct 6/4 st3
  D2 C-2026-0007 Dana  active, intake 1 Sep: partners 30 apart three times
     7 Sep 3/6 st1 | 5 Oct 3/6 st2 | 19 Oct no-show | 26 Oct 3/6 st3
  D3 C-2026-0008 Dana  closed 5 Oct (goals met), intake 2 Feb
     9 Feb 5/5 st1 | 9 Mar 5/5 st1 [trauma 3]
  O1 C-2026-0009 Olly  active, intake 4 May: improved, safety flag
     11 May 4/4 st2 [fear 1] | 15 Jun 5/5 st2 | 13 Jul 5/5 st3 | 21 Sep 6/6 st3 safety flag
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS, IndicatorKind
from dashboard.domain.validation import BarrierTag, CoupleInput, SessionInput
from dashboard.services import couples, sessions
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ValidationFailed
from dashboard.services.review import ReviewFilters, caseload_review, review_choices
from dashboard.services.timeline import NORMS_CACHE
from db.engine import begin_write
from db.models import AuditEvent, Couple, CoupleSession, SupervisionLink, User
from tests.conftest import Clinic, make_actor
from tests.integration.conftest import TODAY, AuditLookup

CARA, DANA, OLLY = "Cara Couns", "Dana Deux", "Olly Other"
ST1 = "1. Curiosity and Comfort"
ST2 = "2. Trust and Vulnerability"
ST3 = "3. Interdependence, Not Dependence"
ST4 = "4. Deep Partnership"
NOT_RATED = "Not rated"
STAGE_ORDER = (ST1, ST2, ST3, ST4, NOT_RATED)
# Partner-level outcomes (couple_outcome.py), in the chart's order.
BOTH, ONE, SAME = "Both improved", "One partner improved", "No reliable change"
MIXED, WORSE, EARLY = "Mixed: one improved, one deteriorated", "Deteriorated", "Not yet measurable"
OUTCOME_ORDER = (BOTH, ONE, SAME, MIXED, WORSE, EARLY)

Held = tuple[str, date, int, int, int, tuple[tuple[str, int], ...], bool]
Missed = tuple[str, date]

# label -> (counselor, partners, intake, sessions): ("held", day, k_A, k_B, stage,
# barrier tags, safety flag) or (attendance, day) for a session nobody attended.
PLAN: dict[str, tuple[str, tuple[str, str], date, list[Held | Missed]]] = {
    "C1": (
        "cara",
        ("Ana", "Ben"),
        date(2026, 6, 1),
        [
            ("held", date(2026, 6, 8), 4, 4, 1, (("stress_distraction", 2),), False),
            (
                "held",
                date(2026, 7, 6),
                5,
                5,
                2,
                (("stress_distraction", 3), ("poor_communication", 1)),
                False,
            ),
            ("no_show", date(2026, 8, 3)),
            ("held", date(2026, 9, 7), 6, 6, 2, (), False),
            ("cancelled", date(2026, 10, 19)),
            ("held", date(2026, 10, 26), 7, 7, 3, (), False),
        ],
    ),
    "C2": (
        "cara",
        ("Cleo", "Dev"),
        date(2026, 7, 1),
        [
            ("held", date(2026, 7, 6), 6, 6, 4, (), False),
            ("held", date(2026, 8, 10), 5, 5, 3, (("poor_communication", 2),), False),
            ("held", date(2026, 9, 14), 4, 4, 2, (), True),
        ],
    ),
    "C3": (
        "cara",
        ("Eve", "Fin"),
        date(2026, 3, 2),
        [
            ("held", date(2026, 3, 9), 5, 5, 2, (), False),
            ("held", date(2026, 4, 6), 5, 6, 2, (), False),
        ],
    ),
    "D1": (
        "dana",
        ("Gus", "Hal"),
        date(2026, 8, 3),
        [
            ("held", date(2026, 8, 10), 4, 6, 2, (), False),
            ("held", date(2026, 9, 14), 5, 5, 2, (), False),
            ("held", date(2026, 10, 12), 6, 4, 3, (), False),
        ],
    ),
    "D2": (
        "dana",
        ("Ivy", "Jo"),
        date(2026, 9, 1),
        [
            ("held", date(2026, 9, 7), 3, 6, 1, (), False),
            ("held", date(2026, 10, 5), 3, 6, 2, (), False),
            ("no_show", date(2026, 10, 19)),
            ("held", date(2026, 10, 26), 3, 6, 3, (), False),
        ],
    ),
    "D3": (
        "dana",
        ("Kit", "Lou"),
        date(2026, 2, 2),
        [
            ("held", date(2026, 2, 9), 5, 5, 1, (), False),
            ("held", date(2026, 3, 9), 5, 5, 1, (("unresolved_trauma", 3),), False),
        ],
    ),
    "O1": (
        "olly",
        ("Max", "Ned"),
        date(2026, 5, 4),
        [
            ("held", date(2026, 5, 11), 4, 4, 2, (("fear_of_vulnerability", 1),), False),
            ("held", date(2026, 6, 15), 5, 5, 2, (), False),
            ("held", date(2026, 7, 13), 5, 5, 3, (), False),
            ("held", date(2026, 9, 21), 6, 6, 3, (), True),
        ],
    ),
}


def items(k: int) -> dict[str, int | None]:
    """Signs rated k, warning signs 10 - k: EII exactly 10k."""
    return {i.key: (k if i.kind is IndicatorKind.SIGN else 10 - k) for i in INDICATORS}


@dataclass
class ReviewClinic:
    clinic: Clinic
    dana: Actor
    ids: dict[str, int]  # couple label -> couple id
    safety: dict[str, int]  # couple label -> id of its safety-flagged session
    barriers: dict[str, int]  # barrier code -> id

    @property
    def sam(self) -> Actor:
        return self.clinic.supervisor

    @property
    def admin(self) -> Actor:
        return self.clinic.admin


@pytest.fixture
def rc(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    barrier_ids: dict[str, int],
) -> ReviewClinic:
    """The clinic of the module docstring, built through the real services."""
    NORMS_CACHE.clear()  # norms from this test's intakes only (14 < 30: the default)
    dana = make_actor(db, "dana.deux", "counselor", DANA, created_by=clinic.admin)
    begin_write(db)
    db.add(SupervisionLink(supervisor_id=clinic.supervisor.user_id, counselor_id=dana.user_id))
    db.commit()
    owners = {"cara": clinic.counselor, "dana": dana, "olly": clinic.other_counselor}
    ids = {"K0": clinic.couple_id, "K1": clinic.other_couple_id}
    safety: dict[str, int] = {}
    for label, (owner, (a, b), intake, plan) in PLAN.items():
        actor = owners[owner]
        couple_id = couples.create_couple(
            db, actor, CoupleInput(a, b, intake, "Distance", "Closeness"), today=TODAY
        )
        ids[label] = couple_id
        for entry in plan:
            if entry[0] == "held":
                _, day, ka, kb, stage, tags, flag = entry  # type: ignore[misc]
                inp = make_input(
                    session_date=day,
                    ratings={"A": items(ka), "B": items(kb)},
                    stage=stage,
                    barriers=[BarrierTag(barrier_ids[code], sev, "") for code, sev in tags],
                    safety_flag=flag,
                    safety_note="Raised voices at home." if flag else "",
                )
            else:
                attendance, day = entry  # type: ignore[misc]
                inp = make_input(
                    session_date=day,
                    attendance=attendance,
                    duration_minutes=None,
                    stage=None,
                    barriers=[],
                    ratings={},
                )
            session_id = sessions.log_session(db, actor, couple_id, inp, today=TODAY)
            if entry[0] == "held" and entry[6]:
                safety[label] = session_id
    _set_status(db, dana, ids["D3"], "closed", datetime(2026, 10, 5, 15, 0, tzinfo=UTC))
    _set_status(db, clinic.counselor, ids["C3"], "paused", datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    return ReviewClinic(clinic, dana, ids, safety, barrier_ids)


def _set_status(db: Session, actor: Actor, couple_id: int, status: str, now: datetime) -> None:
    version = db.scalar(select(Couple.version).where(Couple.id == couple_id))
    db.rollback()
    assert version is not None
    couples.change_status(
        db,
        actor,
        couple_id,
        new_status=status,
        closing_reason="goals_met" if status == "closed" else None,
        expected_version=version,
        now=now,
    )


def review(db: Session, actor: Actor, **filters: Any) -> Any:
    return caseload_review(db, actor, ReviewFilters(**filters), today=TODAY, record_view=False)


def counselor_rows(result: Any) -> dict[str, dict[str, int]]:
    """counselor name -> its numbers (every COUNSELOR_COLUMNS column but the id)."""
    frame = result.counselors.drop(columns=["counselor_id"]).set_index("counselor")
    return {name: {k: int(v) for k, v in row.items()} for name, row in frame.iterrows()}


def numbers(
    couples_: int,
    active: int,
    s30: int,
    s90: int,
    in_range: int,
    overdue: int,
    outcomes: tuple[int, int, int, int, int, int],
    not_on_track: int,
    diverging: int,
    attention: int,
    stages: tuple[int, int, int, int, int],
    *,
    safety: int = 0,
    split_alliance: int = 0,
    alliance_judged: int = 0,
) -> dict[str, int]:
    """One counselor's row, in COUNSELOR_COLUMNS order (outcomes and stages in order);
    `safety`: couples with a safety flag at any session of the course (up to the range's
    last day)."""
    row = {
        "couples": couples_,
        "active": active,
        "sessions_30d": s30,
        "sessions_90d": s90,
        "sessions_in_range": in_range,
        "overdue": overdue,
    }
    row.update({f"outcome_{o}": n for o, n in zip(OUTCOME_ORDER, outcomes, strict=True)})
    row.update({"not_on_track": not_on_track, "diverging": diverging})
    row.update(
        {"split_alliance": split_alliance, "alliance_judged": alliance_judged, "safety": safety}
    )
    row["needs_attention"] = attention
    row.update({f"stage_{s}": n for s, n in zip(STAGE_ORDER, stages, strict=True)})
    return row


def codes(result: Any) -> list[str]:
    return sorted(result.couples["case_code"])


# --- Sam's default review: active and paused couples, the year to today --------------


def test_per_counselor_numbers_and_totals(db: Session, rc: ReviewClinic, backend: str) -> None:
    result = review(db, rc.sam)
    # Default range: 365 days back from today.
    assert (result.window.start, result.window.end) == (date(2025, 11, 1), TODAY)
    # Active and paused only: Cara K0 C1 C2 C3, Dana D1 D2 (D3 is closed; Olly unseen).
    assert codes(result) == [f"C-2026-000{n}" for n in (1, 3, 4, 5, 6, 7)]
    assert counselor_rows(result) == {
        CARA: numbers(
            4,  # K0 C1 C2 C3
            3,  # C3 is paused
            1,  # held 3 Oct..1 Nov: C1 26 Oct (C1 19 Oct was cancelled)
            4,  # held 4 Aug..1 Nov: C1 7 Sep, 26 Oct; C2 10 Aug, 14 Sep
            9,  # held in the year: C1 4 + C2 3 + C3 2
            2,  # active, > 21 days: K0 (300 days since intake), C2 (48 days); C1 6 days
            # Per partner: both improved C1 (each 40 -> 70), no change C3 (A 50 -> 50,
            # B 50 -> 60: +10), deteriorated C2 (each 60 -> 40), too early K0.
            (1, 0, 1, 0, 1, 1),
            1,  # C2: both partners deteriorated, stage 4 -> 3 -> 2
            0,
            1,  # C2
            (0, 2, 1, 0, 1),  # current stage: C2 2, C3 2; C1 3; K0 not rated
            safety=1,  # C2 14 Sep
        ),
        DANA: numbers(
            2,  # D1 D2
            2,
            3,  # D1 12 Oct; D2 5 Oct, 26 Oct (19 Oct no-show)
            6,  # D1 10 Aug, 14 Sep, 12 Oct; D2 7 Sep, 5 Oct, 26 Oct
            6,  # D1 3 + D2 3
            0,  # D1 20 days, D2 6 days: not more than 21
            # D1 mixed: A 40 -> 60 (+20), B 60 -> 40 (-20), where the couple mean (50 ->
            # 50) would say no change; D2 no change (A 30 -> 30, B 60 -> 60).
            (0, 0, 1, 1, 0, 0),
            1,  # D1: partner B 60 -> 40
            2,  # D1 opposite, D2 30 points apart three times
            2,
            (0, 0, 2, 0, 0),  # D1 3, D2 3
        ),
    }
    totals = {k: int(v) for k, v in result.totals.items()}
    assert totals == numbers(
        6, 5, 4, 10, 15, 2, (1, 0, 2, 1, 1, 1), 2, 2, 3, (0, 2, 3, 0, 1), safety=1
    )


def test_outcome_mix_and_stage_distribution(db: Session, rc: ReviewClinic, backend: str) -> None:
    result = review(db, rc.sam)
    mix = {(r.counselor, r.outcome): r.couples for r in result.outcome_mix.itertuples()}
    # Every counselor x every outcome, zeros included (2 x 6 rows).
    assert mix == {
        (CARA, BOTH): 1,  # C1 each partner 40 -> 70 (+30, RCI 3.2)
        (CARA, ONE): 0,
        (CARA, SAME): 1,  # C3 A 50 -> 50, B 50 -> 60 (+10, RCI 1.05)
        (CARA, MIXED): 0,
        (CARA, WORSE): 1,  # C2 each partner 60 -> 40 (-20, RCI -2.1)
        (CARA, EARLY): 1,  # K0: no session
        (DANA, BOTH): 0,
        (DANA, ONE): 0,
        (DANA, SAME): 1,  # D2 A 30 -> 30, B 60 -> 60
        # D1 A 40 -> 60 (+20, RCI 2.1), B 60 -> 40 (RCI -2.1): the couple mean 50 -> 50
        # said "No reliable change" before outcomes were partner-level.
        (DANA, MIXED): 1,
        (DANA, WORSE): 0,
        (DANA, EARLY): 0,
    }
    assert list(result.outcome_mix["counselor"]) == [CARA] * 6 + [DANA] * 6
    stages = {(r.counselor, r.stage): r.couples for r in result.stage_distribution.itertuples()}
    assert len(result.stage_distribution) == 10  # 2 counselors x 5 stage labels
    assert {k: v for k, v in stages.items() if v} == {
        (CARA, ST2): 2,  # C2 (4 -> 3 -> 2), C3
        (CARA, ST3): 1,  # C1
        (CARA, NOT_RATED): 1,  # K0
        (DANA, ST3): 2,  # D1, D2
    }


def test_attention_list_order_reasons_and_keys(db: Session, rc: ReviewClinic, backend: str) -> None:
    result = review(db, rc.sam)
    rows = result.attention.to_dict("records")
    # Worst first: safety (C2, also not on track) > not on track and diverging (D1) > diverging (D2).
    assert [r["case_code"] for r in rows] == ["C-2026-0004", "C-2026-0006", "C-2026-0007"]
    c2, d1, d2 = rows
    assert c2["couple_id"] == rc.ids["C2"]
    assert (c2["counselor"], c2["status"], c2["sessions_held"]) == (CARA, "Active", 3)
    assert c2["last_session"] == pd.Timestamp(2026, 9, 14)
    assert c2["outcome"] == WORSE
    # 60 -> 40 for each partner: -20 / 9.487 = RCI -2.108, shown -2.1.
    # Safety first, with its date; then the trajectory's reasons. The expected course (the
    # rational fallback: no clinic course published) puts the 10th percentile at
    # 60 − 1.2816 × 9.487 = 47.84 at every rating from the 2nd: 40 at the 3rd is well
    # below it (expected_response.fallback_model).
    assert c2["reasons"] == (
        "Safety flag at the session of 14 Sep 2026; "
        "Not on track: Partner A reliably deteriorated (RCI −2.1); "
        "Partner B reliably deteriorated (RCI −2.1); "
        "stage regressed twice in a row (4 → 3 → 2); "
        "Partner A is well below the expected course at the counselor's 3rd rating "
        "(40.0; 10th percentile 47.8); "
        "Partner B is well below the expected course at the counselor's 3rd rating "
        "(40.0; 10th percentile 47.8)"
    )
    assert c2["expected"] == "well below expected — both partners"
    assert c2["attention_key"] == (
        f"deteriorated_a,deteriorated_b,stage_regressed,below_expected,safety@{rc.safety['C2']}"
    )
    assert (d1["counselor"], d1["sessions_held"], d1["outcome"]) == (DANA, 3, MIXED)
    assert d1["last_session"] == pd.Timestamp(2026, 10, 12)
    # A 40 -> 60 (+20, reliable), B 60 -> 40 (-20, reliable), couple 50 -> 50.
    # B's 40 at rating 3 is also under the fallback's 10th percentile (47.84, as C2's).
    assert d1["reasons"] == (
        "Not on track: Partner B reliably deteriorated (RCI −2.1); "
        "Partner B is well below the expected course at the counselor's 3rd rating "
        "(40.0; 10th percentile 47.8); "
        "partners diverging: Partner A reliably improved while Partner B reliably deteriorated"
    )
    assert d1["attention_key"] == "deteriorated_b,below_expected,diverging_opposite"
    assert d1["expected"] == "well below expected — Partner B"
    # D2: |30 - 60| = 30 > 20 at each of its three rated sessions (the no-show has none).
    assert (d2["sessions_held"], d2["last_session"]) == (3, pd.Timestamp(2026, 10, 26))
    assert d2["reasons"] == (
        "Partners diverging: partners more than 20 EII points apart in each of the last 3 "
        "jointly rated sessions (30.0, 30.0, 30.0)"
    )
    assert d2["attention_key"] == "diverging_discrepancy"


def test_stage_flow_from_intake_stage_to_current_stage(
    db: Session, rc: ReviewClinic, backend: str
) -> None:
    result = review(db, rc.sam)
    flow = {(r.intake_stage, r.current_stage): r.couples for r in result.stage_flow.itertuples()}
    # K0 has no rated session, so it is not in the flow.
    assert flow == {
        (ST1, ST3): 2,  # C1 1 -> 2 -> 2 -> 3, D2 1 -> 2 -> 3
        (ST2, ST2): 1,  # C3
        (ST2, ST3): 1,  # D1
        (ST4, ST2): 1,  # C2
    }


def test_barrier_prevalence_by_month(db: Session, rc: ReviewClinic, backend: str) -> None:
    result = review(db, rc.sam, statuses=("active", "paused", "closed"))
    frame = result.barrier_months
    # Held sessions of Sam's couples in every status (K0 C1 C2 C3 D1 D2 D3) per month:
    # Feb 1 (D3), Mar 2 (C3, D3), Apr 1 (C3), Jun 1 (C1), Jul 2 (C1, C2), Aug 2 (C2,
    # D1; C1's 3 Aug no-show is not held), Sep 4 (C1 C2 D1 D2), Oct 4 (C1, D1, D2 twice).
    held = frame.drop_duplicates("month").set_index("month")["sessions_held"]
    assert {m.strftime("%Y-%m"): int(n) for m, n in held.items() if n} == {
        "2026-02": 1,
        "2026-03": 2,
        "2026-04": 1,
        "2026-06": 1,
        "2026-07": 2,
        "2026-08": 2,
        "2026-09": 4,
        "2026-10": 4,
    }
    # Every month of the range (Nov 2025 .. Nov 2026: 13) for each barrier tagged in it;
    # fear of vulnerability is only Olly's (O1).
    assert sorted(frame["barrier"].unique()) == [
        "Poor communication habits",
        "Stress and distraction",
        "Unresolved trauma or insecurity",
    ]
    assert len(frame) == 13 * 3
    tagged = frame[frame["tagged"] > 0]
    got = {
        (r.month.strftime("%Y-%m"), r.barrier): (r.tagged, r.sessions_held, r.share)
        for r in tagged.itertuples()
    }
    assert got == {
        ("2026-03", "Unresolved trauma or insecurity"): (1, 2, 0.5),  # D3 9 Mar, of 2 held
        ("2026-06", "Stress and distraction"): (1, 1, 1.0),  # C1 8 Jun, of 1 held
        ("2026-07", "Stress and distraction"): (1, 2, 0.5),  # C1 6 Jul, of 2 held
        ("2026-07", "Poor communication habits"): (1, 2, 0.5),  # C1 6 Jul, of 2 held
        ("2026-08", "Poor communication habits"): (1, 2, 0.5),  # C2 10 Aug, of 2 held
    }
    july = tagged[tagged["month"].eq(pd.Timestamp(2026, 7, 1))].set_index("barrier")
    # One tag each in July: stress severity 3, communication severity 1.
    assert july["mean_severity"].to_dict() == {
        "Poor communication habits": 1.0,
        "Stress and distraction": 3.0,
    }
    # A month without a held session has no share (a gap), not 0.
    november = frame[frame["month"].eq(pd.Timestamp(2025, 11, 1))]
    assert november["share"].isna().all()
    assert (november["tagged"] == 0).all()
    # How much of each month the range covers: 1 Nov 2025 .. TODAY (1 Nov 2026), so the
    # last month holds one day of 30; every other month is whole.
    days = frame.drop_duplicates("month").set_index("month")[["days_in_range", "days_in_month"]]
    assert tuple(days.loc[pd.Timestamp(2026, 11, 1)]) == (1, 30)
    assert tuple(days.loc[pd.Timestamp(2026, 2, 1)]) == (28, 28)
    assert (days["days_in_range"] < days["days_in_month"]).sum() == 1


def test_weekly_sessions_held_no_show_cancelled(
    db: Session, rc: ReviewClinic, backend: str
) -> None:
    result = review(db, rc.sam, start=date(2026, 10, 1), end=date(2026, 10, 31))
    weekly = {
        (r.week.strftime("%m-%d"), r.attendance): r.sessions
        for r in result.weekly_sessions.itertuples()
    }
    # Weeks from Monday 28 Sep (1 Oct is a Thursday) to Monday 26 Oct (31 Oct: Saturday).
    assert weekly == {
        ("09-28", "Held"): 0,
        ("09-28", "No-show"): 0,
        ("09-28", "Cancelled"): 0,
        ("10-05", "Held"): 1,  # D2
        ("10-05", "No-show"): 0,
        ("10-05", "Cancelled"): 0,
        ("10-12", "Held"): 1,  # D1
        ("10-12", "No-show"): 0,
        ("10-12", "Cancelled"): 0,
        ("10-19", "Held"): 0,
        ("10-19", "No-show"): 1,  # D2
        ("10-19", "Cancelled"): 1,  # C1
        ("10-26", "Held"): 2,  # C1, D2
        ("10-26", "No-show"): 0,
        ("10-26", "Cancelled"): 0,
    }


# --- Filters -------------------------------------------------------------------------


def test_overdue_days_setting(db: Session, rc: ReviewClinic, backend: str) -> None:
    default = counselor_rows(review(db, rc.sam))
    strict = counselor_rows(review(db, rc.sam, overdue_days=10))
    # > 21 days: K0 300, C2 48 (Cara); none of Dana's (D1 20, D2 6).
    assert (default[CARA]["overdue"], default[DANA]["overdue"]) == (2, 0)
    # > 10 days: D1 (last held 12 Oct, 20 days ago) joins; C1 and D2 (6 days) do not.
    assert (strict[CARA]["overdue"], strict[DANA]["overdue"]) == (2, 1)
    paused = review(db, rc.sam, overdue_days=1, statuses=("paused",))
    # C3 last held 6 Apr, but a paused case is never overdue.
    assert counselor_rows(paused)[CARA]["overdue"] == 0


def test_date_range_counts_inside_and_judges_outcomes_at_its_end(
    db: Session, rc: ReviewClinic, backend: str
) -> None:
    result = review(db, rc.sam, start=date(2026, 6, 1), end=date(2026, 8, 31))
    # D2 (intake 1 Sep) opened after the range; D3 is closed.
    assert codes(result) == ["C-2026-0001", "C-2026-0003", "C-2026-0004", "C-2026-0005"] + [
        "C-2026-0006"
    ]
    assert counselor_rows(result) == {
        CARA: numbers(
            4,
            3,
            1,  # recent activity counts back from today, whatever the range: C1 26 Oct
            4,  # C1 7 Sep, 26 Oct; C2 10 Aug, 14 Sep
            4,  # held 1 Jun..31 Aug: C1 8 Jun, 6 Jul (3 Aug no-show); C2 6 Jul, 10 Aug
            2,  # overdue is as of today: K0, C2
            # As at 31 Aug: C1 40 -> 50 (+10), C2 60 -> 50 (-10), C3 50 -> 55: no
            # reliable change; K0 not yet measurable.
            (0, 0, 3, 0, 0, 1),
            0,  # C2 as at 31 Aug: stages 4 -> 3, no deterioration, no safety flag yet
            0,
            0,
            (0, 2, 1, 0, 1),  # as at 31 Aug: C1 2, C3 2; C2 3; K0 not rated
        ),
        DANA: numbers(
            1,  # D1
            1,
            1,  # D1 12 Oct
            3,  # D1 10 Aug, 14 Sep, 12 Oct
            1,  # D1 10 Aug
            0,
            (0, 0, 0, 0, 0, 1),  # as at 31 Aug D1 has one rated session: not yet measurable
            0,
            0,
            0,
            (0, 1, 0, 0, 0),  # D1 stage 2 on 10 Aug
        ),
    }
    assert result.attention.empty
    couple = result.couples.loc[rc.ids["C1"]]
    assert couple["last_session"] == pd.Timestamp(2026, 7, 6)
    assert couple["outcome"] == SAME


def test_status_filter(db: Session, rc: ReviewClinic, backend: str) -> None:
    paused = review(db, rc.sam, statuses=("paused",))
    assert codes(paused) == ["C-2026-0005"]  # C3
    rows = counselor_rows(paused)
    assert (rows[CARA]["couples"], rows[CARA]["active"], rows[DANA]["couples"]) == (1, 0, 0)
    closed = review(db, rc.sam, statuses=("closed",))
    assert codes(closed) == ["C-2026-0008"]  # D3, closed 5 Oct (inside the range)
    rows = counselor_rows(closed)
    # D3: 9 Feb and 9 Mar held, couple 50 -> 50.
    assert rows[DANA]["sessions_in_range"] == 2
    assert rows[DANA]["outcome_No reliable change"] == 1
    everything = review(db, rc.sam, statuses=("active", "paused", "closed"))
    assert {k: v["couples"] for k, v in counselor_rows(everything).items()} == {CARA: 4, DANA: 3}
    # A range starting after the closing day (5 Oct) leaves the closed case out.
    later = review(db, rc.sam, statuses=("closed",), start=date(2026, 10, 6))
    assert later.couples.empty


def test_counselor_filter(db: Session, rc: ReviewClinic, backend: str) -> None:
    result = review(db, rc.sam, counselor_ids=(rc.dana.user_id,))
    assert list(result.counselors["counselor"]) == [DANA]
    assert codes(result) == ["C-2026-0006", "C-2026-0007"]  # D1, D2
    assert list(result.attention["case_code"]) == ["C-2026-0006", "C-2026-0007"]
    assert int(result.totals["couples"]) == 2


def test_barrier_filter(db: Session, rc: ReviewClinic, backend: str) -> None:
    communication = rc.barriers["poor_communication"]
    result = review(db, rc.sam, barrier_id=communication)
    # Tagged in the year: C1 (6 Jul) and C2 (10 Aug).
    assert codes(result) == ["C-2026-0003", "C-2026-0004"]
    assert {k: v["couples"] for k, v in counselor_rows(result).items()} == {CARA: 2, DANA: 0}
    # From 1 Aug only C2's tag (10 Aug) is in the range.
    later = review(db, rc.sam, barrier_id=communication, start=date(2026, 8, 1))
    assert codes(later) == ["C-2026-0004"]
    # Olly's O1 is the only couple with fear of vulnerability: nothing in Sam's scope.
    fear = review(db, rc.sam, barrier_id=rc.barriers["fear_of_vulnerability"])
    assert fear.couples.empty


# --- The admin's view of the whole clinic --------------------------------------------


def test_admin_sees_everyone(db: Session, rc: ReviewClinic, backend: str) -> None:
    result = review(db, rc.admin)
    assert list(result.counselors["counselor"]) == [CARA, DANA, OLLY]
    rows = counselor_rows(result)
    assert rows[OLLY] == numbers(
        2,  # K1, O1
        2,
        0,  # O1 last held 21 Sep
        1,  # O1 21 Sep
        4,  # O1 11 May, 15 Jun, 13 Jul, 21 Sep
        2,  # K1 (273 days since intake), O1 (41 days)
        (1, 0, 0, 0, 0, 1),  # O1 each partner 40 -> 60 (+20, RCI 2.1); K1 no session
        0,
        0,
        1,  # O1: safety flag on 21 Sep
        (0, 0, 1, 0, 1),  # O1 stage 3, K1 not rated
        safety=1,
    )
    assert int(result.totals["couples"]) == 8  # Sam's 6 + Olly's 2
    attention = result.attention
    # Rank: C2 safety + not on track (5), O1 safety (4), D1 both flags (3), D2 diverging (0).
    assert list(attention["case_code"]) == [
        "C-2026-0004",
        "C-2026-0009",
        "C-2026-0006",
        "C-2026-0007",
    ]
    o1 = attention.iloc[1]
    assert (o1["counselor"], o1["outcome"]) == (OLLY, BOTH)
    assert o1["reasons"] == "Safety flag at the session of 21 Sep 2026"
    assert o1["attention_key"] == f"safety@{rc.safety['O1']}"


def test_admin_monthly_overview(db: Session, rc: ReviewClinic, backend: str) -> None:
    monthly = review(db, rc.admin).monthly
    got = [
        (
            r.month.strftime("%Y-%m"),
            r.new_couples,
            r.closed_couples,
            r.improved_couples,
            None
            if math.isnan(r.median_sessions_to_improvement)
            else r.median_sessions_to_improvement,
        )
        for r in monthly.itertuples()
    ]
    # Every status counts here (D3 closed too). Intakes: K0 Jan; K1, D3 Feb; C3 Mar;
    # O1 May; C1 Jun; C2 Jul; D1 Aug; D2 Sep. D3 closed 5 Oct. A partner's first
    # reliable improvement (> 18.59 over that partner's baseline): C1 on 7 Sep (each
    # 40 -> 60; held 8 Jun, 6 Jul, 7 Sep = 3, the 3 Aug no-show does not count), O1 on
    # 21 Sep (40 -> 60; 4 held): median of 3 and 4 = 3.5. D1 on 12 Oct: A 40 -> 60 at
    # its 3rd held session (partner-level; its couple mean never moved).
    assert got == [
        ("2025-11", 0, 0, 0, None),
        ("2025-12", 0, 0, 0, None),
        ("2026-01", 1, 0, 0, None),
        ("2026-02", 2, 0, 0, None),
        ("2026-03", 1, 0, 0, None),
        ("2026-04", 0, 0, 0, None),
        ("2026-05", 1, 0, 0, None),
        ("2026-06", 1, 0, 0, None),
        ("2026-07", 1, 0, 0, None),
        ("2026-08", 1, 0, 0, None),
        ("2026-09", 1, 0, 2, 3.5),
        ("2026-10", 0, 1, 1, 3.0),
        ("2026-11", 0, 0, 0, None),
    ]
    # Sam's overview: C1 in Sep and D1 in Oct (3 sessions each); K1 and O1 are not his.
    sams = review(db, rc.sam).monthly.set_index("month")
    assert sams.loc[pd.Timestamp(2026, 9, 1), "improved_couples"] == 1
    assert sams.loc[pd.Timestamp(2026, 9, 1), "median_sessions_to_improvement"] == 3.0
    assert sams.loc[pd.Timestamp(2026, 10, 1), "improved_couples"] == 1
    assert sams.loc[pd.Timestamp(2026, 10, 1), "median_sessions_to_improvement"] == 3.0
    assert int(sams["new_couples"].sum()) == 7  # K0 D3 C3 C1 C2 D1 D2


# --- Scope and audit -----------------------------------------------------------------


def test_supervisor_sees_only_supervised_counselors(
    db: Session, rc: ReviewClinic, backend: str
) -> None:
    olly = rc.clinic.other_counselor
    olly_couples = {rc.ids["K1"], rc.ids["O1"]}
    result = review(db, rc.sam, statuses=("active", "paused", "closed"))
    assert list(result.counselors["counselor"]) == [CARA, DANA]
    assert not olly_couples & set(result.couples.index)
    assert olly.user_id not in set(result.couples["counselor_id"])
    assert OLLY not in set(result.attention["counselor"])
    choices = review_choices(db, rc.sam)
    assert choices.counselors == [(rc.clinic.counselor.user_id, CARA), (rc.dana.user_id, DANA)]
    assert [name for _, name in choices.barriers] == [
        "Fear of vulnerability",
        "Poor communication habits",
        "Unresolved trauma or insecurity",
        "Stress and distraction",
    ]


def test_counselor_is_refused_and_audited(
    db: Session, rc: ReviewClinic, audits: AuditLookup, backend: str
) -> None:
    cara = rc.clinic.counselor
    with pytest.raises(AccessDenied):
        caseload_review(db, cara, ReviewFilters(), today=TODAY)
    with pytest.raises(AccessDenied):
        review_choices(db, cara)
    events = audits(entity="caseload_review")
    assert [(e.username, e.action, e.success) for e in events] == [
        ("cara.couns", "view", False),
        ("cara.couns", "view", False),
    ]
    assert events[0].detail == "counselors cannot open the caseload review"


def test_supervisor_cannot_edit_a_couple(
    db: Session,
    rc: ReviewClinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
    backend: str,
) -> None:
    couple_id = rc.ids["C1"]
    before = db.scalar(select(func.count()).select_from(CoupleSession))
    version = db.scalar(select(Couple.version).where(Couple.id == couple_id))
    db.rollback()
    assert version is not None
    with pytest.raises(AccessDenied):
        couples.update_couple(
            db,
            rc.sam,
            couple_id,
            CoupleInput("Changed", "Names", date(2026, 6, 1)),
            expected_version=version,
            today=TODAY,
        )
    with pytest.raises(AccessDenied):
        sessions.log_session(
            db, rc.sam, couple_id, make_input(session_date=date(2026, 10, 30)), today=TODAY
        )
    refused = [(e.action, e.entity_id, e.detail) for e in audits(username="sam.super")]
    assert refused == [
        ("update_couple", couple_id, "read-only"),
        ("create_session", couple_id, "read-only"),
    ]
    assert all(not e.success for e in audits(username="sam.super"))
    assert db.scalar(select(func.count()).select_from(CoupleSession)) == before
    assert db.get(Couple, couple_id).partner_a_name == "Ana"  # type: ignore[union-attr]


def review_audits(db: Session) -> list[AuditEvent]:
    """The review's audit events, read through the caller's own session."""
    query = select(AuditEvent).where(AuditEvent.entity == "caseload_review")
    return list(db.scalars(query.order_by(AuditEvent.id)))


def test_view_is_audited_only_when_recorded(
    db: Session, rc: ReviewClinic, audits: AuditLookup, backend: str
) -> None:
    caseload_review(db, rc.sam, ReviewFilters(), today=TODAY, record_view=False)
    assert review_audits(db) == []
    caseload_review(db, rc.sam, ReviewFilters(overdue_days=10), today=TODAY, record_view=True)
    events = audits(entity="caseload_review")  # committed: a fresh session sees it
    assert [(e.username, e.action, e.success) for e in events] == [("sam.super", "view", True)]
    assert events[0].detail == (
        "6 couples; 2025-11-01..2026-11-01; status=active,paused; overdue>10d"
    )


@pytest.mark.parametrize(
    ("filters", "keys"),
    [
        ({"start": date(2026, 10, 2), "end": date(2026, 10, 1)}, {"date_range"}),
        ({"end": date(2026, 11, 2)}, {"date_range"}),
        ({"overdue_days": 0}, {"overdue_days"}),
        ({"overdue_days": 366}, {"overdue_days"}),
        ({"statuses": ("archived",)}, {"statuses"}),
        (
            {"start": date(2026, 10, 2), "end": date(2026, 10, 1), "overdue_days": 0},
            {"date_range", "overdue_days"},
        ),
    ],
)
def test_invalid_filters_are_refused_by_field(
    db: Session,
    clinic: Clinic,
    filters: dict[str, Any],
    keys: set[str],
    backend: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        caseload_review(db, clinic.supervisor, ReviewFilters(**filters), today=TODAY)
    assert set(caught.value.errors) == keys
    assert review_audits(db) == []


# --- Regressions: bugs these tests found, kept so they stay fixed ------------------


def test_barrier_prevalence_leaves_out_couples_the_status_filter_drops(
    db: Session, rc: ReviewClinic, backend: str
) -> None:
    result = review(db, rc.sam)  # active and paused: D3 (closed) is not in the selection
    frame = result.barrier_months
    # D3's trauma tag (9 Mar) must not count: the one held March session of the
    # selection is C3's, which has no tag. Left: C1's and C2's tags only.
    assert sorted(frame["barrier"].unique()) == [
        "Poor communication habits",
        "Stress and distraction",
    ]
    march = frame[frame["month"].eq(pd.Timestamp(2026, 3, 1))]
    assert int(march["tagged"].sum()) == 0
    assert set(march["sessions_held"]) == {1}  # C3 9 Mar


def test_an_out_of_scope_counselor_in_the_filter_shows_nothing(
    db: Session, rc: ReviewClinic, backend: str
) -> None:
    olly = rc.clinic.other_counselor
    asked = review(db, rc.sam, counselor_ids=(olly.user_id,))
    # Olly is not Sam's: no counselor row, so no couple and no attention row either.
    assert asked.counselors.empty
    assert asked.couples.empty
    assert asked.attention.empty


def test_a_review_not_recorded_ends_its_transaction(
    db: Session, rc: ReviewClinic, rows: Callable[[type], int], backend: str
) -> None:
    review(db, rc.sam)  # record_view=False: a page rerun
    # A fresh session can read: no SQLite write lock was left behind.
    assert rows(AuditEvent) > 0


def test_a_refused_filter_ends_its_transaction(
    db: Session, clinic: Clinic, rows: Callable[[type], int], backend: str
) -> None:
    with pytest.raises(ValidationFailed):
        caseload_review(db, clinic.supervisor, ReviewFilters(overdue_days=0), today=TODAY)
    assert rows(AuditEvent) > 0


def test_namesake_counselors_stay_apart(db: Session, rc: ReviewClinic, backend: str) -> None:
    # Dana renamed to Cara's display name: two people, so two rows and two bars.
    begin_write(db)
    db.execute(update(User).where(User.username == "dana.deux").values(display_name=CARA))
    db.commit()
    result = review(db, rc.sam)
    names = list(result.counselors["counselor"])
    assert names == [f"{CARA} (cara.couns)", f"{CARA} (dana.deux)"]
    assert result.outcome_mix["counselor"].nunique() == 2
