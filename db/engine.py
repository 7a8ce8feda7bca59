"""Engine factory: one place that knows how SQLite and PostgreSQL are set up."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db import scopes

_log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a SQLite writer waits for another's lock before "busy, try again".
BUSY_TIMEOUT_ENV = "BONDLINE_SQLITE_BUSY_TIMEOUT_MS"
# The execution option that asks for a write transaction (see begin_write).
WRITE_OPTION = "bondline_write"
_WRITING = "bondline_writing"
# Tests set it: a write inside a read transaction raises instead of being logged.
STRICT_ENV = "BONDLINE_STRICT_TRANSACTIONS"

DATA_VERSION_TABLE = "clinic_data_version"
# The couples a transaction changed, kept on its connection until commit or rollback
# (see touch_couples): what a commit invalidates and what the summary rows refresh.
TOUCHED = "bondline_touched_couples"
# Written on nearly every page view or keystroke, and shown on no page: a view's audit
# record or a counselor's unsaved draft does not make a cached page result stale.
UNTRACKED_TABLES = frozenset(
    {
        "audit_events",
        "audit_chain_head",
        "session_drafts",
        "sign_in_failures",
        "check_in_guesses",
        "alembic_version",
    }
)
_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.I)
# A user row's sign-in bookkeeping (sign-in, activity, sign-out, password, linking a
# sign-on account): shown on no cached page, so 20 counselors signing in move nothing.
SIGN_IN_COLUMNS = frozenset(
    {"last_active_at", "sessions_valid_after", "password_hash", "sso_subject"}
)
_SET = re.compile(r"\bSET\s+(.*?)(?:\s+WHERE\b|$)", re.I | re.S)
_COLUMN = re.compile(r'"?(\w+)"?\s*=')
_WROTE = "bondline_clinical_write"
_BUMP = f"UPDATE {DATA_VERSION_TABLE} SET version = version + 1"
# Before migration 0007 the table is missing; PostgreSQL would abort the whole
# transaction on the error, so it asks first.
_BUMP_POSTGRES = (
    f"DO $$ BEGIN IF to_regclass('{DATA_VERSION_TABLE}') IS NOT NULL THEN {_BUMP}; END IF; END $$"
)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create the engine for a database URL.

    SQLite gets WAL (readers never block the writer, the writer never blocks readers),
    foreign keys on and a busy timeout. Transactions begin deferred, so a read takes no
    lock and a long export never holds out other users; a transaction asked for with
    begin_write() begins IMMEDIATE, taking the write lock up front instead of upgrading
    a read snapshot (an upgrade fails at once when another writer committed meanwhile).
    A database error's message never carries the statement's values (hide_parameters):
    those are a couple's notes and names, and the message goes to the server's log.
    """
    kwargs = {"hide_parameters": True, **kwargs}
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        _track_data_version(engine, _BUMP_POSTGRES)
        return engine

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    busy_timeout_ms = int(os.environ.get(BUSY_TIMEOUT_ENV) or SQLITE_BUSY_TIMEOUT_MS)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue the BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        # FULL: a save the app has acknowledged survives a power cut, not only a crash
        # of the process (tests/integration/test_crash_safety.py; cost in bench/).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so a search for "émile" would miss
        # "Émile" here while PostgreSQL finds it. Python's folds every script.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = bool(conn.get_execution_options().get(WRITE_OPTION))
        conn.info[_WRITING] = writing
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _no_write_in_read(conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if conn.info.get(_WRITING, True) or not _WRITE.match(statement):
            return
        problem = f"a write in a read transaction (call begin_write first): {statement[:80]}"
        if os.environ.get(STRICT_ENV):
            raise ReadTransactionWrite(problem)
        _log.warning(problem)

    _track_data_version(engine, _BUMP)
    return engine


class ReadTransactionWrite(RuntimeError):
    """A statement that writes ran in a transaction begun as a read (tests only)."""


def begin_write(db: Session) -> None:
    """Make the session's next transaction a write transaction (BEGIN IMMEDIATE on SQLite).

    Call it before the first statement of a unit of work that writes. A read already
    open in the session is ended first (it must hold no unsaved changes): upgrading its
    snapshot could fail with "database is locked" as soon as another user saved.
    """
    _end_read(db)
    db.connection(execution_options={WRITE_OPTION: True})


def begin_snapshot(db: Session) -> None:
    """Make the session's next transaction one consistent, read-only view of the clinic.

    For a long read of several tables (an export): every table is read as of one moment,
    however many saves land meanwhile, and nothing is locked. SQLite's deferred
    transaction is such a snapshot from its first read on; PostgreSQL needs REPEATABLE
    READ (its default isolation takes a new snapshot per statement).
    """
    _end_read(db)
    if db.get_bind().dialect.name == "postgresql":
        db.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )


