"""The audit log as a clinic admin reads it: local times, plain actions, case codes,
filters, a CSV of what the filters found, and the hash chain's check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session as DbSession

from dashboard.reports import tables
from dashboard.services import audit
from dashboard.services.actor import Actor
from dashboard.services.admin import require_admin
from dashboard.services.errors import ValidationFailed
from db.audit_chain import ChainReport
from db.models import AuditEvent, CheckIn, Couple, CoupleSession, User

LIMIT = 1000  # rows on the page and in one CSV; narrow the filters for older events
COLUMNS = ["When", "User", "Action", "Record", "Allowed", "Detail"]

# What each action reads as in the log; an action not listed reads as its own words.
ACTION_LABELS = {
    "login": "Signed in",
    "login_failed": "Sign-in refused",
    "logout": "Signed out",
    "session_ended": "Session ended",
    "view_caseload": "Opened caseload",
    "view_couple": "Opened couple",
    "view_timeline": "Opened timeline",
    "view_session": "Opened session",
    "open_session_form": "Opened new-session form",
    "open_page": "Opened a page outside the role",
    "view": "Opened caseload review",
    "create_couple": "Opened a case",
    "update_couple": "Edited intake details",
    "change_status": "Changed case status",
    "create_session": "Logged session",
    "update_session": "Edited session",
    "delete_session": "Deleted session",
    "restore_session": "Restored session",
    "save_draft": "Saved a draft",
    "review": "Marked reviewed",
    "export": "Exported",
    "view_users": "Opened users",
    "view_audit_log": "Opened audit log",
    "export_audit_log": "Exported audit log",
    "view_deleted_sessions": "Opened deleted sessions",
    "view_licences": "Opened instrument licences",
    "set_licence": "Changed an instrument licence",
    "create_user": "Created account",
    "activate_user": "Switched account on",
    "deactivate_user": "Switched account off",
    "set_supervisor": "Changed supervisor",
    "unlink_sso": "Unlinked single sign-on",
    "load_demo": "Loaded the demo clinic",
    "load_clinic": "Loaded a synthetic clinic",
    "create_check_in": "Asked for a check-in",
    "new_check_in_link": "Made a new check-in link",
    "create_check_in_code": "Made a tablet code",
    "revoke_check_in": "Revoked a check-in link",
    "cancel_check_in": "Cancelled a check-in",
    "view_check_ins": "Opened check-ins",
    "check_in_opened": "Partner opened a check-in",
    "check_in_submitted": "Partner answered a check-in",
    "check_in_expired": "Check-in link expired",
    "check_in_refused": "Check-in link refused",
    "check_in_throttled": "Check-in tries slowed for a device",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or action.replace("_", " ").capitalize()


@dataclass(frozen=True)
class AuditFilters:
    """What the admin narrowed the log to; every part optional."""

    username: str = ""
    case_code: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None
    failures_only: bool = False


@dataclass(frozen=True)
class AuditLogChoices:
    """What the filters can pick from."""

    usernames: list[str]
    case_codes: list[str]
    actions: dict[str, str]  # action -> label


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def choices(db: DbSession, actor: Actor) -> AuditLogChoices:
    require_admin(db, actor, "view_audit_log")
    usernames = sorted(set(db.scalars(select(AuditEvent.username).distinct())) - {""})
    codes = sorted(db.scalars(select(Couple.case_code)))
    actions = sorted(set(db.scalars(select(AuditEvent.action).distinct())), key=action_label)
    return AuditLogChoices(usernames, codes, {a: action_label(a) for a in actions})


def search(
    db: DbSession,
    actor: Actor,
    filters: AuditFilters,
    *,
    timezone: str | None = None,
    record_view: bool = True,
    limit: int = LIMIT,
) -> pd.DataFrame:
    """The newest events the filters let through, times in the reader's zone (shown in
    the column name). Reading the log is itself audited, with the filters."""
    require_admin(db, actor, "view_audit_log")
    zone = _zone(timezone)
    query = _filtered(db, filters, zone).order_by(AuditEvent.id.desc()).limit(limit)
    rows = db.execute(query).all()
    frame = _frame(db, rows, zone)
    if record_view:
        audit.record_after_read(
            db,
            actor,
            "view_audit_log",
            entity="audit",
            detail=f"{_events(len(frame))}; {describe(filters)}",
        )
    return frame


def export_csv(
    db: DbSession, actor: Actor, filters: AuditFilters, *, timezone: str | None = None
) -> bytes:
    """The same rows as the page, as CSV; exporting the log is on record too."""
    frame = search(db, actor, filters, timezone=timezone, record_view=False)
    audit.record_after_read(
        db,
        actor,
        "export_audit_log",
        entity="audit",
        detail=f"audit-log.csv: {_events(len(frame))}; {describe(filters)}",
    )
    return tables.to_csv_bytes(frame)


def verify(db: DbSession, actor: Actor) -> ChainReport:
    """The hash chain's check, from the Admin page (audited)."""
    require_admin(db, actor, "verify_audit_chain")
    report = audit.verify_chain(db)
    audit.record_now(
        db,
        actor,
        "verify_audit_chain",
        entity="audit",
        success=report.intact,
        detail=report.describe()[:2000],
    )
    return report


