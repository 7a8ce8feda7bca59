"""Backup and restore, run as an operator would: a clinic in, a file out, the clinic
back in a fresh database with every row and an intact audit chain; on PostgreSQL the
password never on pg_dump's or pg_restore's command line (what `ps` shows every local
user), nor in what the command prints."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dashboard import demo
from dashboard.services import backup
from dashboard.services.backup import row_counts
from db.engine import make_engine, make_sessionmaker
from tests.conftest import postgres_schema
from tests.integration.conftest import TODAY
from tests.integration.test_cli import run_cli

SMALL = {"counselors": 3, "couples": 12, "target_sessions": 120}


def _audit_rows(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT * FROM audit_events ORDER BY id"))]
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return row_counts(engine)
    finally:
        engine.dispose()


@pytest.fixture
def clinic_url(db_url: str, engine: Engine) -> str:
    with make_sessionmaker(engine)() as db:
        demo.load_clinic(db, seed=11, today=TODAY, **SMALL)
    return db_url


def _watch_pg_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pg_dump and pg_restore on PATH that note the argv and PGPASSWORD they were
    started with (exactly what /proc/PID/cmdline, hence `ps`, shows), then run the
    real tool. Returns the file of notes, one JSON line a call."""
    shims, notes = tmp_path / "watched-bin", tmp_path / "pg-tool-calls.jsonl"
    shims.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        real = shutil.which(tool)
        assert real, f"{tool} is needed (apt-get install postgresql-client)"
        shim = shims / tool
        shim.write_text(
            f"#!{sys.executable}\n"
            "import json, os, sys\n"
            f"with open({str(notes)!r}, 'a') as f:\n"
            f"    f.write(json.dumps({{'tool': {tool!r}, 'argv': sys.argv[1:],"
            " 'PGPASSWORD': os.environ.get('PGPASSWORD')}) + '\\n')\n"
            f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
        )
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    return notes


def _calls(notes: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in notes.read_text().splitlines()] if notes.exists() else []


def _empty_again(url: str) -> None:
    """PostgreSQL: the test's schema dropped and made anew, as a fresh database would be."""
    schema = str(make_url(url).query["options"]).removeprefix("-csearch_path=")
    admin = make_engine(os.environ["TEST_DATABASE_URL"])
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()


def test_a_backup_restores_every_row_into_a_fresh_database(
    clinic_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = _watch_pg_tools(tmp_path, monkeypatch)
    before_counts, before_audit = _counts(clinic_url), _audit_rows(clinic_url)
    assert before_counts["sessions"] == SMALL["target_sessions"]
    dump = tmp_path / "clinic.backup"
    made = run_cli(clinic_url, "backup", "--out", str(dump))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"Backed up to {dump}: {sum(before_counts.values())} rows")
    # Every couple's notes: readable by the one who made it only, whatever the umask.
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600

    if backend == "sqlite":
        fresh = f"sqlite:///{tmp_path / 'fresh' / 'bondline.sqlite3'}"
    else:
        _empty_again(clinic_url)
        fresh = clinic_url
    restored = run_cli(fresh, "restore", "--from", str(dump))
    assert restored.returncode == 0, restored.stderr
    assert f"Audit chain intact: {before_counts['audit_events']} rows verified." in (
        restored.stdout
    )
    after = _counts(fresh)
    assert after == before_counts | {"audit_events": before_counts["audit_events"] + 1}
    # Every column of every audit row, chain links included, exactly as backed up; the
    # restore itself is the next link.
    assert _audit_rows(fresh)[:-1] == before_audit
    assert run_cli(fresh, "audit", "verify").returncode == 0

    calls = _calls(notes)
    if backend == "sqlite":
        assert calls == []  # the online backup API: no child process at all
        return
    # The dump, its read-back check, the restore: each started without the password in
    # its argv, and given it in its environment instead.
    assert [c["tool"] for c in calls] == ["pg_dump", "pg_restore", "pg_restore"]
    password = make_url(clinic_url).password
    assert password
    for call in calls:
        argv = " ".join(call["argv"])  # type: ignore[arg-type]
        assert f":{password}@" not in argv and "password" not in argv.lower(), argv
        assert call["PGPASSWORD"] == password
    assert f"--dbname=postgresql://{make_url(clinic_url).username}@" in calls[2]["argv"][4]


