"""Couples (cases): the caseload, intake details, status changes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Row, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm.exc import StaleDataError

from dashboard.domain.caseload import OVERDUE_DAYS, is_overdue
from dashboard.domain.catalog import (
    ATTENDANCE_LABELS,
    CLOSING_REASONS,
    FORMAT_LABELS,
    STATUS_LABELS,
    Attendance,
    CoupleStatus,
    SessionFormat,
    stage_label,
)
from dashboard.domain.history import describe_couple_change
from dashboard.domain.validation import (
    COUPLE_TEXTS,
    CoupleInput,
    blanked_text,
    validate_couple,
    validate_status_change,
)
from dashboard.services import audit, scope
from dashboard.services.actor import Actor
from dashboard.services.couple_changes import couple_changed
from dashboard.services.errors import AccessDenied, EditConflict, ValidationFailed
from dashboard.services.memo import PAGES, reader_scope
from db import queries, scopes
from db.engine import begin_write
from db.models import Couple, CoupleAmendment, CoupleSession, SessionAmendment, User, utcnow

CASELOAD_COLUMNS = [
    "couple_id",
    "case_code",
    "partners",
    "counselor",
    "status",
    "stage",
    "sessions",
    "last_session",
    "days_since_last",
    "days_without_session",
    "overdue",
]


def _today() -> date:
    return date.today()


def _caseload_row(r: Row, today: date, overdue_days: int) -> dict[str, object]:
    # What "overdue" is judged on: a couple never seen waits since intake.
    waited = (today - (r.last_session or r.intake_date)).days
    return {
        "couple_id": r.couple_id,
        "case_code": r.case_code,
        "partners": f"{r.partner_a_name} & {r.partner_b_name}",
        "counselor": r.counselor,
        "status": STATUS_LABELS[CoupleStatus(r.status)],
        "stage": stage_label(r.stage),
        "sessions": int(r.sessions),
        "last_session": r.last_session,
        "days_since_last": (today - r.last_session).days if r.last_session else None,
        "days_without_session": waited,
        "overdue": is_overdue(r.status, waited, overdue_days),
    }


def list_caseload(
    db: DbSession,
    actor: Actor,
    *,
    search: str = "",
    statuses: Sequence[str] = (),
    today: date | None = None,
    overdue_days: int = OVERDUE_DAYS,
    record_view: bool = True,
) -> pd.DataFrame:
    """The couples the actor may see, one row each, newest activity visible at a glance.

    `record_view=False` is for a rerun of a page already audited (a filter changed).
    """
    version = PAGES.version(db, reader_scope(actor))  # first: the rest is at least this new
    scope.require_active(db, actor, "view_caseload", entity="caseload")
    today = today or _today()

    def build() -> pd.DataFrame:
        rows = queries.caseload_rows(
            db, scope.visible_couples(actor), search=search, statuses=statuses
        )
        frame = pd.DataFrame(
            [_caseload_row(r, today, overdue_days) for r in rows],
            columns=CASELOAD_COLUMNS,
        )
        return frame.astype({"days_since_last": "Int64", "overdue": bool})

    key = ("caseload", actor.user_id, actor.role, search, tuple(statuses), today, overdue_days)
    frame = PAGES.get(db, version, key, build)
    if record_view:
        audit.record_after_read(
            db, actor, "view_caseload", entity="caseload", detail=f"{len(frame)} couples"
        )
    return frame


@dataclass(frozen=True)
class SessionSummary:
    session_id: int
    session_date: date
    attendance: str
    format: str
    stage: str
    duration_minutes: int | None
    safety_flag: bool
    amended: bool


@dataclass(frozen=True)
class CoupleChange:
    """One intake edit or status change, in words."""

    version: int  # the record's version before this change
    when: datetime  # UTC
    who: str  # display name of the person who saved it
    action: str  # "update_couple" or "change_status"
    changes: tuple[str, ...]  # e.g. ("Status: closed (Goals met) → active",)
    amendment_id: int = 0
    # The full earlier text of each intake text this change replaced: (field, text).
    earlier_texts: tuple[tuple[str, str], ...] = ()

    @property
    def what(self) -> str:
        return "; ".join(self.changes)


@dataclass(frozen=True)
class CoupleDetail:
    couple_id: int
    case_code: str
    partner_a_name: str
    partner_b_name: str
    counselor_id: int
    counselor: str
    intake_date: date
    status: str
    status_label: str
    closing_reason: str | None
    status_note: str
    status_changed_at: datetime | None
    presenting_concerns: str
    goals: str
    version: int
    can_edit: bool
    sessions: tuple[SessionSummary, ...]
    # Every intake edit and status change, newest first.
    history: tuple[CoupleChange, ...] = ()

    @property
    def partners(self) -> str:
        return f"{self.partner_a_name} & {self.partner_b_name}"

    @property
    def status_text(self) -> str:
        """Status in words, with the closing reason when closed."""
        text = self.status_label
        if self.status == CoupleStatus.CLOSED and self.closing_reason:
            text += f": {CLOSING_REASONS.get(self.closing_reason, self.closing_reason)}"
        if self.status_note:
            text += f" ({self.status_note})"
        return text


def get_couple(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    record_view: bool = True,
    audit_refusal: bool = True,
) -> CoupleDetail:
    """A couple's record and its sessions, newest first. Audited as a view (a refusal
    too, unless `audit_refusal` says this visit's refusal is already on record).

    Built once per version of the couple for each user who opens it (services/memo.py).
    """
    version = PAGES.version(db, scopes.couple(couple_id))  # first: the rest is at least this new
    couple = scope.couple_for(
        db, actor, couple_id, action="view_couple", audit_refusal=audit_refusal
    )

    def build() -> CoupleDetail:
        counselor = db.get(User, couple.counselor_id)
        sessions = db.scalars(
            select(CoupleSession)
            .where(CoupleSession.couple_id == couple.id, CoupleSession.deleted_at.is_(None))
            .order_by(CoupleSession.session_date.desc(), CoupleSession.id.desc())
        ).all()
        # Amended means the note was edited: a delete and restore also moves the version.
        amended = set(
            db.scalars(
                select(SessionAmendment.session_id).where(
                    SessionAmendment.session_id.in_([s.id for s in sessions])
                )
            )
        )
        return CoupleDetail(
            couple_id=couple.id,
            case_code=couple.case_code,
            partner_a_name=couple.partner_a_name,
            partner_b_name=couple.partner_b_name,
            counselor_id=couple.counselor_id,
            counselor=counselor.display_name if counselor else "",
            intake_date=couple.intake_date,
            status=couple.status,
            status_label=STATUS_LABELS[CoupleStatus(couple.status)],
            closing_reason=couple.closing_reason,
            status_note=couple.status_note or "",
            status_changed_at=couple.status_changed_at,
            presenting_concerns=couple.presenting_concerns,
            goals=couple.goals,
            version=couple.version,
            can_edit=scope.can_edit(actor, couple),
            sessions=tuple(
                SessionSummary(
                    session_id=s.id,
                    session_date=s.session_date,
                    attendance=ATTENDANCE_LABELS[Attendance(s.attendance)],
                    format=FORMAT_LABELS[SessionFormat(s.format)],
                    stage=stage_label(s.stage) if s.stage else "—",
                    duration_minutes=s.duration_minutes,
                    safety_flag=s.safety_flag,
                    amended=s.id in amended,
                )
                for s in sessions
            ),
            history=_history(db, couple),
        )

    detail = PAGES.get(db, version, ("couple", actor.user_id, actor.role, couple.id), build)
    if record_view:
        audit.record_after_read(db, actor, "view_couple", entity="couple", entity_id=couple.id)
    return detail


def couple_snapshot(couple: Couple) -> dict[str, object]:
    """Every column of the couple's record, JSON-ready (dates as ISO text)."""
    values: dict[str, object] = {}
    for attr in inspect(Couple).column_attrs:
        value = getattr(couple, attr.key)
        values[attr.key] = value.isoformat() if isinstance(value, date | datetime) else value
    return values


