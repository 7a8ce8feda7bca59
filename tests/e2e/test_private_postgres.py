"""The private PostgreSQL server the replica test starts when TEST_DATABASE_URL is unset.

`make test` on a machine with Debian's postgresql package but no configured database
still runs the replica test on PostgreSQL; without the package it fails saying what to
install, never skips. The server is gone afterwards, also when the test using it fails.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.e2e.pg_server import PostgresError, private_postgres, server_binaries


def _fake_version(root: Path, version: str) -> None:
    bindir = root / version / "bin"
    bindir.mkdir(parents=True)
    for name in ("initdb", "postgres"):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(stat.S_IRWXU)


def test_the_newest_debian_version_is_used_by_number_not_by_spelling(tmp_path: Path) -> None:
    # "9.6" sorts after "16" as text; 16 is the newest.
    for version in ("9.6", "15", "16"):
        _fake_version(tmp_path, version)
    assert server_binaries(tmp_path) == tmp_path / "16" / "bin"


def test_without_the_server_binaries_it_fails_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PostgresError, match=r"apt-get install postgresql"):
        server_binaries(tmp_path)


def test_the_private_server_answers_and_is_gone_after_a_failure() -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), private_postgres() as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            user, database = conn.execute(text("SELECT current_user, current_database()")).one()
            conn.execute(text("CREATE TABLE kept (id integer)"))
            conn.commit()
        engine.dispose()
        port = str(make_url(url).port)
        # Its directory: the one whose server (postmaster.pid, 4th line) has this port.
        [home] = [
            pid.parents[1]
            for pid in Path("/tmp").glob("bondline-pg-*/data/postmaster.pid")
            if pid.read_text().splitlines()[3:4] == [port]
        ]
        raise Boom
    assert (user, database) == ("bondline", "bondline")
    assert not home.exists()
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError):
        engine.connect()
    engine.dispose()
