"""The expected course is a published version (issue 22, point 1): the rational fallback,
labelled so, until enough couples have a course; v1 by itself then; after that new
sessions change nothing until an admin publishes, and every alert names the version.
On both backends.

MIN_COUPLES is lowered to 6 here (the clinic's real minimum is 100 couples): the rule is
the same, and six couples with a known course keep every percentile checkable by hand.
"""

from __future__ import annotations

import io
import random
import re
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import cli
from dashboard.domain import expected_response as er
from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.services import couples, expected, exports, review, sessions, timeline
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.migrate import alembic_config
from db.models import ExpectedCourseVersion
from tests.conftest import Clinic
from tests.integration.conftest import AuditLookup, second_save_publishing_v1

TODAY = date(2026, 11, 1)
MIN = 6  # couples with a second rating from one source before the clinic's own course


@pytest.fixture(autouse=True)
def six_couples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(er, "MIN_COUPLES", MIN)
    expected.COURSES_CACHE.clear()


def level(score: int) -> dict[str, int | None]:
    """Every sign rated `score`, every warning sign 10 - `score`: an EII of exactly
    10 x `score` (the warning signs are reverse-scored)."""
    return {i.key: (10 - score if i.reverse_scored else score) for i in INDICATORS}


def add_couple(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    k: int,
    a: tuple[int, ...],
    b: tuple[int, ...],
    csi4: tuple[float, ...] = (),
) -> int:
    """A couple rated by the counselor at each session: A's EII 10 x a[i], B's 10 x b[i],
    two weeks apart from 2 Mar 2026; with `csi4`, both partners' CSI-4 totals too."""
    couple_id = couples.create_couple(
        db, clinic.counselor, CoupleInput(f"A{k}", f"B{k}", date(2026, 2, 23)), today=TODAY
    )
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        totals = {p: {"csi4": csi4[i]} for p in "AB"} if csi4 else {}
        sessions.log_session(
            db,
            clinic.counselor,
            couple_id,
            make_input(
                session_date=date(2026, 3, 2 + 14 * i) if i < 2 else date(2026, 4, 13),
                ratings={"A": level(x), "B": level(y)},
                instrument_totals=totals,
            ),
            today=TODAY,
        )
    return couple_id


# Six couples, A from EII 40, B from 50, their change by the 2nd rating:
#   A: 0, 0, +10, +10, +10, +10;  B: +10, +10, +20, +20, +20, +20.
FIRST = [((4, a), (5, b)) for a, b in [(4, 6), (4, 6), (5, 7), (5, 7), (5, 7), (5, 7)]]
# Six more whose partners both lose 10 points.
LATER = [((4, 3), (5, 4))] * 6


def _today_label() -> str:
    today = datetime.now(UTC)
    return f"{today.day} {today:%b %Y}"


