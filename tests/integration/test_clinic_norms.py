"""Clinic norms are published versions (issue 21, point 6): v1 appears by itself at the
30th intake; after that new intakes change nothing until an admin publishes, and every
report names the version it used. On both backends."""

from __future__ import annotations

import io
import random
import re
import subprocess
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import cli
from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.services import couples, exports, norms, reports, sessions, timeline
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.migrate import alembic_config
from db.models import NormsVersion
from tests.conftest import Clinic
from tests.integration.conftest import AuditLookup, second_save_publishing_v1

TODAY = date(2026, 11, 1)


def ratings(level: int, seed: int) -> dict[str, int | None]:
    """Signs about `level`, warning signs about 10 - level (an EII near 10 x level); each
    item moved by up to 2 points in a pattern set by `seed`, so items do not agree
    perfectly (alpha below 1)."""
    out: dict[str, int | None] = {}
    for j, item in enumerate(INDICATORS):
        score = max(0, min(10, level + (seed * 3 + j * 2) % 5 - 2))
        out[item.key] = 10 - score if item.reverse_scored else score
    return out


def add_couples(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    levels: list[tuple[int, int]],
    rate: Callable[[int, int], dict[str, int | None]] = ratings,
) -> list[int]:
    """One new couple per (level A, level B), each with one jointly rated session, its
    items from `rate(level, seed)`."""
    made = []
    for k, (a, b) in enumerate(levels):
        couple_id = couples.create_couple(
            db,
            clinic.counselor,
            CoupleInput(f"A{len(levels)}-{k}", f"B{k}", date(2026, 1, 5)),
            today=TODAY,
        )
        sessions.log_session(
            db,
            clinic.counselor,
            couple_id,
            make_input(ratings={"A": rate(a, 2 * k), "B": rate(b, 2 * k + 1)}),
            today=TODAY,
        )
        made.append(couple_id)
    return made


# 15 couples, 30 intakes: EIIs from 20 to 70 (A) and 30 to 60 (B).
FIRST = [(2 + k % 6, 3 + k % 4) for k in range(15)]


def report_text(db: Session, clinic: Clinic, couple_id: int, today: date) -> str:
    pdf = reports.couple_report(db, clinic.counselor, couple_id, today=today).data
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", " ", text)


def method(text: str) -> str:
    """The report's method paragraph (the band, its statistics and the version)."""
    found = re.search(r"Method\. (.*?EII points[^.]*)\.", text)
    assert found, text[-1500:]
    return found.group(1)


def test_v1_is_published_by_the_thirtieth_intake(
    backend: str,
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
) -> None:
    add_couples(db, clinic, make_input, FIRST[:14])
    before = timeline.clinic_norms(db)
    db.rollback()
    # 28 intakes: the documented defaults, said so, with the count so far.
    assert before.version is None
    assert before.label == "documented defaults: no clinic norms published yet; 28 of 30 intakes"
    assert before.eii.threshold == pytest.approx(18.594193, abs=1e-6)  # 1.96 · 15 · √0.4
    add_couples(db, clinic, make_input, FIRST[14:])  # intakes 29 and 30
    after = timeline.clinic_norms(db)
    assert after.version == 1
    assert after.label == f"clinic norms v1 of {_today_label()}, 30 intakes"
    assert after.eii.source == "locally derived" and after.eii.n == 30
    assert after.eii.norms_label == after.label and after.label in after.eii.describe()
    # Who rated the alpha's intakes: every one here by the counselor.
    assert (after.eii.counselor_intakes, after.eii.self_intakes) == (30, 0)
    [event] = audits(action="publish_norms")
    assert event.detail == "v1 published automatically at 30 intakes" and event.user_id is None
    assert db.scalar(select(func.count()).select_from(NormsVersion)) == 1 + len(after.instruments)
    db.rollback()


