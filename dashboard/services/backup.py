"""Backups and restores of the whole clinic, checked before anyone relies on them.

SQLite: the online backup API, page by page, safe while the app serves (readers and a
writer carry on). PostgreSQL: pg_dump's custom format and pg_restore (the client tools
must match the server's major version). A backup is verified as soon as it is written
(SQLite: integrity_check and the row counts); a restore never overwrites a clinic
unless told to, and then first backs up what was there; afterwards it compares the
row counts with the backup's and walks the audit chain.

The database password never goes on pg_dump's or pg_restore's command line, where `ps`
shows it to every local user: the URI they get has none, and the password goes in the
child's environment as PGPASSWORD. On Linux a process's environment
(/proc/PID/environ) is readable only by its own user and root, who can read the
password where it is configured anyway (/etc/bondline/bondline.env). A temporary
passfile (the other way libpq offers) would put it on disk, left behind by a backup
killed mid-way, and needs libpq's escaping of ':' and '\\'.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from dashboard.services import audit
from db.audit_chain import ChainReport
from db.engine import make_engine, make_sessionmaker
from db.models import Base


class BackupError(Exception):
    """A backup or restore that could not be made or did not check out."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    counts: dict[str, int]  # rows per table
    chain: ChainReport | None = None
    set_aside: Path | None = None  # what a --replace restore backed up first

    def describe(self, verb: str) -> str:
        total = sum(self.counts.values())
        lines = [f"{verb} {self.path}: {total} rows in {len(self.counts)} tables."]
        lines += [f"  {name}: {n}" for name, n in sorted(self.counts.items())]
        if self.chain is not None:
            lines.append(self.chain.describe())
        if self.set_aside is not None:
            lines.append(f"The clinic as it was before is kept in {self.set_aside}.")
        return "\n".join(lines)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the schema (the app's tables and Alembic's)."""
    names = [n for n in inspect(engine).get_table_names() if n in Base.metadata.tables]
    with engine.connect() as conn:
        return {n: conn.scalar(select(func.count()).select_from(table(n))) or 0 for n in names}


def _has_clinic(engine: Engine) -> bool:
    counts = row_counts(engine)
    return any(counts.get(n) for n in ("users", "couples", "audit_events"))


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" else None


@dataclass(frozen=True)
class _Libpq:
    """How pg_dump/pg_restore reach the database: a URI without the password, the
    password for their environment, and --schema when the URL pins one."""

    uri: str
    password: str
    schema_args: list[str]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _libpq(url: str) -> _Libpq:
    parsed = make_url(url)
    options = str(parsed.query.get("options", ""))
    schema = options.removeprefix("-csearch_path=") if "search_path" in options else ""
    password = parsed.password or str(parsed.query.get("password", "") or "")
    plain = URL.create(  # every part but the password (URL.set keeps a None part as it was)
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query={k: v for k, v in parsed.query.items() if k not in ("options", "password")},
    )
    return _Libpq(
        plain.render_as_string(hide_password=False),
        str(password),
        [f"--schema={schema}"] if schema else [],
    )


def _hidden(message: str, password: str) -> str:
    """The message without the password, should a tool or driver ever echo it."""
    return message.replace(password, "********") if password else message


def _run(cmd: list[str], libpq: _Libpq) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=libpq.env())
    if done.returncode != 0:
        said = _hidden(done.stderr.strip()[-2000:], libpq.password)
        raise BackupError(f"{Path(cmd[0]).name} failed: {said}")


@contextmanager
def _reaching(url: str) -> Iterator[None]:
    """A database that cannot be reached (down, a wrong password, a SQLite file the
    user may not write) is a BackupError naming why: no traceback, no password."""
    password = str(make_url(url).password or "")
    try:
        yield
    except OperationalError as exc:
        raise BackupError(
            f"Could not use the database: {_hidden(str(exc.orig), password)}"
        ) from None
    except (
        sqlite3.DatabaseError
    ) as exc:  # the online backup API's own connection (or not a database)
        raise BackupError(f"SQLite could not open the database or the backup: {exc}") from None


def _check_sqlite_file(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError(f"{path} failed its integrity check: {verdict}")
    engine = make_engine(f"sqlite:///{path}")
    try:
        return row_counts(engine)
    finally:
        engine.dispose()


def backup(url: str, out: Path) -> Outcome:
    """Copy the clinic to `out` and check the copy."""
    with _reaching(url):
        return _backup(url, out)


def _private(path: Path) -> None:
    """Create `path` (or keep it) readable by its owner only, before anything is written
    into it: a backup holds every couple's notes, whatever the caller's umask."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


