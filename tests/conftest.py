"""Shared fixtures: a real migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL runs when TEST_DATABASE_URL is set (CI sets it); each test then gets its own
schema, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dashboard.domain.catalog import Role
from dashboard.domain.validation import CoupleInput
from dashboard.services import auth, couples
from dashboard.services.actor import Actor
from dashboard.services.catalog import ensure_seed_barriers
from db.engine import STRICT_ENV, WRITE_OPTION, begin_write, make_engine, make_sessionmaker
from db.migrate import upgrade_head
from db.models import SupervisionLink

TEST_PASSWORD = "correct-horse-battery"
# A write in a read transaction raises in every test, the served app's included (its
# process inherits the environment), instead of being logged.
os.environ[STRICT_ENV] = "1"
# The audit chain's key, as secrets.toml would give it (the served app inherits it too).
os.environ["BONDLINE_AUDIT_KEY"] = "test-audit-key-" + "k" * 32
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file (much faster than migrating again)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_head(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        ensure_seed_barriers(db)
    engine.dispose()
    return path


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to a new, empty PostgreSQL schema, dropped afterwards."""
    base = os.environ["TEST_DATABASE_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even a schema: for migration tests."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, for a test's own direct SQL (committed on exit)."""
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        yield conn


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    if backend == "sqlite":
        path = tmp_path / "bondline.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with postgres_schema() as url:
        upgrade_head(url)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as db:
            ensure_seed_barriers(db)
        engine.dispose()
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@dataclass
class Clinic:
    """A tiny clinic: two counselors, a supervisor of the first, an admin, one couple each."""

    admin: Actor
    supervisor: Actor
    counselor: Actor
    other_counselor: Actor
    couple_id: int
    other_couple_id: int


def make_actor(
    db: Session, username: str, role: str, name: str, *, created_by: Actor | None
) -> Actor:
    """A real user row (cheap bcrypt rounds) and the actor the services see."""
    user_id = auth.create_user(
        db,
        created_by,
        username=username,
        display_name=name,
        role=role,
        password=TEST_PASSWORD,
        bcrypt_rounds=4,
    )
    return Actor(user_id, username, name, Role(role))


def build_clinic(db: Session) -> Clinic:
    admin = make_actor(db, "admin", "admin", "Ada Admin", created_by=None)
    supervisor = make_actor(db, "sam.super", "supervisor", "Sam Super", created_by=admin)
    counselor = make_actor(db, "cara.couns", "counselor", "Cara Couns", created_by=admin)
    other = make_actor(db, "olly.other", "counselor", "Olly Other", created_by=admin)
    begin_write(db)
    db.add(SupervisionLink(supervisor_id=supervisor.user_id, counselor_id=counselor.user_id))
    db.commit()
    couple_id = couples.create_couple(
        db,
        counselor,
        CoupleInput("Alex", "Blair", date(2026, 1, 5), "Drifting apart", "Talk weekly"),
        today=date(2026, 11, 1),
    )
    other_id = couples.create_couple(
        db,
        other,
        CoupleInput("Casey", "Drew", date(2026, 2, 1), "Conflict", "Repair"),
        today=date(2026, 11, 1),
    )
    return Clinic(admin, supervisor, counselor, other, couple_id, other_id)


@pytest.fixture
def clinic(db: Session) -> Clinic:
    return build_clinic(db)
