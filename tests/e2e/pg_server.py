"""A private PostgreSQL server for the replica test when no TEST_DATABASE_URL is given.

`make test` on a clean machine has Debian's PostgreSQL installed but no role, database or
TEST_DATABASE_URL; the replica test still has to run on PostgreSQL (issue 23: "all
started by the test"). This starts Debian's own server binaries
(/usr/lib/postgresql/<newest>/bin, else initdb/postgres on PATH) in a temporary data
directory, on a free loopback port with a random password (scram-sha-256, loopback
only, no Unix socket outside that directory), and stops and removes it on leaving the
`with`, also on failure. PostgreSQL refuses to run as root: as root, initdb and the
server run as the `postgres` user (Popen's user=/group=), which owns the directory; as
anyone else they run directly. It imports no pytest.

    with private_postgres() as url:   # postgresql+psycopg://bondline:...@127.0.0.1:PORT/bondline
        ...
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 60
ROLE = "bondline"
DATABASE = "bondline"
MISSING = (
    "PostgreSQL's server binaries (initdb, postgres) are missing: apt-get install "
    "postgresql (bash .ci/run does this), or set TEST_DATABASE_URL to a PostgreSQL "
    "database the tests may make schemas in"
)


class PostgresError(RuntimeError):
    """The private server could not be found, set up or started."""


def server_binaries(debian: Path = Path("/usr/lib/postgresql")) -> Path:
    """The directory holding initdb and postgres: Debian's newest version, else PATH's."""
    versions = sorted(
        (path for path in debian.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: _version_key(path.parent.name),
    )
    if versions and (versions[-1] / "postgres").exists():
        return versions[-1]
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent
    raise PostgresError(MISSING)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def free_port() -> int:
    """A loopback port free now (for the server, a replica or nginx to listen on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log, for a failure's message."""
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop(proc: subprocess.Popen, signum: int = signal.SIGTERM, wait_s: float = 10) -> None:
    """Ask a process to end (`signum`), then SIGKILL it if it has not within `wait_s`."""
    if proc.poll() is None:
        proc.send_signal(signum)
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _as_owner() -> dict[str, object]:
    """Popen arguments that run a server binary as someone PostgreSQL accepts: the
    `postgres` user when we are root (it refuses root), ourselves otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresError(
            "running as root and there is no `postgres` user to run the server as: "
            "apt-get install postgresql creates it"
        ) from None
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _ready(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:  # not listening yet, or still starting up
        return False
    finally:
        engine.dispose()


@contextmanager
def private_postgres() -> Iterator[str]:
    """A new PostgreSQL server with an empty database `bondline` owned by the role
    `bondline`; its SQLAlchemy URL. Stopped and its directory removed on leaving."""
    bindir = server_binaries()
    owner = _as_owner()
    # In /tmp, not the caller's (maybe root-only) directory: the server's user reads it.
    home = Path(tempfile.mkdtemp(prefix="bondline-pg-"))
    server: subprocess.Popen | None = None
    try:
        if owner:
            os.chown(home, owner["user"], owner["group"])  # type: ignore[arg-type]
        password = secrets.token_urlsafe(24)
        pwfile = home / "password"
        pwfile.write_text(password + "\n")
        if owner:
            os.chown(pwfile, owner["user"], owner["group"])  # type: ignore[arg-type]
        data, log = home / "data", home / "server.log"
        run = {"cwd": home, "capture_output": True, "text": True, **owner}
        initdb = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", ROLE, f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
            timeout=120, **run,
        )  # fmt: skip
        if initdb.returncode != 0:
            raise PostgresError(f"initdb failed ({initdb.returncode}):\n{initdb.stderr}")
        port = free_port()
        with log.open("wb") as out:
            # A test server: durability off (nothing here outlives the test).
            server = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={home}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                cwd=home, stdout=out, stderr=subprocess.STDOUT, **owner,  # type: ignore[arg-type]
            )  # fmt: skip
        base = f"postgresql+psycopg://{ROLE}:{password}@127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(f"{base}/postgres"):
            if server.poll() is not None:
                raise PostgresError(f"postgres exited ({server.returncode}):\n{tail(log)}")
            if time.monotonic() > deadline:
                raise PostgresError(
                    f"postgres did not answer within {START_TIMEOUT_S} s:\n{tail(log)}"
                )
            time.sleep(0.2)
        from sqlalchemy import create_engine, text

        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{DATABASE}" OWNER "{ROLE}"'))
        finally:
            admin.dispose()
        yield f"{base}/{DATABASE}"
    finally:
        if server is not None:  # fast shutdown (SIGINT): its clients are disconnected
            stop(server, signal.SIGINT, 20)
        shutil.rmtree(home, ignore_errors=True)
