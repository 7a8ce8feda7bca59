"""`python -m dashboard create-user`: the first admin needs no login, nobody else does.

Run as a real subprocess against a temporary SQLite file, exactly as an operator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bcrypt
from sqlalchemy import select

from db.engine import make_engine, make_sessionmaker
from db.models import AuditEvent, Barrier, User

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", "--url", url, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def users(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            return [
                (u.username, u.role, u.password_hash)
                for u in db.scalars(select(User).order_by(User.id))
            ]
    finally:
        engine.dispose()


def test_create_user_makes_the_first_admin_and_refuses_a_second(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"

    first = run_cli(
        url, "create-user", "Head.Admin", "--name", "Head Admin", "--password", "first-admin-pw"
    )
    assert first.returncode == 0, first.stderr
    assert "Created admin 'head.admin'" in first.stdout
    [(username, role, password_hash)] = users(url)
    assert (username, role) == ("head.admin", "admin")
    assert bcrypt.checkpw(b"first-admin-pw", password_hash.encode())

    second = run_cli(
        url, "create-user", "intruder", "--name", "Intruder", "--password", "second-admin-pw"
    )
    assert second.returncode != 0
    assert "admin already exists" in second.stderr
    assert [u[0] for u in users(url)] == ["head.admin"]

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            # The command also migrated the schema and seeded the barrier catalog.
            assert len(db.scalars(select(Barrier)).all()) == 4
            trail = [
                (e.action, e.username, e.success)
                for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
            ]
    finally:
        engine.dispose()
    assert trail == [("create_user", "cli", True), ("create_user", "cli", False)]


def test_create_user_reports_field_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    result = run_cli(url, "create-user", "admin", "--name", "Admin", "--password", "short")
    assert result.returncode == 2
    assert result.stderr.startswith("password:")
    assert users(url) == []


def test_first_account_without_a_login_must_be_an_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    result = run_cli(
        url,
        "create-user",
        "cara",
        "--name",
        "Cara",
        "--role",
        "counselor",
        "--password",
        "long-enough-pw",
    )
    assert result.returncode == 2
    assert "must be an admin" in result.stderr
    assert users(url) == []