def _keep_amendment(
    db: DbSession, actor: Actor, couple: Couple, action: str, now: datetime
) -> None:
    """Keep the record as it stands, before `action` changes it."""
    db.add(
        CoupleAmendment(
            couple_id=couple.id,
            version=couple.version,
            amended_at=now,
            amended_by=actor.user_id,
            action=action,
            snapshot=json.dumps(couple_snapshot(couple), sort_keys=True),
        )
    )


def _history(db: DbSession, couple: Couple) -> tuple[CoupleChange, ...]:
    """The couple's amendments newest first, each compared with the state after it.

    One query: the amendments with their authors' names.
    """
    rows = db.execute(
        select(CoupleAmendment, User.display_name)
        .outerjoin(User, User.id == CoupleAmendment.amended_by)
        .where(CoupleAmendment.couple_id == couple.id)
        .order_by(CoupleAmendment.version.desc(), CoupleAmendment.id.desc())
    ).all()
    after: dict[str, object] = couple_snapshot(couple)
    changes = []
    for amendment, name in rows:
        before = json.loads(amendment.snapshot)
        changes.append(
            CoupleChange(
                version=amendment.version,
                when=amendment.amended_at,
                who=name or "?",
                action=amendment.action,
                changes=describe_couple_change(before, after),
                amendment_id=amendment.id,
                earlier_texts=tuple(
                    (key, str(before.get(key) or ""))
                    for key in COUPLE_TEXTS
                    if str(before.get(key) or "").strip() != str(after.get(key) or "").strip()
                ),
            )
        )
        after = before
    return tuple(changes)