def test_the_fallback_says_so_until_six_couples_have_a_course_then_v1_by_itself(
    backend: str,
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
) -> None:
    for k, (a, b) in enumerate(FIRST[:5]):
        add_couple(db, clinic, make_input, k, a, b, csi4=(10, 12))
    six = add_couple(db, clinic, make_input, 5, (4,), (5,), csi4=(10,))  # intake only
    before = expected.expected_model(db)
    db.rollback()
    assert before.label == (
        "rational fallback: no change expected (Jacobson & Truax 1991); 5 couples with two "
        "counselor ratings, 6 needed for the clinic's own course"
    )
    assert before.uses_fallback("counselor")
    assert "5 couples have a second rating from counselor ratings" in before.method_text(
        "counselor"
    )
    # The documented default norms (24 intakes < 30): S_diff = 15 x sqrt(2 x 0.2) = 9.486833.
    # No change expected: p25 = 40 - 0.6745 x 9.486833 = 33.601131,
    #                     p10 = 40 - 1.2816 x 9.486833 = 27.841675.
    band = before.band("counselor", 40.0, 2)
    assert band is not None
    assert (band.p10, band.p25, band.p50) == pytest.approx((27.841675, 33.601131, 40.0), abs=1e-5)
    assert db.scalar(select(func.count()).select_from(ExpectedCourseVersion)) == 0

    sessions.log_session(  # the sixth couple's second rating: v1
        db,
        clinic.counselor,
        six,
        make_input(
            session_date=date(2026, 3, 16),
            ratings={"A": level(5), "B": level(7)},
            instrument_totals={p: {"csi4": 12.0} for p in "AB"},
        ),
        today=TODAY,
    )
    after = expected.expected_model(db)
    # Each source's course named: the counselor's fitted, the partners' own the fallback.
    assert after.label == (
        f"expected course v1 of {_today_label()}: counselor ratings from 6 couples; partners' "
        "own answers: rational fallback (0 couples of the 6 needed)"
    )
    assert not after.uses_fallback("counselor") and after.uses_fallback("self")
    # 12 changes sorted: 0, 0, 10 x6, 20 x4 (linear percentiles over positions 0..11):
    #   p10 at 1.1 -> 0 + 0.1 x 10 = 1;  p25 at 2.75 -> 10;  p50 at 5.5 -> 10;  p75 at 8.25 -> 20.
    assert after.band("counselor", 40.0, 2) == er.Band(2, 41.0, 50.0, 50.0, 60.0)
    # Every CSI-4 course went from 10 to 12: the whole band is 12.
    csi4 = expected.expected_model(db, "csi4")
    assert csi4.label == after.label
    assert csi4.band("counselor", 10.0, 2) == er.Band(2, 12.0, 12.0, 12.0, 12.0)
    # No RDAS totals at all: its row is the fallback, and says so and when.
    assert expected.expected_model(db, "rdas").label == (
        f"rational fallback (expected course v1 of {_today_label()}): no change expected "
        "(Jacobson & Truax 1991); 0 couples with two counselor RDAS totals, 6 needed for the "
        "clinic's own course"
    )
    assert expected.expected_model(db, "srs").label == (
        "no expected course: SRS has no reliable-change value"
    )
    [event] = audits(action="publish_expected_course")
    assert event.user_id is None
    assert event.detail == "v1 published automatically at 6 couples with a course"
    stored = db.scalars(select(ExpectedCourseVersion).where(ExpectedCourseVersion.measure == "eii"))
    [row] = stored.all()
    assert (row.version, row.couples, row.published_by, row.norms_version) == (1, 6, None, None)
    assert row.method == '{"counselor": "clinic", "self": "fallback"}'
    assert er.ExpectedModel.from_json(row.model).band("counselor", 40.0, 2) == after.band(
        "counselor", 40.0, 2
    )
    db.rollback()


