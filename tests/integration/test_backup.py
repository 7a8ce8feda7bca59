"""Backup and restore, run as an operator would: a clinic in, a file out, the clinic
back in a fresh database with every row and an intact audit chain."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dashboard import demo
from dashboard.services.backup import row_counts
from db.engine import make_engine, make_sessionmaker
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
    clinic_url: str, backend: str, tmp_path: Path
) -> None:
    before_counts, before_audit = _counts(clinic_url), _audit_rows(clinic_url)
    assert before_counts["sessions"] == SMALL["target_sessions"]
    dump = tmp_path / "clinic.backup"
    made = run_cli(clinic_url, "backup", "--out", str(dump))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"Backed up to {dump}: {sum(before_counts.values())} rows")

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