def test_no_v1_while_the_clinics_own_figures_are_not_usable(
    backend: str,
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
) -> None:
    """30 intakes with an EII (7 of 8 items each) but none rated on every item: the
    clinic's own alpha cannot be computed (30 complete intakes needed), so the candidate
    is the documented defaults, and publishing them as "clinic norms v1" would pass them
    off as the clinic's own for good. No version; the label says why."""

    def seven(level: int, seed: int) -> dict[str, int | None]:
        return {**ratings(level, seed), INDICATORS[0].key: None}

    add_couples(db, clinic, make_input, FIRST, seven)
    norms = timeline.clinic_norms(db)
    assert norms.version is None and norms.eii.source == "default"
    assert norms.label == (
        "documented defaults: no clinic norms published yet; 30 intakes, not yet enough "
        "rated on every item for the clinic's own figures"
    )
    assert db.scalar(select(func.count()).select_from(NormsVersion)) == 0
    db.rollback()


def _today_label() -> str:
    """The day a version published now is dated (UTC, as published_at is stored)."""
    today = datetime.now(UTC)
    return f"{today.day} {today:%b %Y}"


def test_reports_agree_until_new_norms_are_published(
    backend: str,
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
) -> None:
    [couple_id, *_] = add_couples(db, clinic, make_input, FIRST)
    # A later session for the first couple: A from EII 20.0 to 70.0, B from 28.75 to
    # 43.75 (item scores summing to 35: 35 / 8 x 10). B's +15.0 lies between the two
    # bands below: inside v1's, beyond v2's.
    later_b = {
        i.key: (10 - s if i.reverse_scored else s)
        for i, s in zip(INDICATORS, [5, 5, 5, 4, 4, 4, 4, 4], strict=True)
    }
    sessions.log_session(
        db,
        clinic.counselor,
        couple_id,
        make_input(session_date=date(2026, 3, 30), ratings={"A": ratings(7, 0), "B": later_b}),
        today=TODAY,
    )
    first = report_text(db, clinic, couple_id, TODAY)
    v1 = f"clinic norms v1 of {_today_label()}, 30 intakes"
    assert v1 in method(first)

    # A month later, after 12 more intakes spread far wider: the same figures, the same
    # version (they would drift today's band; they are not published).
    add_couples(db, clinic, make_input, [(0, 10), (10, 0), (1, 9), (9, 1), (0, 9), (10, 1)])
    later = report_text(db, clinic, couple_id, TODAY + timedelta(days=30))
    assert method(later) == method(first)
    # v1 (30 intakes): local SD 14.737648 is below the floor, so SD 15 with alpha
    #   0.866045: 1.96 x 15 x sqrt(2 x 0.133955) = ±15.217455. B's +15.0: no reliable change.
    # Now (42 intakes): SD 25.513758, alpha 0.961961:
    #   1.96 x 25.513758 x sqrt(2 x 0.038039) = ±13.792987. B's +15.0 would be reliable.
    in_use = timeline.clinic_norms(db).eii
    candidate = norms.candidate(db).eii
    db.rollback()
    assert in_use.floor_in_use and in_use.local_sd == pytest.approx(14.737648, abs=1e-6)
    assert in_use.threshold == pytest.approx(15.217455, abs=1e-6)
    assert candidate.n == 42 and not candidate.floor_in_use
    assert candidate.sd == pytest.approx(25.513758, abs=1e-6)
    assert candidate.threshold == pytest.approx(13.792987, abs=1e-6)
    # The couple's B (named "B0") is "about the same" in both reports made under v1.
    for text in (first, later):
        assert "B0: about the same as at intake" in text

    with pytest.raises(AccessDenied):
        norms.preview(db, clinic.counselor)
    seen = norms.preview(db, clinic.admin)
    # 21 couples with sessions; only the first has two, and only B's status moves.
    assert seen.based_on == 1 and seen.partners == 2 * 21
    assert seen.moves == [("No reliable change → Improved", 1)]
    with pytest.raises(AccessDenied):
        norms.publish(db, clinic.counselor, expected_version=1)
    published = norms.publish(db, clinic.admin, expected_version=1)
    assert published.version == 2
    status = norms.norms_status(db, clinic.admin)
    assert status.stored["eii"].published_by == "Ada Admin"
    assert status.first is not None and status.first.published_by is None  # v1: automatic
    assert (
        norms.when_made(status.first)
        == f"v1, published automatically once the clinic reached 30 intakes on {_today_label()}"
    )
    assert published.label == f"clinic norms v2 of {_today_label()}, 42 intakes"
    republished = report_text(db, clinic, couple_id, TODAY + timedelta(days=30))
    assert method(republished) != method(first)
    assert "clinic norms v2" in method(republished) and "42 intakes" in method(republished)
    assert "B0: better than at intake" in republished
    [auto, by_admin] = audits(action="publish_norms", success=True)
    assert by_admin.user_id == clinic.admin.user_id and by_admin.detail.startswith(
        "v2: EII from 42 intakes"
    )
    # A second admin working from the v1 preview is told, and nothing is written.
    with pytest.raises(ValidationFailed) as stale:
        norms.publish(db, clinic.admin, expected_version=1)
    assert stale.value.errors["norms"] == (
        "Another admin published clinic norms v2 meanwhile: look at the preview again "
        "before publishing."
    )
    assert db.scalar(select(func.max(NormsVersion.version))) == 2
    # The research extract's README names it too, without its day (no calendar dates).
    extract = exports.research_extract(db, clinic.admin, rng=random.Random(1))
    readme = zipfile.ZipFile(io.BytesIO(extract.data)).read("README.txt").decode()
    assert "Clinic norms version: clinic norms v2, 42 intakes." in readme
    # The caseload table says which version its statuses use, on every row.
    frame = exports._caseload_frame(db, clinic.counselor, TODAY)
    assert set(frame["clinic_norms"]) == {published.label}
    db.rollback()