@contextmanager
def _beside(out: Path) -> Iterator[Path]:
    """The file a backup is written into: beside `out`, renamed to it only once it has
    read back whole, so a failed backup leaves nothing that looks like one."""
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)  # left by a backup killed mid-way
    try:
        _private(partial)
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)


def _sqlite_backup(source: Path, out: Path) -> dict[str, int]:
    """Copy the SQLite clinic at `source` into `out`; its row counts once read back."""
    try:
        source.stat()
    except FileNotFoundError:
        # sqlite3 would create an empty database there and report a backup of 0 rows.
        raise BackupError(
            f"No database at {source}: nothing was backed up. Check the database URL."
        ) from None
    with _beside(out) as partial:
        # mode=rw: opening never creates the database, should it vanish meanwhile.
        live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)
        try:
            with sqlite3.connect(partial) as copy:
                live.backup(copy)
            copy.close()
        finally:
            live.close()
        return _check_sqlite_file(partial)


def _folder_for(out: Path) -> None:
    """Make the folder `out` goes in; a path that cannot take a backup file (a file
    where a folder should be, a folder where the file should be, a folder that cannot be
    made) is a BackupError saying so, before anything is written."""
    if out.is_dir():
        raise BackupError(
            f"{out} is a folder: nothing was backed up. Name the backup file to write."
        )
    in_the_way = next((p for p in out.parents if p.exists()), None)
    if in_the_way is not None and not in_the_way.is_dir():
        raise BackupError(
            f"{in_the_way} is a file, not a folder, so the backup cannot be written to "
            f"{out}: nothing was backed up."
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"Could not make the folder {out.parent}: {exc.strerror}. Nothing was backed up."
        ) from None


def _backup(url: str, out: Path) -> Outcome:
    _folder_for(out)
    source = _sqlite_path(url)
    if source is not None:
        return Outcome(out, _sqlite_backup(source, out))
    libpq = _libpq(url)
    # pg_dump creates its file before it connects: written beside `out` (see _beside).
    with _beside(out) as partial:
        _run(["pg_dump", "--format=custom", f"--file={partial}", *libpq.schema_args, libpq.uri],
             libpq)  # fmt: skip
        _run(["pg_restore", "--list", str(partial)], libpq)
    engine = make_engine(url)
    try:
        return Outcome(out, row_counts(engine))
    finally:
        engine.dispose()


def restore(url: str, source: Path, *, replace: bool = False) -> Outcome:
    """Put the clinic in `source` into the database at `url`, then check it: the row
    counts must be the backup's, and the audit chain must hold.

    Refuses a database that holds a clinic unless `replace`; then what was there is
    backed up first, beside the database (SQLite) or the backup (PostgreSQL).
    """
    if not source.exists():
        raise BackupError(f"No backup at {source}.")
    with _reaching(url):
        return _restore(url, source, replace)


def _restore(url: str, source: Path, replace: bool) -> Outcome:
    engine = make_engine(url)
    try:
        occupied = _has_clinic(engine) if inspect(engine).get_table_names() else False
    finally:
        engine.dispose()
    if occupied and not replace:
        raise BackupError(
            "This database already holds a clinic: nothing was restored. Restore into an "
            "empty database, or add --replace (what is there is backed up first)."
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = _sqlite_path(url)
    set_aside = None
    if target is not None:
        expected = _check_sqlite_file(source)
        if occupied:
            set_aside = backup(
                url, target.with_name(f"{target.stem}.before-restore-{stamp}.sqlite3")
            ).path
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as backup_db, sqlite3.connect(target) as live:
            backup_db.backup(live)
        live.close()
    else:
        expected = None
        if occupied:
            set_aside = backup(url, source.with_name(f"before-restore-{stamp}.dump")).path
        libpq = _libpq(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error",
              f"--dbname={libpq.uri}", *libpq.schema_args, str(source)], libpq)  # fmt: skip
    return _checked(url, source, expected, set_aside)


def _checked(
    url: str, source: Path, expected: dict[str, int] | None, set_aside: Path | None
) -> Outcome:
    engine = make_engine(url)
    try:
        counts = row_counts(engine)
        if expected is not None and counts != expected:
            raise BackupError(f"Restored rows differ from the backup's: {counts} != {expected}")
        with make_sessionmaker(engine)() as db:
            chain = audit.verify_chain(db)
            audit.record_now(
                db, None, "restore", entity="clinic", username="cli", detail=f"from {source.name}"
            )
    finally:
        engine.dispose()
    if not chain.intact:
        raise BackupError(f"Restored, but the audit chain does not hold: {chain.describe()}")
    return Outcome(source, counts, chain, set_aside)