def test_alerts_use_the_published_version_until_the_next_publish(
    backend: str,
    db: Session,
    other_db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
) -> None:
    first = [add_couple(db, clinic, make_input, k, a, b) for k, (a, b) in enumerate(FIRST)]
    v1 = expected.expected_model(db)
    db.rollback()
    assert v1.label.startswith("expected course v1 of ")
    # Six more couples whose partners both lose 10 points: nothing moves until published.
    for k, (a, b) in enumerate(LATER, start=6):
        add_couple(db, clinic, make_input, k, a, b)
    in_use = expected.expected_model(db)
    assert in_use == v1
    # A partner from 40 to 45 at the 2nd rating: under the 25th percentile (50), above the
    # 10th (41): below expected, with this version.
    assert er.alert(in_use.band("counselor", 40.0, 2), 45.0) == er.Alert.BELOW
    # What the counselor sees: the first couple's A stayed at 40, under v1's 10th
    # percentile (41) at the 2nd rating: well below expected, the band named v1.
    before = timeline.timeline_view(db, clinic.counselor, first[0]).data.expected_for("eii", "A")
    db.rollback()
    # A's band follows counselor ratings: named by that source's course only.
    assert before is not None
    assert (
        before.label == f"expected course v1 of {_today_label()}: counselor ratings from 6 couples"
    )
    assert (before.bands[0], er.alert(before.bands[0], before.scores[0])) == (
        er.Band(2, 41.0, 50.0, 50.0, 60.0),
        er.Alert.WELL_BELOW,
    )
    # And on My caseload: the same couple well below, its partner named, v1 named.
    flags = review.caseload_flags(db, clinic.counselor, [first[0]], today=TODAY).iloc[0]
    db.rollback()
    assert flags["expected"] == "well below expected — Partner A"
    candidate = expected.candidate(db)
    db.rollback()
    # 24 changes sorted: -10 x12, 0 x2, 10 x6, 20 x4 (positions 0..23):
    #   p10 at 2.3 -> -10;  p25 at 5.75 -> -10;  p50 at 11.5 -> -5;  p75 at 17.25 -> 10.
    assert candidate.eii.model.band("counselor", 40.0, 2) == er.Band(2, 30.0, 30.0, 35.0, 50.0)

    with pytest.raises(AccessDenied):
        expected.preview(db, clinic.counselor)
    seen = expected.preview(db, clinic.admin)
    # Under v1 the six new couples (-10 < +1) and the first two (A: 0 < +1) are well below;
    # under the candidate nobody is (-10 is exactly its 10th and 25th percentile: on course).
    assert (seen.based_on, seen.couples) == (1, 12)
    assert seen.moves == [("Well below expected → On course", 8)]
    summary = seen.summary().set_index(["Measure", "Rated by"])
    eii = summary.loc[("EII", "counselor")]
    assert (eii["Course"], eii["Couples"]) == ("clinic's own", "12")
    # Intakes from the counselor: 12 at 40 and 12 at 50; 25th percentile 40, median 45,
    # 75th 50. The 4th rating keeps the 2nd's percentiles (no course reaches a 3rd or 4th:
    # fewer than MIN_AT_RATING), so the median expected change by then is -5 at every
    # intake (one intake group).
    assert (eii["Low intake"], eii["Middle intake"], eii["High intake"]) == (
        "−5.0 (from 40.0)",
        "−5.0 (from 45.0)",
        "−5.0 (from 50.0)",
    )

    # Sessions saved after the preview (four couples whose partners both gain 40 points)
    # would change a refit, but Publish stores what the admin saw (review finding 7).
    for k in range(12, 16):
        add_couple(db, clinic, make_input, k, (4, 8), (5, 9))
    refit = expected.candidate(db).eii.model.band("counselor", 40.0, 2)
    db.rollback()
    # 32 changes sorted: -10 x12, 0 x2, 10 x6, 20 x4, 40 x8 (positions 0..31):
    #   p50 at 15.5 -> 10;  p75 at 23.25 -> 20 + 0.25 x 20 = 25.
    assert refit == er.Band(2, 30.0, 30.0, 50.0, 65.0)
    with pytest.raises(AccessDenied):
        expected.publish(db, clinic.counselor, seen.to_publish())
    published = expected.publish(db, clinic.admin, seen.to_publish())
    assert published.version == 2
    assert published.label == (
        f"expected course v2 of {_today_label()}: counselor ratings from 12 couples; partners' "
        "own answers: rational fallback (0 couples of the 6 needed)"
    )
    now = expected.expected_model(db)
    assert now.band("counselor", 40.0, 2) == er.Band(2, 30.0, 30.0, 35.0, 50.0)
    assert er.alert(now.band("counselor", 40.0, 2), 45.0) == er.Alert.ON_COURSE
    # The same timeline now: v2's band, A's 40 is above its 10th and 25th (30): on course.
    after = timeline.timeline_view(db, clinic.counselor, first[0]).data.expected_for("eii", "A")
    db.rollback()
    assert after is not None
    assert (
        after.label == f"expected course v2 of {_today_label()}: counselor ratings from 12 couples"
    )
    assert (after.bands[0], er.alert(after.bands[0], after.scores[0])) == (
        er.Band(2, 30.0, 30.0, 35.0, 50.0),
        er.Alert.ON_COURSE,
    )
    flags = review.caseload_flags(db, clinic.counselor, [first[0]], today=TODAY).iloc[0]
    db.rollback()
    assert flags["expected"] == "on course"
    status = expected.courses_status(db, clinic.admin)
    assert status.stored["eii"].published_by == "Ada Admin"
    assert status.first is not None and status.first.published_by is None
    assert expected.when_made(status.first) == (
        f"v1, published automatically once 6 couples had a course on {_today_label()}"
    )
    # The research extract names it without its day (the extract carries no dates).
    extract = exports.research_extract(db, clinic.admin, rng=random.Random(1))
    readme = zipfile.ZipFile(io.BytesIO(extract.data)).read("README.txt").decode()
    assert (
        "Model: expected course v2: counselor ratings from 12 couples; partners' own answers: "
        "rational fallback (0 couples of the 6 needed)." in readme
    )
    # Another process sees v2 at its next read (its cache checks the newest row).
    assert expected.expected_model(other_db).label == published.label
    other_db.rollback()
    [auto, by_admin] = audits(action="publish_expected_course", success=True)
    assert by_admin.user_id == clinic.admin.user_id
    assert by_admin.detail.startswith("v2: EII from 12 couples with a course")
    # A second admin working from the v1 preview is told, and nothing is written.
    with pytest.raises(ValidationFailed) as stale:
        expected.publish(db, clinic.admin, seen.to_publish())
    assert stale.value.errors["expected_course"] == (
        "Another admin published expected course v2 meanwhile: look at the preview again "
        "before publishing."
    )
    assert db.scalar(select(func.max(ExpectedCourseVersion.version))) == 2
    db.rollback()