def _end_read(db: Session) -> None:
    if db.in_transaction():
        if db.new or db.dirty or db.deleted:
            raise RuntimeError("a new transaction asked for with unsaved changes in the session")
        db.commit()


def _track_data_version(engine: Engine, bump: str) -> None:
    """Move the data versions of what a transaction wrote, as its last statements.

    Seen at the driver (every ORM flush, Core statement and CLI write passes here). A
    write that touched couples (touch_couples) and wrote only their own records moves
    those couples' scopes (db/scopes.py); any other tracked write moves the clinic-wide
    clinic_data_version. The version rows are the last locks a writer takes (in one
    sorted order), so they cannot deadlock with another writer, and a reader never sees
    a new number without the data it stands for.
    """
    postgres = engine.dialect.name == "postgresql"

    @event.listens_for(engine, "begin")
    def _fresh(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)
        conn.info.pop(TOUCHED, None)

    @event.listens_for(engine, "after_cursor_execute")
    def _note(conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        written = _WRITE.match(statement)
        if written is None:
            return
        table = _tracked_as(written.group(1).lower(), statement)
        if table is not None:
            conn.info.setdefault(_WROTE, set()).add(table)

    @event.listens_for(engine, "commit")
    def _bump(conn: Connection) -> None:
        wrote = conn.info.pop(_WROTE, None)
        touched = conn.info.pop(TOUCHED, None)
        if not wrote:
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            scoped = touched and wrote <= scopes.COUPLE_TABLES
            if scoped and scopes.bump_touched(cursor, postgres, touched):
                return
            cursor.execute(bump)
        except sqlite3.OperationalError as exc:  # a database not yet at migration 0007
            if DATA_VERSION_TABLE not in str(exc):
                raise
        finally:
            cursor.close()

    @event.listens_for(engine, "rollback")
    def _forget(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)
        conn.info.pop(TOUCHED, None)


def _tracked_as(table: str, statement: str) -> str | None:
    """What a write statement counts as: None when no page shows it (an audit record,
    a draft, a sign-in's bookkeeping on the user row); a name outside
    scopes.COUPLE_TABLES when it changes more than a couple's own record."""
    if table in UNTRACKED_TABLES:
        return None
    verb = statement.lstrip()[:6].upper()
    if verb != "UPDATE":
        # A couple removed for good (no service does it) is more than its own record.
        return "couples removed" if (table, verb) == ("couples", "DELETE") else table
    found = _SET.search(statement)
    columns = set(_COLUMN.findall(found.group(1))) if found else {"?"}
    if table == "users" and columns <= SIGN_IN_COLUMNS:
        return None
    if table == "couples" and "counselor_id" in columns:
        return "couples reassigned"  # two caseloads and groups, and who may read it
    return table


def touch_couples(db: Session, couple_ids: Iterable[int]) -> None:
    """Note on the transaction's connection that these couples' records changed.

    Called inside a write transaction by every service write that changes a couple
    (dashboard/services/couple_changes.py); read at commit by what depends on them.
    """
    touched: set[int] = db.connection().info.setdefault(TOUCHED, set())
    touched.update(int(i) for i in couple_ids)


def data_version(db: Session) -> int | None:
    """The clinic's data version in this transaction; None before migration 0007, and
    None in a transaction that has written clinical rows (what it reads is newer than
    any number yet).

    Read it first in a transaction: whatever is read after it is at least that new.
    """
    version = db.execute(text(f"SELECT version FROM {DATA_VERSION_TABLE}")).scalar()
    if db.connection().info.get(_WROTE) or db.new or db.dirty or db.deleted:
        return None
    return version


def data_versions(db: Session, scope_names: Sequence[str]) -> scopes.ViewVersions | None:
    """The clinic-wide version and these scopes' (db/scopes.py) in this transaction, in
    one query; None in a transaction that has written clinical rows (what it reads is
    newer than any number yet).

    Read them first in a transaction: whatever is read after is at least that new.
    """
    found = scopes.read_versions(db, scope_names)
    if db.connection().info.get(_WROTE) or db.new or db.dirty or db.deleted:
        return None
    return found


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services return plain data built after commit.
    return sessionmaker(bind=engine, expire_on_commit=False)
