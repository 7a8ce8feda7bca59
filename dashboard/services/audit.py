"""Audit trail: every access to clinical data leaves a row, allowed or not."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from dashboard.config import load_settings
from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError
from db.audit_chain import ChainFields, ChainReport, ChainRow, chain_hash, verify
from db.engine import begin_snapshot, begin_write
from db.models import AuditChainHead, AuditEvent, utcnow

E = TypeVar("E", bound=ServiceError)


def record(
    db: DbSession,
    actor: Actor | None,
    action: str,
    *,
    entity: str = "",
    entity_id: int | None = None,
    success: bool = True,
    detail: str = "",
    username: str | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """Add an audit event to the caller's transaction (committed with it), linked into
    the hash chain: the chain's head row is locked until the caller commits, so two
    transactions never link to the same row.

    `occurred_at` defaults to now; a service that is handed the time passes it on.
    """
    head = db.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    ).scalar_one()
    fields = ChainFields(
        seq=head.seq + 1,
        occurred_at=occurred_at or utcnow(),
        user_id=actor.user_id if actor else None,
        # Column sizes: a typed username can be any length.
        username=((actor.username if actor else username) or "")[:64],
        action=action,
        entity=entity,
        entity_id=entity_id,
        success=success,
        detail=detail[:2000],
    )
    link = chain_hash(audit_key(), head.last_hash, fields)
    head.seq, head.last_hash = fields.seq, link
    db.add(AuditEvent(**dataclasses.asdict(fields), chain_hash=link))


class NoAuditKey(RuntimeError):
    """The server was started without the key the audit chain needs."""


def audit_key() -> bytes:
    """The clinic's audit key (settings); refusing to write an unverifiable trail."""
    key = load_settings().audit_key
    if len(key) < 32:
        raise NoAuditKey(
            "No audit key (at least 32 characters) in .streamlit/secrets.toml [audit] key "
            "or BONDLINE_AUDIT_KEY: `python -m dashboard setup` writes one."
        )
    return key.encode()


def verify_chain(db: DbSession) -> ChainReport:
    """Check every audit row against the chain, oldest first; names the first bad row.

    One snapshot: rows appended while it reads are not half seen.
    """
    begin_snapshot(db)
    head = db.get_one(AuditChainHead, 1)
    result = db.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)
    )
    rows = result.scalars()
    report = verify(
        audit_key(),
        (
            ChainRow(
                e.id,
                None
                if e.seq is None
                else ChainFields(
                    e.seq,
                    e.occurred_at,
                    e.user_id,
                    e.username,
                    e.action,
                    e.entity,
                    e.entity_id,
                    e.success,
                    e.detail,
                ),
                e.chain_hash,
            )
            for e in rows
        ),
        head.seq,
        head.last_hash,
    )
    result.close()  # verify stops at the first bad row: the rest is never fetched
    db.rollback()
    return report


def record_now(db: DbSession, actor: Actor | None, action: str, **kwargs: object) -> None:
    """Write an audit event in its own commit, discarding anything uncommitted.

    Used for refusals: the refusal must be on record even though the service then
    raises and the caller's work is rolled back.
    """
    db.rollback()
    _own_transaction(db, actor, action, **kwargs)


def record_after_read(db: DbSession, actor: Actor | None, action: str, **kwargs: object) -> None:
    """End the caller's read and put what it showed on record in a short write of its own.

    A view reads in a plain transaction (no lock); only this insert takes the write
    lock, for a moment, after the reading is done. The caller returns what it read only
    once this has committed, so nothing is shown that is not on record.
    """
    db.commit()  # a read holds nothing to save; ending it keeps the objects it loaded
    _own_transaction(db, actor, action, **kwargs)


def _own_transaction(db: DbSession, actor: Actor | None, action: str, **kwargs: object) -> None:
    begin_write(db)
    record(db, actor, action, **kwargs)  # type: ignore[arg-type]
    db.commit()


def refused(
    db: DbSession,
    actor: Actor | None,
    action: str,
    error: E,
    *,
    entity: str,
    entity_id: int | None = None,
    detail: str,
    username: str | None = None,
) -> E:
    """Put a refusal on record (its own commit) and hand back the error to raise.

    `raise audit.refused(db, actor, action, AccessDenied(...), entity=..., detail=...)`:
    the caller's pending changes are discarded first, the refusal itself is kept.
    """
    record_now(
        db,
        actor,
        action,
        entity=entity,
        entity_id=entity_id,
        success=False,
        detail=detail,
        username=username,
    )
    return error