def test_a_restore_never_overwrites_a_clinic_unless_told_and_keeps_it_aside(
    clinic_url: str, backend: str, tmp_path: Path
) -> None:
    dump = tmp_path / "clinic.backup"
    assert run_cli(clinic_url, "backup", "--out", str(dump)).returncode == 0
    before = _counts(clinic_url)

    refused = run_cli(clinic_url, "restore", "--from", str(dump))
    assert refused.returncode == 1
    assert "already holds a clinic: nothing was restored" in refused.stderr
    assert _counts(clinic_url) == before

    replaced = run_cli(clinic_url, "restore", "--from", str(dump), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    [aside] = [line for line in replaced.stdout.splitlines() if "kept in" in line]
    kept = Path(aside.rsplit("kept in ", 1)[1].rstrip("."))
    assert kept.exists() and kept.stat().st_size > 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="a database password is PostgreSQL's; set TEST_DATABASE_URL (CI does)",
)
def test_a_wrong_password_is_refused_in_plain_words_without_printing_it(tmp_path: Path) -> None:
    wrong = "Wrong-Secret-4711"
    with postgres_schema() as url:
        bad = make_url(url).set(password=wrong).render_as_string(hide_password=False)
        dump = tmp_path / "clinic.backup"
        made = run_cli(bad, "backup", "--out", str(dump))
        assert made.returncode == 1
        assert "pg_dump failed" in made.stderr
        assert "password authentication failed" in made.stderr
        assert not dump.exists()

        dump.write_bytes(b"not read: the database refuses first")
        restored = run_cli(bad, "restore", "--from", str(dump))
        assert restored.returncode == 1
        assert restored.stderr.startswith("Could not use the database: ")
        assert "password authentication failed" in restored.stderr

    for said in (made, restored):
        assert wrong not in said.stdout + said.stderr
        assert "Traceback" not in said.stderr


def test_a_sqlite_file_that_cannot_be_opened_is_named_without_a_traceback(tmp_path: Path) -> None:
    # What the backup unit met before it could write beside the database (its -shm
    # file): SQLite's "unable to open database file", here from a path that is a folder.
    folder = tmp_path / "bondline.sqlite3"
    folder.mkdir()
    made = run_cli(f"sqlite:///{folder}", "backup", "--out", str(tmp_path / "b.sqlite3"))
    assert made.returncode == 1
    said = "SQLite could not open the database or the backup: unable to open database file"
    assert made.stderr.strip() == said
    assert not (tmp_path / "b.sqlite3").exists()


def test_a_sqlite_backup_of_a_missing_database_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    """It used to create an empty database at the configured path and report a backup
    of 0 rows."""
    missing = tmp_path / "bondline.sqlite3"
    out = tmp_path / "backups" / "bondline-1.backup"
    made = run_cli(f"sqlite:///{missing}", "backup", "--out", str(out))
    assert made.returncode == 1
    assert made.stderr.strip() == (
        f"No database at {missing}: nothing was backed up. Check the database URL."
    )
    assert not missing.exists()
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir()] == []


def test_a_failed_sqlite_backup_leaves_nothing_that_looks_like_a_backup(tmp_path: Path) -> None:
    """The copy is written beside the backup and renamed only once it reads back whole:
    a source that is not a database leaves no (empty, 0600) backup file behind."""
    broken = tmp_path / "bondline.sqlite3"
    broken.write_bytes(b"not a database, " * 512)
    out = tmp_path / "backups" / "bondline-1.backup"
    made = run_cli(f"sqlite:///{broken}", "backup", "--out", str(out))
    assert made.returncode == 1
    assert made.stderr.strip() == (
        "SQLite could not open the database or the backup: file is not a database"
    )
    assert [p.name for p in out.parent.iterdir()] == []


def test_a_backup_into_a_folder_under_a_file_names_the_file_and_writes_nothing(
    clinic_url: str, backend: str, tmp_path: Path
) -> None:
    """`--out` whose folder is really a file (or lies under one) used to end in a
    traceback (NotADirectoryError / FileExistsError from making the folder)."""
    in_the_way = tmp_path / "backups"
    in_the_way.write_text("a file where the backup folder should be")
    for out in (in_the_way / "bondline-1.backup", in_the_way / "daily" / "bondline-1.backup"):
        made = run_cli(clinic_url, "backup", "--out", str(out))
        assert made.returncode == 1
        assert made.stderr.strip() == (
            f"{in_the_way} is a file, not a folder, so the backup cannot be written to "
            f"{out}: nothing was backed up."
        )
        assert made.stdout == ""
    assert in_the_way.read_text() == "a file where the backup folder should be"
    # `--out` naming a folder, not a file: said as plainly.
    folder = tmp_path / "daily"
    folder.mkdir()
    made = run_cli(clinic_url, "backup", "--out", str(folder))
    assert made.returncode == 1
    assert made.stderr.strip() == (
        f"{folder} is a folder: nothing was backed up. Name the backup file to write."
    )
    assert list(folder.iterdir()) == []
    assert not list(tmp_path.glob("**/*.backup*")) and not list(tmp_path.glob("**/.*partial"))


def test_a_backup_folder_that_cannot_be_made_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder the backup's user may not create (these tests run as root, so the refusal
    is the operating system's answer, stood in for)."""

    def refused(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refused)
    out = tmp_path / "backups" / "bondline-1.backup"
    with pytest.raises(backup.BackupError) as said:
        backup.backup(f"sqlite:///{tmp_path / 'bondline.sqlite3'}", out)
    assert str(said.value) == (
        f"Could not make the folder {out.parent}: Permission denied. Nothing was backed up."
    )