def _events(n: int) -> str:
    return f"{n} event{'' if n == 1 else 's'}"


def describe(filters: AuditFilters) -> str:
    parts = [
        f"user {filters.username}" if filters.username else "",
        f"couple {filters.case_code}" if filters.case_code else "",
        f"action {filters.action}" if filters.action else "",
        f"from {filters.start:%Y-%m-%d}" if filters.start else "",
        f"to {filters.end:%Y-%m-%d}" if filters.end else "",
        "refusals only" if filters.failures_only else "",
    ]
    return ", ".join(p for p in parts if p) or "no filters"


def _filtered(db: DbSession, filters: AuditFilters, zone: ZoneInfo):  # type: ignore[no-untyped-def]
    if filters.start and filters.end and filters.end < filters.start:
        raise ValidationFailed({"end": "The end date is before the start date."})
    # The couple a session's or check-in's event is about (its case code in the log).
    couple_of = func.coalesce(CoupleSession.couple_id, CheckIn.couple_id)
    query = (
        select(AuditEvent, couple_of)
        .outerjoin(
            CoupleSession,
            and_(AuditEvent.entity == "session", CoupleSession.id == AuditEvent.entity_id),
        )
        .outerjoin(
            CheckIn, and_(AuditEvent.entity == "check_in", CheckIn.id == AuditEvent.entity_id)
        )
    )
    if filters.username:
        query = query.where(AuditEvent.username == filters.username)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.failures_only:
        query = query.where(AuditEvent.success.is_(False))
    # Dates are the reader's days: from the start of `start` to the end of `end`.
    if filters.start:
        query = query.where(AuditEvent.occurred_at >= _day_start(filters.start, zone))
    if filters.end:
        query = query.where(
            AuditEvent.occurred_at < _day_start(filters.end + timedelta(days=1), zone)
        )
    if filters.case_code:
        couple_id = db.scalar(select(Couple.id).where(Couple.case_code == filters.case_code))
        query = query.where(
            or_(
                and_(AuditEvent.entity == "couple", AuditEvent.entity_id == couple_id),
                couple_of == couple_id,
            )
        )
    return query


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _frame(db: DbSession, rows: list, zone: ZoneInfo) -> pd.DataFrame:
    couple_ids = {
        e.entity_id if e.entity == "couple" else couple_id
        for e, couple_id in rows
        if e.entity == "couple" or couple_id is not None
    }
    codes = dict(
        db.execute(select(Couple.id, Couple.case_code).where(Couple.id.in_(couple_ids))).all()
    )
    user_ids = {e.entity_id for e, _ in rows if e.entity == "user" and e.entity_id}
    names = dict(db.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
    records = []
    for event, couple_id in rows:
        records.append(
            {
                "When": event.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                "User": event.username,
                "Action": action_label(event.action),
                "Record": _record(event, couple_id, codes, names),
                "Allowed": "Yes" if event.success else "No",
                "Detail": event.detail,
            }
        )
    frame = pd.DataFrame(records, columns=COLUMNS)
    return frame.rename(columns={"When": f"When ({zone.key})"})


def _record(
    event: AuditEvent, couple_id: int | None, codes: dict[int, str], names: dict[int, str]
) -> str:
    """The record in words: a case code, a session of a case, never a bare id."""
    if event.entity == "couple" and event.entity_id:
        return codes.get(event.entity_id, "an unknown couple")
    if event.entity == "session" and event.entity_id:
        code = codes.get(couple_id) if couple_id is not None else None
        return f"a session of {code}" if code else "an unknown session"
    if event.entity == "check_in":
        code = codes.get(couple_id) if couple_id is not None else None
        if not event.entity_id:
            return "no check-in (a link or code that matched none)"
        return f"check-in {event.entity_id} of {code}" if code else "an unknown check-in"
    if event.entity == "user" and event.entity_id:
        return f"account {names.get(event.entity_id, 'removed')}"
    return event.entity.replace("_", " ")