def create_couple(
    db: DbSession, actor: Actor, inp: CoupleInput, *, today: date | None = None
) -> int:
    """Open a new case on the counselor's own caseload; returns the couple id."""
    begin_write(db)
    scope.require_active(db, actor, "create_couple", entity="couple")
    if not actor.is_counselor:
        raise audit.refused(
            db,
            actor,
            "create_couple",
            AccessDenied("Only counselors open new couples."),
            entity="couple",
            detail="only counselors open couples",
        )
    errors = validate_couple(inp, today=today or _today())
    if errors:
        db.rollback()  # write nothing, and release the write lock at once
        raise ValidationFailed(errors)
    assert inp.intake_date is not None
    for _attempt in range(3):
        number = queries.next_case_number(db, inp.intake_date.year)
        couple = Couple(
            case_code=f"C-{inp.intake_date.year}-{number:04d}",
            partner_a_name=inp.partner_a_name.strip(),
            partner_b_name=inp.partner_b_name.strip(),
            counselor_id=actor.user_id,
            intake_date=inp.intake_date,
            status=CoupleStatus.ACTIVE.value,
            presenting_concerns=inp.presenting_concerns.strip(),
            goals=inp.goals.strip(),
        )
        db.add(couple)
        try:
            db.flush()
        except IntegrityError:  # another counselor took the same case number
            db.rollback()
            continue
        audit.record(
            db,
            actor,
            "create_couple",
            entity="couple",
            entity_id=couple.id,
            detail=couple.case_code,
        )
        couple_changed(db, [couple.id])
        db.commit()
        return couple.id
    raise EditConflict("Could not allocate a case code; please try again.")


def _conflict(
    db: DbSession, actor: Actor, action: str, couple_id: int, message: str
) -> EditConflict:
    return audit.refused(
        db,
        actor,
        action,
        EditConflict(message),
        entity="couple",
        entity_id=couple_id,
        detail="edit conflict",
    )


def _check_version(
    db: DbSession, actor: Actor, action: str, couple: Couple, expected_version: int
) -> None:
    """Refuse a stale form: end the transaction (writing nothing) and audit it."""
    if couple.version != expected_version:
        raise _conflict(
            db,
            actor,
            action,
            couple.id,
            "Someone else saved this couple's record after you opened it. Nothing was "
            "overwritten: reload the page to see their changes, then make yours again.",
        )