def test_a_version_published_elsewhere_is_seen_at_the_next_read(
    backend: str,
    db: Session,
    other_db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
) -> None:
    """Another process or replica publishes: this one's cache is checked against the
    newest row at every read, so the next page load uses the new version."""
    add_couples(db, clinic, make_input, FIRST)
    assert timeline.clinic_norms(db).version == 1
    db.rollback()
    add_couples(db, clinic, make_input, [(0, 10), (10, 0)])
    norms.publish(other_db, clinic.admin, expected_version=1)
    assert timeline.clinic_norms(db).version == 2
    db.rollback()


def test_migrate_publishes_v1_on_a_clinic_that_already_has_enough_intakes(
    backend: str,
    db: Session,
    db_url: str,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
) -> None:
    """An existing clinic upgraded to this version: `dashboard migrate` publishes v1
    from the intakes it already has, so its figures do not change, they get a name."""
    add_couples(db, clinic, make_input, FIRST)
    before = timeline.clinic_norms(db).eii
    db.rollback()
    db.close()
    command.downgrade(alembic_config(db_url), "0015")  # as it was before clinic norms
    cli.migrate(db_url)
    after = timeline.clinic_norms(db)
    assert after.version == 1 and after.label.endswith(", 30 intakes")
    assert after.eii.threshold == before.threshold and after.eii.cutoff == before.cutoff
    assert [e.detail for e in audits(action="publish_norms")][-1] == (
        "v1 published automatically at 30 intakes"
    )
    cli.migrate(db_url)  # again: nothing more is published
    assert db.scalar(select(func.max(NormsVersion.version))) == 1
    db.rollback()


def test_two_saves_that_reach_thirty_intakes_together_publish_one_v1(
    backend: str,
    db: Session,
    other_db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two counselors save at the same moment, each save finding the clinic due: the
    second waits for the first and finds v1 there, instead of failing the counselor's
    save on the version's unique key (PostgreSQL runs the two at once)."""
    monkeypatch.setattr(norms, "MIN_LOCAL_INTAKES", 1000)  # no v1 while the intakes come
    add_couples(db, clinic, make_input, FIRST)
    monkeypatch.setattr(norms, "MIN_LOCAL_INTAKES", 30)
    second = second_save_publishing_v1(db, other_db, norms.publish_first_if_due)
    assert second == [False]
    assert db.scalar(select(func.max(NormsVersion.version))) == 1
    db.rollback()
