"""Partner check-ins: the counselor's side (create, new link, tablet code, revoke,
cancel, read) and the partner's side (open, submit), which has no signed-in user.

A partner's page learns nothing but its own check-in: the partner's and the other's
initials, the questions and the clinic's name. Tokens and codes are never stored or
logged, only their keyed digests (dashboard/domain/check_in.py). Every refusal on the
partner's side looks the same to the partner (unknown, used, expired, revoked), is
audited with its real reason and the check-in id, and counts as a guess for the device;
a guess that makes the device wait is put on record, and so is every try refused while
it waits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from dashboard.config import load_settings
from dashboard.domain import check_in as rules
from dashboard.domain.catalog import Partner
from dashboard.domain.instruments import Instrument, load_instruments
from dashboard.domain.sign_in import Failures, wait
from dashboard.domain.typed_text import normalised
from dashboard.services import audit, scope
from dashboard.services.actor import Actor
from dashboard.services.couple_changes import couple_changed
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.services.instruments import available_instruments
from db.engine import begin_write
from db.models import CheckIn, CheckInGuess, CheckInPartner, Couple, User, utcnow

PARTNER_NAME = "check-in partner"  # the audit username of a partner (no account)


class CheckInRefused(ServiceError):
    """A link or code that cannot be used, said the same way whatever the reason."""

    def __init__(self) -> None:
        super().__init__("This check-in link cannot be used. Ask your counselor for a new link.")


class TooManyTries(ServiceError):
    """This device guessed too often; it may try again at `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("Too many tries from this device.")
        self.until = until


@dataclass(frozen=True)
class Credential:
    """What the partner's page holds in its session: a link token or a tablet code."""

    kind: str  # "link" or "code"
    secret: str


@dataclass(frozen=True)
class PartnerPage:
    """All the partner's page may know."""

    check_in_id: int
    partner: str
    own_initials: str
    other_initials: str
    clinic_name: str
    instruments: tuple[Instrument, ...]
    expires_at: datetime


@dataclass(frozen=True)
class PartnerLink:
    """One partner's part of a check-in, as the counselor sees it."""

    partner: str
    name: str
    initials: str
    status: rules.LinkStatus
    expires_at: datetime | None = None
    opened_at: datetime | None = None
    submitted_at: datetime | None = None
    code_expires_at: datetime | None = None
    note: str | None = None  # None for a reader who may not see notes


@dataclass(frozen=True)
class CheckInView:
    check_in_id: int
    created_at: datetime
    created_by: str
    instruments: tuple[str, ...]
    session_id: int | None
    cancelled_at: datetime | None
    partners: tuple[PartnerLink, PartnerLink]

    @property
    def open(self) -> bool:
        return self.session_id is None and self.cancelled_at is None


@dataclass(frozen=True)
class SelfReport:
    """A partner's submitted answers, waiting for (or taken into) a session."""

    check_in_partner_id: int
    partner: str
    submitted_at: datetime
    ratings: dict[str, int]
    totals: dict[str, float]
    note: str


def _key() -> bytes:
    return audit.audit_key()


def _partner_name(couple: Couple, partner: str) -> str:
    return couple.partner_a_name if partner == "A" else couple.partner_b_name


def _link_state(row: CheckInPartner) -> rules.LinkState:
    return rules.LinkState(row.opened_at, row.submitted_at, row.revoked_at, row.expires_at)


def _status(check_in: CheckIn, row: CheckInPartner | None, now: datetime) -> rules.LinkStatus:
    if row is None:
        return rules.LinkStatus.OFF
    status = rules.status_of(_link_state(row), now)
    if status in (rules.LinkStatus.NOT_OPENED, rules.LinkStatus.OPENED) and (
        check_in.session_id is not None or check_in.cancelled_at is not None
    ):
        return rules.LinkStatus.REVOKED
    return status


# A partner's submit is a conditional UPDATE, not an ORM change: every read here loads
# the rows afresh, so objects a session already holds never show stale answers.
FRESH = {"populate_existing": True}


def _open_check_in(db: DbSession, couple_id: int) -> CheckIn | None:
    return db.scalar(
        select(CheckIn)
        .where(
            CheckIn.couple_id == couple_id,
            CheckIn.session_id.is_(None),
            CheckIn.cancelled_at.is_(None),
        )
        .options(selectinload(CheckIn.partners))
        .execution_options(**FRESH)
    )


def _issue_link(row: CheckInPartner, now: datetime) -> str:
    token = rules.new_token()
    row.token_hash = rules.digest(_key(), token)
    row.expires_at = now + timedelta(hours=load_settings().check_in_hours)
    row.opened_at = row.revoked_at = row.revoked_by = None
    row.code_hash = row.code_expires_at = None
    row.expiry_recorded = False
    return token


# --- the counselor's side ---------------------------------------------------------


@dataclass(frozen=True)
class NewLinks:
    """Tokens exist only here, once: the page shows them as links and QR codes."""

    check_in_id: int
    tokens: dict[str, str]


def create_check_in(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    partners: set[str],
    initials: dict[str, str],
    now: datetime | None = None,
) -> NewLinks:
    """A check-in for the couple's next session, with a link for each partner asked.

    A partner left out (their phone is not private, say) gets no link at all.
    """
    now = now or utcnow()
    begin_write(db)
    couple = scope.couple_for(db, actor, couple_id, action="create_check_in", write=True)
    errors: dict[str, str] = {}
    for p in ("A", "B"):
        problem = rules.initials_problem(initials.get(p, ""))
        if problem:
            errors[f"initials_{p}"] = problem
    if not partners:
        errors["partners"] = "Ask at least one partner."
    if couple.status == "closed":
        errors["partners"] = "This case is closed: reopen it to ask for a check-in."
    if _open_check_in(db, couple.id) is not None:
        errors["partners"] = (
            "This couple already has an open check-in: make a new link there, or cancel it."
        )
    if errors:
        db.rollback()
        raise ValidationFailed(errors)
    check_in = CheckIn(
        couple_id=couple.id,
        created_by=actor.user_id,
        created_at=now,
        initials_a=normalised(initials["A"]).strip(),
        initials_b=normalised(initials["B"]).strip(),
        instruments=",".join(available_instruments(db)),
    )
    db.add(check_in)
    tokens: dict[str, str] = {}
    for p in sorted(partners):
        row = CheckInPartner(partner=Partner(p).value, expiry_recorded=False)
        tokens[p] = _issue_link(row, now)
        check_in.partners.append(row)
    db.flush()
    audit.record(
        db,
        actor,
        "create_check_in",
        entity="check_in",
        entity_id=check_in.id,
        detail=f"couple {couple.case_code}, partners {', '.join(sorted(partners))}",
        occurred_at=now,
    )
    couple_changed(db, [couple.id])
    db.commit()
    return NewLinks(check_in.id, tokens)


def _open_for_change(db: DbSession, actor: Actor, check_in_id: int, action: str) -> CheckIn:
    """Begin the write and load an open check-in of a couple the actor may edit (scope
    refusals audited as usual; a closed check-in refused with a field message)."""
    begin_write(db)
    couple_id = db.scalar(select(CheckIn.couple_id).where(CheckIn.id == check_in_id))
    scope.couple_for(db, actor, -1 if couple_id is None else couple_id, action=action, write=True)
    check_in = db.scalars(
        select(CheckIn)
        .where(CheckIn.id == check_in_id)
        .options(selectinload(CheckIn.partners))
        .execution_options(**FRESH)
    ).one()
    if check_in.session_id is not None or check_in.cancelled_at is not None:
        _refuse(db, "check_in", "This check-in is closed.")
    return check_in


def _refuse(db: DbSession, field: str, message: str) -> NoReturn:
    db.rollback()
    raise ValidationFailed({field: message})


def _partner_row(check_in: CheckIn, partner: str) -> CheckInPartner | None:
    return next((r for r in check_in.partners if r.partner == partner), None)


def _done(
    db: DbSession, actor: Actor, action: str, check_in: CheckIn, now: datetime, detail: str = ""
) -> None:
    audit.record(
        db, actor, action, entity="check_in", entity_id=check_in.id, detail=detail, occurred_at=now
    )
    couple_changed(db, [check_in.couple_id])
    db.commit()


def new_link(
    db: DbSession, actor: Actor, check_in_id: int, partner: str, *, now: datetime | None = None
) -> str:
    """A fresh link for one partner (the old one stops working), or a first one for a
    partner left out at the start. Refused once that partner has answered."""
    now = now or utcnow()
    check_in = _open_for_change(db, actor, check_in_id, "new_check_in_link")
    row = _partner_row(check_in, partner)
    if row is not None and row.submitted_at is not None:
        _refuse(db, f"link_{partner}", "This partner has already answered.")
    if row is None:
        row = CheckInPartner(partner=Partner(partner).value, expiry_recorded=False)
        check_in.partners.append(row)
    token = _issue_link(row, now)
    _done(db, actor, "new_check_in_link", check_in, now, f"partner {partner}")
    return token


def tablet_code(
    db: DbSession, actor: Actor, check_in_id: int, partner: str, *, now: datetime | None = None
) -> str:
    """A short code for the clinic's tablet, good for 15 minutes (and never beyond the
    link's own expiry); a new code replaces the last one."""
    now = now or utcnow()
    check_in = _open_for_change(db, actor, check_in_id, "create_check_in_code")
    row = _partner_row(check_in, partner)
    if row is None or not rules.usable(_link_state(row), now):
        _refuse(db, f"link_{partner}", "This partner's link is not open: make a new link first.")
    code = rules.new_code()
    row.code_hash = rules.digest(_key(), code)
    row.code_expires_at = min(now + rules.CODE_LIFETIME, row.expires_at)
    _done(db, actor, "create_check_in_code", check_in, now, f"partner {partner}")
    return code


def revoke_link(
    db: DbSession, actor: Actor, check_in_id: int, partner: str, *, now: datetime | None = None
) -> None:
    """Stop one partner's link and code at once (answers already given stay)."""
    now = now or utcnow()
    check_in = _open_for_change(db, actor, check_in_id, "revoke_check_in")
    row = _partner_row(check_in, partner)
    if row is None or row.submitted_at is not None or row.revoked_at is not None:
        _refuse(db, f"link_{partner}", "There is no open link to revoke.")
    row.revoked_at, row.revoked_by = now, actor.user_id
    _done(db, actor, "revoke_check_in", check_in, now, f"partner {partner}")


def cancel_check_in(
    db: DbSession, actor: Actor, check_in_id: int, *, now: datetime | None = None
) -> None:
    """Close a check-in without a session: its links stop; answers stay on record but
    no session will take them."""
    now = now or utcnow()
    check_in = _open_for_change(db, actor, check_in_id, "cancel_check_in")
    check_in.cancelled_at = now
    for row in check_in.partners:
        if row.submitted_at is None and row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, actor.user_id
    _done(db, actor, "cancel_check_in", check_in, now)


def _may_read_notes(actor: Actor, couple: Couple) -> bool:
    """The couple's counselor and their supervisor; not an admin."""
    return actor.is_supervisor or (actor.is_counselor and couple.counselor_id == actor.user_id)


def check_ins_for_couple(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    now: datetime | None = None,
    record_view: bool = True,
) -> list[CheckInView]:
    """The couple's check-ins, newest first, with each partner's status. Audited as a
    view; a link seen expired for the first time is put on record as expired."""
    now = now or utcnow()
    couple = scope.couple_for(db, actor, couple_id, action="view_check_ins")
    rows = db.scalars(
        select(CheckIn)
        .where(CheckIn.couple_id == couple.id)
        .order_by(CheckIn.id.desc())
        .options(selectinload(CheckIn.partners))
        .execution_options(**FRESH)
    ).all()
    names = dict(
        db.execute(
            select(User.id, User.display_name).where(User.id.in_({r.created_by for r in rows}))
        ).all()
    )
    notes = _may_read_notes(actor, couple)
    views: list[CheckInView] = []
    newly_expired: list[int] = []
    for check_in in rows:
        by_partner = {r.partner: r for r in check_in.partners}
        links = []
        for p in ("A", "B"):
            row = by_partner.get(p)
            status = _status(check_in, row, now)
            if row is not None and status is rules.LinkStatus.EXPIRED and not row.expiry_recorded:
                newly_expired.append(row.id)
            links.append(
                PartnerLink(
                    partner=p,
                    name=_partner_name(couple, p),
                    initials=check_in.initials_a if p == "A" else check_in.initials_b,
                    status=status,
                    expires_at=row.expires_at if row else None,
                    opened_at=row.opened_at if row else None,
                    submitted_at=row.submitted_at if row else None,
                    code_expires_at=(
                        row.code_expires_at
                        if row and row.code_expires_at and row.code_expires_at > now
                        else None
                    ),
                    note=(row.note or "") if row is not None and notes else None,
                )
            )
        views.append(
            CheckInView(
                check_in_id=check_in.id,
                created_at=check_in.created_at,
                created_by=names.get(check_in.created_by, "?"),
                instruments=tuple(c for c in check_in.instruments.split(",") if c),
                session_id=check_in.session_id,
                cancelled_at=check_in.cancelled_at,
                partners=(links[0], links[1]),
            )
        )
    db.commit()
    if newly_expired:
        _record_expired(db, couple.id, newly_expired, now)
    if record_view:
        audit.record_after_read(db, actor, "view_check_ins", entity="couple", entity_id=couple.id)
    return views


def _record_expired(db: DbSession, couple_id: int, row_ids: list[int], now: datetime) -> None:
    """Put each link's expiry on record once, whoever noticed it first (named as a
    change of its couple: otherwise it would empty every page cache of the clinic)."""
    begin_write(db)
    for row in db.scalars(
        select(CheckInPartner).where(
            CheckInPartner.id.in_(row_ids), CheckInPartner.expiry_recorded.is_(False)
        )
    ):
        _record_expiry(db, row, now)
    couple_changed(db, [couple_id])
    db.commit()


def _record_expiry(db: DbSession, row: CheckInPartner, now: datetime) -> None:
    """The one audit row of a link's expiry (the caller's write)."""
    row.expiry_recorded = True
    audit.record(
        db,
        None,
        "check_in_expired",
        entity="check_in",
        entity_id=row.check_in_id,
        username=PARTNER_NAME,
        detail=f"partner {row.partner}, expired {row.expires_at:%Y-%m-%d %H:%M} UTC",
        occurred_at=now,
    )


def self_reports(db: DbSession, couple_id: int) -> dict[str, SelfReport]:
    """The answers the couple's open check-in holds, by partner: what the next session's
    form fills in. Called inside a service that has already checked scope."""
    check_in = _open_check_in(db, couple_id)
    if check_in is None:
        return {}
    found = {}
    for row in check_in.partners:
        if row.submitted_at is None or row.answers is None:
            continue
        answers = json.loads(row.answers)
        found[row.partner] = SelfReport(
            check_in_partner_id=row.id,
            partner=row.partner,
            submitted_at=row.submitted_at,
            ratings={k: int(v) for k, v in answers["ratings"].items()},
            totals={k: float(v) for k, v in answers["totals"].items()},
            note=row.note or "",
        )
    return found


def close_with_session(db: DbSession, couple_id: int, session_id: int, now: datetime) -> None:
    """The session just logged took the open check-in in: close it, stop unused links.
    Part of the caller's write transaction."""
    check_in = _open_check_in(db, couple_id)
    if check_in is None:
        return
    check_in.session_id = session_id
    for row in check_in.partners:
        if row.submitted_at is None and row.revoked_at is None:
            row.revoked_at = now


# --- the partner's side -------------------------------------------------------------


def _guesses(db: DbSession, now: datetime, *where: object) -> Failures:
    count, latest = db.execute(
        select(func.count(), func.max(CheckInGuess.guessed_at)).where(
            CheckInGuess.guessed_at > now - rules.GUESS_WINDOW,
            CheckInGuess.guessed_at <= now,
            *where,
        )
    ).one()
    return Failures(count, latest)


def retry_at(db: DbSession, client: str, now: datetime) -> datetime | None:
    """When this device may try a link or code again (None: now)."""
    until = [
        f.latest + wait(f, rule)
        for f, rule in (
            (_guesses(db, now, CheckInGuess.client == client[:64]), rules.GUESSES_ONE_DEVICE),
            (_guesses(db, now), rules.GUESSES_CLINIC),
        )
        if f.latest is not None
    ]
    latest = max(until, default=None)
    return latest if latest is not None and latest > now else None


def _find(db: DbSession, credential: Credential, now: datetime) -> CheckInPartner | None:
    key = _key()
    if credential.kind == "link":
        return db.scalar(
            select(CheckInPartner)
            .where(CheckInPartner.token_hash == rules.digest(key, credential.secret))
            .execution_options(**FRESH)
        )
    code = rules.tidy_code(credential.secret)
    if len(code) != rules.CODE_DIGITS or not code.isdigit():
        return None
    # Codes repeat over the years; only a live one counts.
    return db.scalar(
        select(CheckInPartner)
        .where(
            CheckInPartner.code_hash == rules.digest(key, code),
            CheckInPartner.code_expires_at > now,
        )
        .order_by(CheckInPartner.id.desc())
        .limit(1)
        .execution_options(**FRESH)
    )


def _why_not(db: DbSession, row: CheckInPartner | None, now: datetime) -> str | None:
    """The real reason a credential is refused (audited, never shown), or None."""
    if row is None:
        return "unknown link or code"
    check_in = db.get_one(CheckIn, row.check_in_id, populate_existing=True)
    if check_in.session_id is not None or check_in.cancelled_at is not None:
        return "check-in closed"
    status = rules.status_of(_link_state(row), now)
    if status is rules.LinkStatus.DONE:
        return "already used"
    if status is rules.LinkStatus.REVOKED:
        return "revoked"
    if status is rules.LinkStatus.EXPIRED:
        return "expired"
    return None


def _refused(
    db: DbSession, action: str, row: CheckInPartner | None, detail: str, now: datetime
) -> None:
    """One audit row of a partner's refused try (the caller's write)."""
    audit.record(
        db,
        None,
        action,
        entity="check_in",
        entity_id=row.check_in_id if row is not None else None,
        success=False,
        username=PARTNER_NAME,
        detail=detail,
        occurred_at=now,
    )


def _refuse_credential(
    db: DbSession,
    row: CheckInPartner | None,
    reason: str,
    credential: Credential,
    client: str,
    now: datetime,
) -> CheckInRefused:
    """Record the refusal and the guess in one short write; hand back the error."""
    db.rollback()
    begin_write(db)
    db.add(CheckInGuess(client=client[:64], guessed_at=now))
    if row is not None and reason == "expired" and not row.expiry_recorded:
        _record_expiry(db, row, now)
    device = client[:64]
    _refused(db, "check_in_refused", row, f"{reason} ({credential.kind}, device {device})", now)
    db.flush()
    until = retry_at(db, client, now)
    if until is not None:
        # This miss makes the device wait: on record, as a sign-in's (sign_in_throttled).
        _refused(
            db,
            "check_in_throttled",
            row,
            f"device {device} waits until {until:%Y-%m-%d %H:%M:%S} UTC",
            now,
        )
    db.commit()
    return CheckInRefused()


def _refuse_waiting(
    db: DbSession, credential: Credential, client: str, until: datetime, now: datetime
) -> TooManyTries:
    """Put a try refused for waiting on record ("Please wait" on the page), as a sign-in
    refused for waiting is; it is no guess, so it lengthens nobody's wait."""
    row = _find(db, credential, now)
    db.rollback()
    begin_write(db)
    _refused(
        db,
        "check_in_refused",
        row,
        f"waiting ({credential.kind}, device {client[:64]}) until {until:%Y-%m-%d %H:%M:%S} UTC",
        now,
    )
    db.commit()
    return TooManyTries(until)


def _usable_row(
    db: DbSession, credential: Credential, client: str, now: datetime
) -> CheckInPartner:
    until = retry_at(db, client, now)
    if until is not None:
        raise _refuse_waiting(db, credential, client, until, now)
    row = _find(db, credential, now)
    reason = _why_not(db, row, now)
    if reason is not None:
        raise _refuse_credential(db, row, reason, credential, client, now)
    assert row is not None
    return row


def open_check_in(
    db: DbSession,
    credential: Credential,
    *,
    client: str,
    now: datetime | None = None,
    record_open: bool = True,
) -> PartnerPage:
    """What the partner's page shows for a credential, or CheckInRefused / TooManyTries.

    `record_open`: once per visit the opening is put on record (and the link marked
    opened); the page's later reruns only re-check the credential.
    """
    now = now or utcnow()
    row = _usable_row(db, credential, client, now)
    check_in = row.check_in
    everything = load_instruments()
    page = PartnerPage(
        check_in_id=check_in.id,
        partner=row.partner,
        own_initials=check_in.initials_a if row.partner == "A" else check_in.initials_b,
        other_initials=check_in.initials_b if row.partner == "A" else check_in.initials_a,
        clinic_name=load_settings().clinic_name,
        instruments=tuple(
            everything[c] for c in check_in.instruments.split(",") if c in everything
        ),
        expires_at=row.code_expires_at if credential.kind == "code" else row.expires_at,  # type: ignore[arg-type]
    )
    row_id = row.id
    db.commit()
    if record_open:
        begin_write(db)
        db.execute(
            update(CheckInPartner)
            .where(CheckInPartner.id == row_id, CheckInPartner.opened_at.is_(None))
            .values(opened_at=now)
        )
        audit.record(
            db,
            None,
            "check_in_opened",
            entity="check_in",
            entity_id=page.check_in_id,
            username=PARTNER_NAME,
            detail=f"partner {page.partner} ({credential.kind}, device {client[:64]})",
            occurred_at=now,
        )
        couple_changed(db, [check_in.couple_id])
        db.commit()
    return page


def submit_check_in(
    db: DbSession,
    credential: Credential,
    answers: rules.Answers,
    *,
    client: str,
    now: datetime | None = None,
) -> None:
    """Save a partner's answers, once: ValidationFailed (field errors, nothing written),
    CheckInRefused (the link is not usable, now or because another submit won)."""
    now = now or utcnow()
    begin_write(db)
    row = _usable_row(db, credential, client, now)
    everything = load_instruments()
    asked = {c: everything[c] for c in row.check_in.instruments.split(",") if c in everything}
    errors = rules.validate_answers(answers, asked)
    if errors:
        db.rollback()
        raise ValidationFailed(errors)
    payload = json.dumps(
        {
            "ratings": {k: v for k, v in answers.ratings.items() if v is not None},
            "totals": {k: v for k, v in answers.totals.items() if v is not None},
        },
        sort_keys=True,
    )
    note = normalised(answers.note).strip() or None
    live = [
        CheckInPartner.id == row.id,
        CheckInPartner.submitted_at.is_(None),
        CheckInPartner.revoked_at.is_(None),
        CheckInPartner.expires_at > now,
    ]
    if credential.kind == "code":
        live.append(CheckInPartner.code_expires_at > now)
    # The single use: only one UPDATE can find submitted_at still empty.
    result = db.execute(
        update(CheckInPartner)
        .where(*live)
        .values(submitted_at=now, answers=payload, note=note, code_hash=None, code_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _refuse_credential(db, row, "already used", credential, client, now)
    audit.record(
        db,
        None,
        "check_in_submitted",
        entity="check_in",
        entity_id=row.check_in_id,
        username=PARTNER_NAME,
        detail=f"partner {row.partner} ({credential.kind}, device {client[:64]})",
        occurred_at=now,
    )
    couple_changed(db, [row.check_in.couple_id])
    db.commit()
