"""The audit trail as a hash chain: editing, deleting or inserting a row is detectable.

Each audit row carries its place in the chain (`seq`) and an HMAC-SHA256 of its own
content and the previous row's hash, keyed by a secret kept outside the database
(secrets.toml or BONDLINE_AUDIT_KEY). Someone who can write to the database but does
not hold the key cannot make a changed row's hash agree again, and every later row
names the one before it, so `verify` finds the first row that was touched.

Rows written before the chain began (migration 0008 on a database that already held
audit rows and was migrated without a key) have no seq; `verify` counts them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64  # the "previous hash" of the first chained row


@dataclass(frozen=True)
class ChainFields:
    """What a row's hash covers: everything a reader of the audit log relies on."""

    seq: int
    occurred_at: datetime
    user_id: int | None
    username: str
    action: str
    entity: str
    entity_id: int | None
    success: bool
    detail: str


def _moment(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_hash(key: bytes, previous: str, row: ChainFields) -> str:
    """The row's link: HMAC-SHA256 over its fields and the previous row's link."""
    content = json.dumps(
        [
            row.seq,
            _moment(row.occurred_at),
            row.user_id,
            row.username,
            row.action,
            row.entity,
            row.entity_id,
            bool(row.success),
            row.detail,
            previous,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, content.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    """One stored row as verify reads it."""

    id: int
    fields: ChainFields | None  # None: the row has no place in the chain (seq is NULL)
    stored_hash: str | None


@dataclass(frozen=True)
class ChainReport:
    """What `verify` found. `broken_id` names the first row that does not hold."""

    rows_checked: int
    before_chain: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None and not self.problem

    def describe(self) -> str:
        older = (
            f"; {self.before_chain} rows from before the chain began" if self.before_chain else ""
        )
        if self.intact:
            return f"Audit chain intact: {self.rows_checked} rows verified{older}."
        where = f"row {self.broken_id}" if self.broken_id is not None else "the end"
        return (
            f"Audit chain BROKEN at {where}: {self.problem} "
            f"({self.rows_checked} rows verified before it{older})."
        )


def verify(key: bytes, rows: Iterable[ChainRow], head_seq: int, head_hash: str) -> ChainReport:
    """Walk the rows in id order: seq must count up from 1 without a gap, each hash must
    be the HMAC of its row and the previous hash, and the last must match the head (the
    chain's end, kept in its own row: rows cut off the end show there)."""
    checked = before = 0
    previous, expected_seq = GENESIS, 1
    started = False
    for row in rows:
        if row.fields is None:
            if started:
                return ChainReport(checked, before, row.id, "a row with no place in the chain")
            before += 1
            continue
        started = True
        if row.fields.seq != expected_seq:
            problem = (
                f"expected link {expected_seq}, found {row.fields.seq} "
                "(a row was deleted or inserted)"
            )
            return ChainReport(checked, before, row.id, problem)
        link = chain_hash(key, previous, row.fields)
        if not hmac.compare_digest(link, row.stored_hash or ""):
            return ChainReport(checked, before, row.id, "its content or hash was changed")
        previous, expected_seq = link, expected_seq + 1
        checked += 1
    if (checked, previous) != (head_seq, head_hash):
        return ChainReport(
            checked, before, None, f"the chain ends at link {checked}, its head says {head_seq}"
        )
    return ChainReport(checked, before)
