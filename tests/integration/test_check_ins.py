"""Partner check-ins, the service: tokens stored only as digests, single use even under
two submits at once, the expiry boundary, guessing slowed, scope, and the audit trail."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from dashboard.domain import check_in as rules
from dashboard.domain.catalog import INDICATORS
from dashboard.services import audit_log, check_ins
from dashboard.services.check_ins import CheckInRefused, Credential, TooManyTries
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.engine import make_sessionmaker
from db.models import CheckInGuess, CheckInPartner
from tests.conftest import Clinic
from tests.integration.conftest import AuditLookup

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOURS_72 = timedelta(hours=72)  # the clinic default (config.check_in_hours)
DEVICE = "203.0.113.7"
NOTE = "Quokka-7713: I am scared to say this in the room"  # a marker no other text has


def answers(value: int = 7, note: str = "") -> rules.Answers:
    return rules.Answers({i.key: value for i in INDICATORS}, {}, note)


def create(db: Session, clinic: Clinic, partners: set[str] | None = None) -> check_ins.NewLinks:
    return check_ins.create_check_in(
        db,
        clinic.counselor,
        clinic.couple_id,
        partners={"A", "B"} if partners is None else partners,
        initials={"A": "AL", "B": "BL"},
        now=NOW,
    )


def link(token: str) -> Credential:
    return Credential("link", token)


def test_a_token_is_long_random_and_stored_nowhere(
    backend: str, engine: Engine, db: Session, clinic: Clinic
) -> None:
    made = create(db, clinic)
    token = made.tokens["A"]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 == 256  # at least the 128 bits the issue asks for
    assert made.tokens["A"] != made.tokens["B"]
    check_ins.open_check_in(db, link(token), client=DEVICE, now=NOW)
    code = check_ins.tablet_code(db, clinic.counselor, made.check_in_id, "B", now=NOW)
    check_ins.submit_check_in(
        db, Credential("code", code), answers(note=NOTE), client=DEVICE, now=NOW
    )
    # Not in any column of any table, audit log included.
    secrets_ = (made.tokens["A"], made.tokens["B"], code)
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    if isinstance(value, str):
                        assert not any(s in value for s in secrets_), table
    db.rollback()


def test_open_submit_once_and_the_status_the_counselor_sees(
    backend: str, db: Session, clinic: Clinic, audits: AuditLookup
) -> None:
    made = create(db, clinic)
    statuses = lambda when: [  # noqa: E731
        p.status.value
        for p in check_ins.check_ins_for_couple(db, clinic.counselor, clinic.couple_id, now=when)[
            0
        ].partners
    ]
    assert statuses(NOW) == ["not opened", "not opened"]
    page = check_ins.open_check_in(db, link(made.tokens["A"]), client=DEVICE, now=NOW)
    assert (page.partner, page.own_initials, page.other_initials) == ("A", "AL", "BL")
    assert page.expires_at == NOW + HOURS_72
    assert statuses(NOW) == ["opened", "not opened"]
    check_ins.submit_check_in(
        db, link(made.tokens["A"]), answers(8, NOTE), client=DEVICE, now=NOW + timedelta(minutes=3)
    )
    assert statuses(NOW) == ["done", "not opened"]
    # Used once: the same link again is refused, opening or submitting.
    with pytest.raises(CheckInRefused):
        check_ins.open_check_in(db, link(made.tokens["A"]), client=DEVICE, now=NOW)
    with pytest.raises(CheckInRefused):
        check_ins.submit_check_in(db, link(made.tokens["A"]), answers(2), client=DEVICE, now=NOW)
    # The answers wait for the session; the other partner's page knows none of them.
    waiting = check_ins.self_reports(db, clinic.couple_id)
    assert set(waiting) == {"A"}
    assert waiting["A"].ratings == {i.key: 8 for i in INDICATORS}
    assert waiting["A"].note == NOTE
    db.rollback()
    other = check_ins.open_check_in(db, link(made.tokens["B"]), client=DEVICE, now=NOW)
    assert NOTE not in repr(other) and "8" not in repr(other.own_initials)
    actions = [e.action for e in audits(entity="check_in")]
    assert actions[:4] == [
        "create_check_in",
        "check_in_opened",
        "check_in_submitted",
        "check_in_refused",
    ]
    refused = audits(action="check_in_refused")
    assert [e.detail.split(" (")[0] for e in refused] == ["already used", "already used"]
    assert all(e.entity_id == made.check_in_id and not e.success for e in refused)


def test_every_unusable_link_gets_the_same_words(
    backend: str, db: Session, clinic: Clinic, audits: AuditLookup
) -> None:
    made = create(db, clinic)
    check_ins.revoke_link(db, clinic.counselor, made.check_in_id, "A", now=NOW)
    messages = set()
    for credential, when in (
        (link(made.tokens["A"]), NOW),  # revoked
        (link(made.tokens["B"]), NOW + HOURS_72),  # expired, exactly at the instant
        (link(rules.new_token()), NOW),  # never issued
        (Credential("code", "12345678"), NOW),  # no such tablet code
    ):
        with pytest.raises(CheckInRefused) as refused:
            check_ins.open_check_in(db, credential, client=f"device-{when:%H%M%S%f}", now=when)
        messages.add(str(refused.value))
    assert messages == {"This check-in link cannot be used. Ask your counselor for a new link."}
    reasons = [e.detail.split(" (")[0] for e in audits(action="check_in_refused")]
    assert reasons == ["revoked", "expired", "unknown link or code", "unknown link or code"]
    assert [e.action for e in audits(action="revoke_check_in")] == ["revoke_check_in"]
    assert len(audits(action="check_in_expired")) == 1


def test_the_expiry_boundary_is_exclusive(backend: str, db: Session, clinic: Clinic) -> None:
    made = create(db, clinic)
    last_moment = NOW + HOURS_72 - timedelta(microseconds=1)
    check_ins.submit_check_in(db, link(made.tokens["A"]), answers(), client=DEVICE, now=last_moment)
    with pytest.raises(CheckInRefused):
        check_ins.submit_check_in(
            db, link(made.tokens["B"]), answers(), client=DEVICE, now=NOW + HOURS_72
        )
    views = check_ins.check_ins_for_couple(
        db, clinic.counselor, clinic.couple_id, now=NOW + HOURS_72
    )
    assert [p.status.value for p in views[0].partners] == ["done", "expired"]


def test_a_tablet_code_lasts_fifteen_minutes(backend: str, db: Session, clinic: Clinic) -> None:
    made = create(db, clinic)
    code = check_ins.tablet_code(db, clinic.counselor, made.check_in_id, "B", now=NOW)
    assert len(code) == 8 and code.isdigit()
    typed = f"{code[:4]} {code[4:]}"  # spaces as a person types them on a tablet
    page = check_ins.open_check_in(db, Credential("code", typed), client=DEVICE, now=NOW)
    assert page.partner == "B" and page.expires_at == NOW + timedelta(minutes=15)
    with pytest.raises(CheckInRefused):
        check_ins.open_check_in(
            db, Credential("code", code), client=DEVICE, now=NOW + timedelta(minutes=15)
        )
    # A new code replaces the last; the link itself still works.
    check_ins.tablet_code(
        db, clinic.counselor, made.check_in_id, "B", now=NOW + timedelta(minutes=1)
    )
    with pytest.raises(CheckInRefused):
        check_ins.open_check_in(
            db, Credential("code", code), client=DEVICE, now=NOW + timedelta(minutes=2)
        )
    assert (
        check_ins.open_check_in(db, link(made.tokens["B"]), client=DEVICE, now=NOW).partner == "B"
    )


def test_two_submits_at_once_land_once(
    backend: str, engine: Engine, db: Session, clinic: Clinic
) -> None:
    made = create(db, clinic)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(value: int) -> None:
        with make_sessionmaker(engine)() as own:
            barrier.wait()
            try:
                check_ins.submit_check_in(
                    own, link(made.tokens["A"]), answers(value), client=DEVICE, now=NOW
                )
                outcomes.append(f"saved {value}")
            except CheckInRefused:
                outcomes.append("refused")

    threads = [threading.Thread(target=submit, args=(v,)) for v in (3, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split()[0] for o in outcomes) == ["refused", "saved"]
    saved = int(next(o for o in outcomes if o.startswith("saved")).split()[1])
    assert check_ins.self_reports(db, clinic.couple_id)["A"].ratings["talk_honestly"] == saved
    db.rollback()


def test_guessing_is_slowed_per_device(backend: str, db: Session, clinic: Clinic) -> None:
    made = create(db, clinic)
    for n in range(5):
        with pytest.raises(CheckInRefused):
            check_ins.open_check_in(
                db, link(rules.new_token()), client=DEVICE, now=NOW + timedelta(seconds=n)
            )
    # The 5th miss (inclusive) starts the wait: 2**(5-5) = 1 s from the latest miss,
    # and it holds even for a good link.
    with pytest.raises(TooManyTries) as waiting:
        check_ins.open_check_in(
            db, link(made.tokens["A"]), client=DEVICE, now=NOW + timedelta(seconds=4.5)
        )
    assert waiting.value.until == NOW + timedelta(seconds=4 + 1)
    assert (
        check_ins.open_check_in(
            db, link(made.tokens["A"]), client=DEVICE, now=NOW + timedelta(seconds=5)
        ).partner
        == "A"
    )
    # The 6th miss doubles it (2 s); another device is not held up.
    with pytest.raises(CheckInRefused):
        check_ins.open_check_in(
            db, link(rules.new_token()), client=DEVICE, now=NOW + timedelta(seconds=6)
        )
    assert check_ins.retry_at(db, DEVICE, NOW + timedelta(seconds=6)) == NOW + timedelta(
        seconds=6 + 2
    )
    assert check_ins.retry_at(db, "198.51.100.1", NOW + timedelta(seconds=6)) is None
    db.rollback()
    # A refusal while waiting adds no guess.
    before = db.scalar(select(text("count(*)")).select_from(CheckInGuess))
    with pytest.raises(TooManyTries):
        check_ins.open_check_in(
            db, link(rules.new_token()), client=DEVICE, now=NOW + timedelta(seconds=7)
        )
    assert db.scalar(select(text("count(*)")).select_from(CheckInGuess)) == before
    db.rollback()


def test_a_device_made_to_wait_and_every_try_while_waiting_are_on_record(
    backend: str, db: Session, clinic: Clinic, audits: AuditLookup
) -> None:
    made = create(db, clinic)
    code = check_ins.tablet_code(db, clinic.counselor, made.check_in_id, "A", now=NOW)
    for n in range(5):
        with pytest.raises(CheckInRefused):
            check_ins.open_check_in(
                db, link(rules.new_token()), client=DEVICE, now=NOW + timedelta(seconds=n)
            )
    # The 5th miss starts the wait (1 s after it): on record, with the device and when.
    throttled = audits(action="check_in_throttled")
    assert [(e.success, e.username, e.detail) for e in throttled] == [
        (False, check_ins.PARTNER_NAME, f"device {DEVICE} waits until 2026-11-02 09:00:05 UTC")
    ]
    # Tries refused with "Please wait", the partner's good link and code among them:
    # each on record, with the check-in it was for when the credential names one.
    waiting = NOW + timedelta(seconds=4.5)
    for credential in (link(made.tokens["A"]), Credential("code", code), link("made-up")):
        with pytest.raises(TooManyTries):
            check_ins.open_check_in(db, credential, client=DEVICE, now=waiting)
    with pytest.raises(TooManyTries):
        check_ins.submit_check_in(db, link(made.tokens["A"]), answers(), client=DEVICE, now=waiting)
    refused = [e for e in audits(action="check_in_refused") if e.detail.startswith("waiting")]
    assert [(e.entity_id, e.detail) for e in refused] == [
        (made.check_in_id, f"waiting (link, device {DEVICE}) until 2026-11-02 09:00:05 UTC"),
        (made.check_in_id, f"waiting (code, device {DEVICE}) until 2026-11-02 09:00:05 UTC"),
        (None, f"waiting (link, device {DEVICE}) until 2026-11-02 09:00:05 UTC"),
        (made.check_in_id, f"waiting (link, device {DEVICE}) until 2026-11-02 09:00:05 UTC"),
    ]
    assert all(not e.success and e.username == check_ins.PARTNER_NAME for e in refused)
    # None of them counted as a guess: the wait did not grow, and the link opens after it.
    assert check_ins.retry_at(db, DEVICE, waiting) == NOW + timedelta(seconds=5)
    db.rollback()
    opened = check_ins.open_check_in(
        db, link(made.tokens["A"]), client=DEVICE, now=NOW + timedelta(seconds=5)
    )
    assert opened.partner == "A"
    assert audit_log.action_label("check_in_throttled") == "Check-in tries slowed for a device"


def test_the_clinic_wide_rule_slows_a_spread_out_attack(
    backend: str, db: Session, clinic: Clinic
) -> None:
    create(db, clinic)
    for n in range(100):
        with pytest.raises(CheckInRefused):
            check_ins.open_check_in(
                db,
                Credential("code", f"{n:08d}"),
                client=f"10.0.{n}.1",
                now=NOW + timedelta(seconds=n),
            )
    # The 100th miss in 15 minutes: every device waits 2**(100-100) = 1 s after it.
    assert check_ins.retry_at(db, "10.9.9.9", NOW + timedelta(seconds=99)) == NOW + timedelta(
        seconds=100
    )
    db.rollback()


def test_only_the_couples_counselor_makes_links_and_notes_stay_with_the_clinicians(
    backend: str, db: Session, clinic: Clinic
) -> None:
    made = create(db, clinic)
    check_ins.submit_check_in(
        db, link(made.tokens["A"]), answers(note=NOTE), client=DEVICE, now=NOW
    )
    for actor in (clinic.other_counselor, clinic.supervisor, clinic.admin):
        with pytest.raises(AccessDenied):
            check_ins.create_check_in(
                db, actor, clinic.couple_id, partners={"A"}, initials={"A": "A", "B": "B"}, now=NOW
            )
        with pytest.raises(AccessDenied):
            check_ins.revoke_link(db, actor, made.check_in_id, "B", now=NOW)
        with pytest.raises(AccessDenied):
            check_ins.new_link(db, actor, made.check_in_id, "B", now=NOW)
    with pytest.raises(AccessDenied):
        check_ins.check_ins_for_couple(db, clinic.other_counselor, clinic.couple_id, now=NOW)
    own = check_ins.check_ins_for_couple(db, clinic.counselor, clinic.couple_id, now=NOW)
    supervised = check_ins.check_ins_for_couple(db, clinic.supervisor, clinic.couple_id, now=NOW)
    admin = check_ins.check_ins_for_couple(db, clinic.admin, clinic.couple_id, now=NOW)
    assert own[0].partners[0].note == supervised[0].partners[0].note == NOTE
    assert admin[0].partners[0].note is None
    # Another counselor's check-in link is useless for this couple's page: it names
    # only its own check-in.
    theirs = check_ins.create_check_in(
        db,
        clinic.other_counselor,
        clinic.other_couple_id,
        partners={"A"},
        initials={"A": "C", "B": "D"},
        now=NOW,
    )
    page = check_ins.open_check_in(db, link(theirs.tokens["A"]), client=DEVICE, now=NOW)
    assert page.check_in_id == theirs.check_in_id and page.own_initials == "C"


def test_a_partner_left_out_gets_no_link_and_bad_answers_write_nothing(
    backend: str, db: Session, clinic: Clinic
) -> None:
    made = create(db, clinic, partners={"A"})
    assert set(made.tokens) == {"A"}
    view = check_ins.check_ins_for_couple(db, clinic.counselor, clinic.couple_id, now=NOW)[0]
    assert [p.status.value for p in view.partners] == ["not opened", "switched off"]
    partial = rules.Answers({"talk_honestly": 4}, {}, "")
    with pytest.raises(ValidationFailed) as failed:
        check_ins.submit_check_in(db, link(made.tokens["A"]), partial, client=DEVICE, now=NOW)
    assert failed.value.errors["item_feel_seen"] == "Please choose a number from 0 to 10."
    assert db.scalar(select(CheckInPartner.submitted_at)) is None
    db.rollback()
    # Still usable after the refusal; a second check-in cannot open beside this one.
    check_ins.submit_check_in(db, link(made.tokens["A"]), answers(), client=DEVICE, now=NOW)
    with pytest.raises(ValidationFailed) as again:
        create(db, clinic)
    assert "already has an open check-in" in again.value.errors["partners"]
    check_ins.cancel_check_in(db, clinic.counselor, made.check_in_id, now=NOW)
    with pytest.raises(ValidationFailed) as initials:
        check_ins.create_check_in(
            db,
            clinic.counselor,
            clinic.couple_id,
            partners={"A"},
            initials={"A": "", "B": "TOOLONG"},
            now=NOW,
        )
    assert set(initials.value.errors) >= {"initials_A", "initials_B"}