def update_couple(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    inp: CoupleInput,
    *,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
) -> None:
    """Edit intake details; refuses if the record changed since the form was opened.

    The record as it stood is kept as an amendment (see `CoupleDetail.history`).
    """
    begin_write(db)
    couple = scope.couple_for(db, actor, couple_id, action="update_couple", write=True)
    errors = validate_couple(
        inp, today=today or _today(), first_session=queries.first_session_date(db, couple_id)
    ) | blanked_text(
        {"presenting_concerns": couple.presenting_concerns, "goals": couple.goals},
        {"presenting_concerns": inp.presenting_concerns, "goals": inp.goals},
        COUPLE_TEXTS,
        inp.clear,
    )
    if errors:
        db.rollback()
        raise ValidationFailed(errors)
    _check_version(db, actor, "update_couple", couple, expected_version)
    assert inp.intake_date is not None
    now = now or utcnow()
    _keep_amendment(db, actor, couple, "update_couple", now)
    couple.partner_a_name = inp.partner_a_name.strip()
    couple.partner_b_name = inp.partner_b_name.strip()
    couple.intake_date = inp.intake_date
    couple.presenting_concerns = inp.presenting_concerns.strip()
    couple.goals = inp.goals.strip()
    couple.updated_at = now
    _commit_versioned(db, actor, "update_couple", couple)


def restore_couple_text(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    amendment_id: int,
    field: str,
    expected_version: int,
    now: datetime | None = None,
) -> None:
    """Put an earlier presenting concerns or goals text back, from the couple's History.

    A restore is an edit like any other: the text it replaces is kept as an amendment.
    """
    begin_write(db)
    couple = scope.couple_for(db, actor, couple_id, action="update_couple", write=True)
    amendment = db.scalar(
        select(CoupleAmendment).where(
            CoupleAmendment.id == amendment_id, CoupleAmendment.couple_id == couple.id
        )
    )
    if amendment is None or field not in COUPLE_TEXTS:
        db.rollback()
        raise ValidationFailed(
            {field: "That earlier version is not part of this couple's history."}
        )
    earlier = str(json.loads(amendment.snapshot).get(field) or "")
    _check_version(db, actor, "update_couple", couple, expected_version)
    now = now or utcnow()
    _keep_amendment(db, actor, couple, "update_couple", now)
    setattr(couple, field, earlier)
    couple.updated_at = now
    _commit_versioned(db, actor, "update_couple", couple, detail=f"restored {field} from history")


def change_status(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    new_status: str,
    closing_reason: str | None = None,
    note: str = "",
    expected_version: int,
    now: datetime | None = None,
) -> None:
    """Pause, close (with a reason) or reopen a case; the earlier status is kept as an
    amendment, so reopening never erases why the case was closed."""
    begin_write(db)
    couple = scope.couple_for(db, actor, couple_id, action="change_status", write=True)
    errors = validate_status_change(new_status, closing_reason, note)
    if errors:
        db.rollback()
        raise ValidationFailed(errors)
    _check_version(db, actor, "change_status", couple, expected_version)
    now = now or utcnow()
    _keep_amendment(db, actor, couple, "change_status", now)
    old = couple.status
    couple.status = new_status
    couple.closing_reason = closing_reason if new_status == CoupleStatus.CLOSED else None
    couple.status_note = note.strip() or None
    couple.status_changed_at = now
    couple.updated_at = now
    _commit_versioned(db, actor, "change_status", couple, detail=f"{old} -> {new_status}")


def _commit_versioned(
    db: DbSession, actor: Actor, action: str, couple: Couple, detail: str = ""
) -> None:
    couple_id = couple.id
    try:
        db.flush()
    except StaleDataError as exc:
        raise _conflict(
            db,
            actor,
            action,
            couple_id,
            "Someone else saved this couple's record at the same moment. Nothing was "
            "overwritten: reload the page and try again.",
        ) from exc
    audit.record(db, actor, action, entity="couple", entity_id=couple_id, detail=detail)
    couple_changed(db, [couple_id])
    db.commit()
