"""A save makes stale only the cached views that show what it changed (issue 23, point 1).

Two counselors, each with a supervisor of their own, and an admin, in a clinic that has
published its first norms and expected course (before that every write is clinic-wide:
their labels count the whole clinic). A session saved for Cara's couple shows at once on
Cara's caseload, that couple's record and timeline, Sam's review and the admin's
overview; Olly's caseload, Olly's couple's timeline and Sue's review (Olly's supervisor)
are served from the cache. What is not one couple's own record, or a write that names no
couple, still refreshes everything; a sign-in storm refreshes nothing. Both backends.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain import check_in as rules
from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.services import (
    admin,
    auth,
    check_ins,
    couples,
    drafts,
    expected,
    norms,
    review,
    sessions,
    timeline,
)
from dashboard.services.actor import Actor
from dashboard.services.check_ins import CheckInRefused, Credential
from dashboard.services.couple_changes import couple_changed
from dashboard.services.memo import PAGES, STATS_ENV
from dashboard.services.review import ReviewFilters
from db import scopes
from db.engine import begin_write, data_versions
from db.models import Couple, CoupleSession, NormsVersion, SupervisionLink, utcnow
from tests.conftest import Clinic, make_actor

TODAY = date(2026, 11, 1)
FILTERS = ReviewFilters(start=date(2026, 1, 1), end=TODAY)


def publish_first_versions(db: Session) -> None:
    """The clinic's norms and expected course v1, as published once a clinic has enough
    intakes and couples with a course (here the documented defaults and the rational
    fallback: a tiny clinic never reaches the minimums, and what they say is not what
    these tests look at)."""
    found = norms.candidate(db)
    courses = expected._fallbacks(db)
    db.rollback()
    begin_write(db)
    db.add_all(norms._rows(found, 1, None, utcnow()))
    db.add_all(expected._rows([(k, m, 0) for k, m in courses.models.items()], 1, 1, None, utcnow()))
    db.commit()


@pytest.fixture
def sue(db: Session, clinic: Clinic) -> Actor:
    """Olly's supervisor: another group than Sam's."""
    sue = make_actor(db, "sue.else", "supervisor", "Sue Else", created_by=clinic.admin)
    begin_write(db)
    db.add(SupervisionLink(supervisor_id=sue.user_id, counselor_id=clinic.other_counselor.user_id))
    db.commit()
    publish_first_versions(db)
    PAGES.clear()
    norms.NORMS_CACHE.clear()
    expected.COURSES_CACHE.clear()
    return sue


Reads = dict[str, Callable[[], int]]


def views(db: Session, clinic: Clinic, sue: Actor) -> Reads:
    """Each view a person opens, and the number of sessions it shows for the couple."""
    cara, olly = clinic.counselor, clinic.other_counselor

    def caseload(actor: Actor, couple_id: int) -> int:
        frame = review.caseload_with_flags(db, actor, today=TODAY, record_view=False)
        return int(frame.set_index("couple_id").loc[couple_id, "sessions"])

    def held(actor: Actor, couple_id: int) -> int:
        data, _listed = review.review_with_attention(
            db, actor, FILTERS, today=TODAY, record_view=False
        )
        return int(data.couples.loc[couple_id, "sessions_held"])

    return {
        "Cara's caseload": lambda: caseload(cara, clinic.couple_id),
        "Cara's couple's record": lambda: len(
            couples.get_couple(db, cara, clinic.couple_id, record_view=False).sessions
        ),
        "Cara's couple's timeline": lambda: len(
            timeline.timeline_view(db, cara, clinic.couple_id, record_view=False).data.sessions
        ),
        "Sam's review": lambda: held(clinic.supervisor, clinic.couple_id),
        "the admin's overview": lambda: held(clinic.admin, clinic.couple_id),
        "the admin's caseload": lambda: caseload(clinic.admin, clinic.couple_id),
        "Olly's caseload": lambda: caseload(olly, clinic.other_couple_id),
        "Olly's couple's timeline": lambda: len(
            timeline.timeline_view(
                db, olly, clinic.other_couple_id, record_view=False
            ).data.sessions
        ),
        "Sue's review": lambda: held(sue, clinic.other_couple_id),
    }


def read_all(reads: Reads) -> tuple[dict[str, int], set[str]]:
    """What each view shows, and which of them were served from the cache (every cached
    part of the view a hit, none missed)."""
    shown, cached = {}, set()
    for name, read in reads.items():
        hits, misses = PAGES.hits, PAGES.misses
        shown[name] = read()
        if PAGES.misses == misses and PAGES.hits > hits:
            cached.add(name)
    return shown, cached


CARAS = {
    "Cara's caseload",
    "Cara's couple's record",
    "Cara's couple's timeline",
    "Sam's review",
    "the admin's overview",
    "the admin's caseload",
}
OLLYS = {"Olly's caseload", "Olly's couple's timeline", "Sue's review"}


def test_a_save_refreshes_the_views_that_show_the_couple_and_no_others(
    backend: str,
    db: Session,
    clinic: Clinic,
    sue: Actor,
    make_input: Callable[..., SessionInput],
) -> None:
    reads = views(db, clinic, sue)
    before, cached = read_all(reads)
    assert cached == set()  # a cold cache
    assert before == dict.fromkeys(reads, 0)
    assert read_all(reads) == (before, set(reads))  # everything warm

    sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    after, cached = read_all(reads)

    # Every view of Cara's couple shows the new session at once (0 + 1 = 1) ...
    assert {name: after[name] for name in CARAS} == dict.fromkeys(CARAS, 1)
    assert cached == OLLYS  # ... and Olly's and Sue's are served from the cache.
    assert {name: after[name] for name in OLLYS} == dict.fromkeys(OLLYS, 0)
    assert read_all(reads) == (after, set(reads))


def test_a_save_moves_the_couple_its_caseload_its_supervisors_group_and_the_clinic(
    backend: str,
    db: Session,
    clinic: Clinic,
    sue: Actor,
    make_input: Callable[..., SessionInput],
) -> None:
    cara, olly, sam = clinic.counselor, clinic.other_counselor, clinic.supervisor
    names = [
        scopes.couple(clinic.couple_id),
        scopes.caseload(cara.user_id),
        scopes.group(sam.user_id),
        scopes.CLINIC,
        scopes.couple(clinic.other_couple_id),
        scopes.caseload(olly.user_id),
        scopes.group(sue.user_id),
    ]

    def numbers() -> list[int]:
        found = data_versions(db, names)
        db.rollback()
        assert found is not None
        return [n for _, n in found]

    start = numbers()
    sessions.log_session(db, cara, clinic.couple_id, make_input(), today=TODAY)
    moved = [b - a for a, b in zip(start, numbers(), strict=True)]
    # clinic-wide, then the four scopes of Cara's couple, then Olly's three.
    assert moved == [0, 1, 1, 1, 1, 0, 0, 0]


def test_what_is_more_than_one_couples_record_refreshes_every_view(
    backend: str,
    db: Session,
    clinic: Clinic,
    sue: Actor,
) -> None:
    reads = views(db, clinic, sue)
    caras = {name: reads[name] for name in CARAS}
    read_all(reads)

    # A couple moved to another counselor (an admin's repair; no page does it): it
    # leaves Olly's caseload and joins Cara's. Every view is rebuilt.
    begin_write(db)
    db.get_one(Couple, clinic.other_couple_id).counselor_id = clinic.counselor.user_id
    couple_changed(db, [clinic.other_couple_id])
    db.commit()
    assert read_all(caras)[1] == set()
    frame = review.caseload_with_flags(db, clinic.counselor, today=TODAY, record_view=False)
    assert sorted(frame["couple_id"]) == sorted([clinic.couple_id, clinic.other_couple_id])
    olly = review.caseload_with_flags(db, clinic.other_counselor, today=TODAY, record_view=False)
    assert olly.empty

    # Who supervises whom: Cara's couples leave Sam's review and join Sue's at once.
    read_all(caras)
    admin.set_supervisor(db, clinic.admin, clinic.counselor.user_id, sue.user_id)
    caras.pop("Sam's review")
    assert read_all(caras)[1] == set()
    sams = review.caseload_review(db, clinic.supervisor, FILTERS, today=TODAY, record_view=False)
    sues = review.caseload_review(db, sue, FILTERS, today=TODAY, record_view=False)
    assert clinic.couple_id not in sams.couples.index
    assert clinic.couple_id in sues.couples.index

    # A published norms version: every outcome may be judged differently.
    read_all(caras)
    found = norms.candidate(db)
    db.rollback()
    begin_write(db)
    db.add_all(norms._rows(found, 2, clinic.admin.user_id, utcnow()))
    db.commit()
    assert read_all(caras)[1] == set()
    assert db.scalar(select(func.max(NormsVersion.version))) == 2
    db.rollback()


def test_a_write_that_names_no_couple_cannot_leave_a_stale_view(
    backend: str, db: Session, clinic: Clinic, sue: Actor
) -> None:
    reads = views(db, clinic, sue)
    read_all(reads)
    # A session added by a write that forgot to name its couple (no couple_changed):
    # nothing scoped moves, so the clinic-wide version does, and every view is rebuilt.
    begin_write(db)
    db.add(
        CoupleSession(
            couple_id=clinic.other_couple_id,
            session_date=TODAY - timedelta(days=3),
            duration_minutes=50,
            format="in_person",
            attendance="both",
            note_data="",
            note_assessment="",
            note_plan="",
            created_by=clinic.other_counselor.user_id,
        )
    )
    db.commit()
    shown, cached = read_all(reads)
    assert cached == set()
    assert shown["Olly's couple's timeline"] == 1  # read from the sessions themselves
    # A couple named, but with a table that is not a couple's record written too.
    read_all(reads)
    begin_write(db)
    db.get_one(Couple, clinic.couple_id).goals = "Talk daily"
    couple_changed(db, [clinic.couple_id])
    db.add(SupervisionLink(supervisor_id=sue.user_id, counselor_id=clinic.counselor.user_id))
    db.commit()
    assert read_all(reads)[1] == set()


def test_signing_in_and_out_drafts_audits_and_check_in_guesses_move_no_version(
    backend: str, db: Session, clinic: Clinic, sue: Actor
) -> None:
    everyone = [clinic.counselor, clinic.other_counselor, clinic.supervisor, sue, clinic.admin]
    names = [scopes.couple(clinic.couple_id), scopes.CLINIC] + [
        f(a.user_id) for a in everyone for f in (scopes.caseload, scopes.group)
    ]

    def numbers() -> object:
        found = data_versions(db, names)
        db.rollback()
        return found

    start = numbers()
    limits = auth.SessionLimits(idle=timedelta(hours=1), absolute=timedelta(hours=12))
    for actor in everyone:  # a sign-in storm, each with a wrong password first
        auth.record_failed_login(db, actor.username, "wrong password", client="10.0.0.9")
        signed_in = auth.begin_session(db, actor.username, limits=limits)
        assert isinstance(signed_in, Actor)
        now = utcnow() + timedelta(minutes=10)
        assert isinstance(
            auth.check_session(
                db, actor.user_id, login_at=now, last_seen=now, limits=limits, now=now
            ),
            Actor,
        )
    couples.get_couple(db, clinic.counselor, clinic.couple_id)  # audited view
    drafts.save_draft(
        db, clinic.counselor, couple_id=clinic.couple_id, session_id=None, values={"x": "typed"}
    )
    with pytest.raises(CheckInRefused):
        check_ins.open_check_in(db, Credential("link", rules.new_token()), client="10.0.0.9")
    for actor in everyone:
        auth.logout(db, actor)
    assert numbers() == start


def test_colleagues_saving_at_once_each_move_the_scopes_they_share(
    backend: str,
    db: Session,
    other_db: Session,
    clinic: Clinic,
    sue: Actor,
    make_input: Callable[..., SessionInput],
) -> None:
    """Two saves at a time on two couples of Cara's: the rows they share (her caseload,
    Sam's group, the clinic) are taken in one sorted order, so neither waits for the
    other in a circle on PostgreSQL; every save moves each of them once."""
    cara = clinic.counselor
    second = couples.create_couple(
        db, cara, CoupleInput("Eli", "Fran", date(2026, 3, 1), "Distance", "Closer"), today=TODAY
    )
    shared = [scopes.caseload(cara.user_id), scopes.group(clinic.supervisor.user_id)]
    start = data_versions(db, shared)
    db.rollback()
    failures: list[BaseException] = []

    def saves(session: Session, couple_id: int) -> None:
        try:
            for day in range(SAVES):
                inp = make_input(session_date=date(2026, 3, 2) + timedelta(days=day))
                sessions.log_session(session, cara, couple_id, inp, today=TODAY)
        except BaseException as exc:  # kept for the assertion below
            failures.append(exc)

    workers = [
        threading.Thread(target=saves, args=(db, clinic.couple_id)),
        threading.Thread(target=saves, args=(other_db, second)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert failures == []
    end = data_versions(db, shared)
    db.rollback()
    assert start is not None and end is not None
    # 2 writers x SAVES saves, each moving Cara's caseload and Sam's group once.
    assert [b - a for (_, a), (_, b) in zip(start, end, strict=True)] == [0, 2 * SAVES, 2 * SAVES]


SAVES = 5


def test_hit_and_miss_counts_are_written_for_the_load_bench(
    backend: str,
    db: Session,
    clinic: Clinic,
    sue: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = views(db, clinic, sue)
    folder = tmp_path / "stats"
    folder.mkdir()
    reads["Olly's caseload"]()  # without the variable nothing is written
    assert list(folder.iterdir()) == []
    target = folder / "stats-{pid}.json"
    monkeypatch.setenv(STATS_ENV, str(target))
    reads["Olly's caseload"]()
    reads["Cara's couple's timeline"]()
    reads["Cara's couple's timeline"]()
    written = folder / f"stats-{os.getpid()}.json"
    # The last reads are written within a second of them (at most one write a second).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = json.loads(written.read_text()) if written.exists() else {}
        if stats.get("hits", 0) + stats.get("misses", 0) == PAGES.hits + PAGES.misses:
            break
        time.sleep(0.1)
    views_seen = {(v["view"], v["user_id"]): (v["hits"], v["misses"]) for v in stats["views"]}
    olly, cara = clinic.other_counselor.user_id, clinic.counselor.user_id
    # Olly's caseload twice: My caseload's rows and its flags (two cached parts), the
    # first read cold, the second warm; Cara's timeline once cold, once warm.
    assert views_seen[("caseload", olly)] == (1, 1)
    assert views_seen[("caseload_with_flags", olly)] == (1, 1)
    assert views_seen[("timeline", cara)] == (1, 1)
    assert stats["pid"] == os.getpid()
    assert list(folder.iterdir()) == [written]  # no partial file left behind


def test_a_stale_entry_goes_at_the_first_read_that_sees_the_change(
    backend: str,
    db: Session,
    clinic: Clinic,
    sue: Actor,
    make_input: Callable[..., SessionInput],
) -> None:
    cara, olly = clinic.counselor, clinic.other_counselor
    couples.get_couple(db, cara, clinic.couple_id, record_view=False)
    timeline.timeline_view(db, cara, clinic.couple_id, record_view=False)
    couples.list_caseload(db, olly, today=TODAY, record_view=False)
    assert len(PAGES) == 3
    sessions.log_session(db, cara, clinic.couple_id, make_input(), today=TODAY)
    # The couple's record, read again, sees the couple's new version: its own old entry
    # is replaced and the couple's timeline built before the save goes with it (it can
    # never be asked for again); Olly's caseload stays, and is a hit.
    couples.get_couple(db, cara, clinic.couple_id, record_view=False)
    assert len(PAGES) == 2
    hits = PAGES.hits
    couples.list_caseload(db, olly, today=TODAY, record_view=False)
    assert (len(PAGES), PAGES.hits - hits) == (2, 1)


def test_an_expired_link_seen_by_its_counselor_leaves_colleagues_pages_cached(
    backend: str, db: Session, clinic: Clinic, sue: Actor
) -> None:
    """The first view after a check-in link expired puts the expiry on record: a change of
    that couple only, not of the clinic (it used to empty every counselor's cache)."""
    made = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    check_ins.create_check_in(
        db,
        clinic.counselor,
        clinic.couple_id,
        partners={"A", "B"},
        initials={"A": "AL", "B": "BL"},
        now=made,
    )
    reads = views(db, clinic, sue)
    read_all(reads)
    after_expiry = made + timedelta(hours=72)  # the clinic default: 72 h, exclusive
    seen = check_ins.check_ins_for_couple(db, clinic.counselor, clinic.couple_id, now=after_expiry)
    assert [p.status.value for p in seen[0].partners] == ["expired", "expired"]
    assert read_all(reads)[1] >= OLLYS