def test_publishing_is_refused_while_no_source_has_enough_couples(
    backend: str, db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]
) -> None:
    # A clinic without a session: a preview with nothing to fit or judge, said so.
    empty = expected.preview(db, clinic.admin)
    assert (empty.based_on, empty.couples, empty.moves) == (None, 0, [])
    assert [(r["Measure"], r["Course"], r["Couples"]) for r in empty.summary_rows()][:2] == [
        ("EII", "fallback", "0"),
        ("EII", "fallback", "0"),
    ]
    for k, (a, b) in enumerate(FIRST[:3]):
        add_couple(db, clinic, make_input, k, a, b)
    with pytest.raises(ValidationFailed) as refused:
        expected.publish(db, clinic.admin, expected.preview(db, clinic.admin).to_publish())
    assert refused.value.errors["expected_course"] == (
        "The clinic's own expected course needs 6 couples with two ratings from one source; "
        "the clinic has 3. Until then the rational fallback is used."
    )
    assert db.scalar(select(func.count()).select_from(ExpectedCourseVersion)) == 0
    db.rollback()


def test_migrate_publishes_v1_on_a_clinic_that_already_has_enough_couples(
    backend: str,
    db: Session,
    db_url: str,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An existing clinic upgraded to this version: `dashboard migrate` publishes v1 from
    the couples it already has."""
    monkeypatch.setattr(er, "MIN_COUPLES", 1000)  # as before expected courses existed
    for k, (a, b) in enumerate(FIRST):
        add_couple(db, clinic, make_input, k, a, b)
    db.close()
    command.downgrade(alembic_config(db_url), "0016")
    monkeypatch.setattr(er, "MIN_COUPLES", MIN)
    cli.migrate(db_url)
    model = expected.expected_model(db)
    assert model.label.startswith("expected course v1 of ")
    assert model.label.endswith(
        ": counselor ratings from 6 couples; partners' own answers: "
        "rational fallback (0 couples of the 6 needed)"
    )
    assert model.band("counselor", 40.0, 2) == er.Band(2, 41.0, 50.0, 50.0, 60.0)
    cli.migrate(db_url)  # again: nothing more is published
    assert db.scalar(select(func.max(ExpectedCourseVersion.version))) == 1
    db.rollback()


def test_the_command_reports_what_a_refit_would_change_and_publishes_it(
    backend: str,
    db: Session,
    db_url: str,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`dashboard expected-course`: the rebuild that reports differences (the Admin tab's
    preview) for a scheduled job or a machine admin; --publish publishes, as an admin."""
    for k, (a, b) in enumerate(FIRST + LATER):
        add_couple(db, clinic, make_input, k, a, b)
    db.close()
    assert cli.main(["--url", db_url, "expected-course", "--as", "cara.couns"]) == 2
    assert "Only a clinic admin can open this." in capsys.readouterr().err
    assert cli.main(["--url", db_url, "expected-course", "--as", "admin"]) == 0
    out = capsys.readouterr().out
    assert (
        f"In use: expected course v1 of {_today_label()}: counselor ratings from 6 couples;" in out
    )
    assert re.search(r"EII +counselor +clinic's own +12 +−5\.0 \(from 40\.0\)", out), out
    assert (
        "What would change, of 12 couples with sessions judged on the EII: Well below "
        "expected → On course: 8 couples" in out
    )
    assert cli.main(["--url", db_url, "expected-course", "--as", "admin", "--publish"]) == 0
    out = capsys.readouterr().out
    v2 = (
        f"expected course v2 of {_today_label()}: counselor ratings from 12 couples; partners' "
        "own answers: rational fallback (0 couples of the 6 needed)"
    )
    assert f"Published {v2}." in out
    assert expected.expected_model(db).label == v2
    db.rollback()


def test_two_saves_that_reach_the_minimum_together_publish_one_v1(
    backend: str,
    db: Session,
    other_db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two counselors save at the same moment, each save finding the clinic due: the
    second waits for the first and finds v1 there, instead of failing the counselor's
    save on the version's unique key."""
    monkeypatch.setattr(er, "MIN_COUPLES", 1000)  # no v1 while the couples are added
    for k, (a, b) in enumerate(FIRST):
        add_couple(db, clinic, make_input, k, a, b)
    monkeypatch.setattr(er, "MIN_COUPLES", MIN)
    found = expected.candidate(db)  # each save fits in a read before its short write
    db.rollback()
    second = second_save_publishing_v1(
        db, other_db, lambda s: expected.publish_first_if_due(s, found)
    )
    assert second == [False]
    assert db.scalar(select(func.max(ExpectedCourseVersion.version))) == 1
    db.rollback()


def test_the_save_that_reaches_the_minimum_holds_the_write_lock_for_the_save_alone(
    backend: str,
    db: Session,
    other_db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review finding 8: the sixth couple's second rating makes v1 due. The fit (seconds
    at clinic scale) runs after the counselor's save has committed, in a read, so a
    colleague's save made during it goes through at once; that save finds the clinic
    due too and publishes v1, and the first, back from its fit, publishes nothing more."""
    for k, (a, b) in enumerate(FIRST[:5]):
        add_couple(db, clinic, make_input, k, a, b)
    six = add_couple(db, clinic, make_input, 5, (4,), (5,))  # intake only
    colleague: list[int | BaseException] = []
    fit = expected.candidate

    def colleague_saves() -> None:
        try:  # another couple's session, saved from another connection
            colleague.append(
                sessions.log_session(
                    other_db,
                    clinic.counselor,
                    clinic.couple_id,
                    make_input(session_date=date(2026, 3, 20), ratings={"A": level(5)}),
                    today=TODAY,
                )
            )
        except BaseException as exc:  # kept for the assertion below
            other_db.rollback()
            colleague.append(exc)

    def fit_with_a_colleague_saving(session: Session) -> expected.Candidate:
        if session is db and not colleague:  # during the first save's fit only
            worker = threading.Thread(target=colleague_saves)
            worker.start()
            worker.join(timeout=15)  # a save held up by a lock would still be waiting
            assert colleague and isinstance(colleague[0], int), colleague
        return fit(session)

    monkeypatch.setattr(expected, "candidate", fit_with_a_colleague_saving)
    sessions.log_session(  # the sixth couple's second rating: v1 is due
        db,
        clinic.counselor,
        six,
        make_input(session_date=date(2026, 3, 16), ratings={"A": level(5), "B": level(7)}),
        today=TODAY,
    )
    assert colleague and isinstance(colleague[0], int)
    assert db.scalar(select(func.count()).where(ExpectedCourseVersion.measure == "eii")) == 1
    db.rollback()
    [event] = audits(action="publish_expected_course")
    assert event.detail == "v1 published automatically at 6 couples with a course"
    # Later saves find v1 and fit nothing.
    monkeypatch.setattr(expected, "candidate", lambda session: pytest.fail("refitted"))
    add_couple(db, clinic, make_input, 6, (4, 5), (5, 6))
    assert len(audits(action="publish_expected_course")) == 1
