"""A small Bondline clinic on one machine: N `streamlit run` replicas behind nginx.

For the replica test (tests/e2e/test_replicas.py) and the load bench (bench/); it imports
no pytest. What it starts, and stops again on leaving the `with` (also on failure):

- the database: the `database_url` given; else a fresh PostgreSQL schema in
  TEST_DATABASE_URL (dropped afterwards); else, with no TEST_DATABASE_URL, a private
  PostgreSQL server of its own (tests/e2e/pg_server.py: Debian's binaries, a temporary
  directory, a free loopback port; stopped and removed afterwards). It is migrated and
  loaded with the demo clinic ONCE by `python -m dashboard demo`, before any replica
  starts (as the README's recipe migrates once, not per replica);
- N replicas, each `streamlit run streamlit_app.py` on a free loopback port with the
  same cookie key and audit key (a sign-in cookie from one is good on the other), each
  healthy on /_stcore/health before the next step;
- Debian's nginx with the README's server block (``` ```nginx ``` in README.md, the one
  "Serving it safely" shows and "A real clinic" runs): its replicas' addresses swapped
  for the cluster's, its ports and certificate for free ones and a self-signed pair. The front
  door is HTTPS (clients accept the test certificate), healthy through nginx.

Use:

    from tests.e2e.cluster import start_cluster
    with start_cluster(Path("/tmp/run"), replicas=2) as clinic:
        clinic.url                    # https://127.0.0.1:PORT, the front door
        clinic.replicas[0].url        # one replica's own address (http)
        clinic.route_to(1)            # a `bondline_route` cookie value naming replica #1
        clinic.served()               # nginx's log: (browser id, replica index, request)
        clinic.logged(route)          # the same for one browser (waits for nginx's line)
        clinic.replicas[0].start()    # started again on its port (as Restart=always would)
        route_given(get(clinic.url, "/"))  # the route cookie nginx gave a new browser
        clinic.replicas[0].kill()     # SIGKILL, as a crash
        clinic.replicas[0].rss_kb()   # its resident memory (Linux /proc)

Options: `env` (added to each replica's environment; BONDLINE_LOGIN_SLEEP_SECONDS is 0
unless given), `secrets` (the text of a secrets.toml for every replica, or a function of
the front door's URL returning it: single sign-on needs its redirect address),
`demo=False` for an empty migrated database. Failures raise ClusterError with the tail
of the log concerned. Logs and nginx's files stay in `workdir`.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets as token
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.pg_server import PostgresError, free_port, private_postgres, stop, tail

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90
ROUTE_COOKIE = "bondline_route"
# What the test nginx logs per request, beside the README's block (which logs nothing
# of its own): the browser (the id in its route cookie, or the one it is being given),
# the replicas nginx tried (the last answered), the status, the request.
LOG_FORMAT = "$bondline_browser|$upstream_addr|$status|$request"
# The README's replicas, swapped for the cluster's own addresses.
README_REPLICAS = ("127.0.0.1:8501", "127.0.0.1:8502")


class ClusterError(RuntimeError):
    """A part of the cluster did not start or answer."""


def readme_nginx_block() -> str:
    """The README's nginx configuration, as a clinic would copy it."""
    readme = (ROOT / "README.md").read_text()
    [block] = re.findall(r"```nginx\n(.*?)```", readme, re.S)
    return "\n".join(line.removeprefix("  ") for line in block.splitlines())


def nginx_conf(
    workdir: Path,
    *,
    upstreams: list[str],
    http_port: int,
    https_port: int,
    cert: Path,
    key: Path,
) -> str:
    """A whole nginx.conf running the README's block in `workdir`: its two replicas'
    addresses replaced by `upstreams` (host:port; one replica stands in for both), ports
    and certificate swapped; every other line as the README has it."""
    if len(upstreams) not in (1, 2):
        raise ClusterError("the README's nginx block is written for one or two replicas")
    block = readme_nginx_block()
    for readme, address in zip(README_REPLICAS, [*upstreams, upstreams[0]], strict=False):
        if readme not in block or re.escape(readme) not in block:
            raise ClusterError(f"the README's nginx block no longer names {readme}")
        block = block.replace(re.escape(readme), re.escape(address)).replace(readme, address)
    block = (
        block.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
        .replace("/etc/ssl/bondline/fullchain.pem", str(cert))
        .replace("/etc/ssl/bondline/privkey.pem", str(key))
    )
    temp = "".join(
        f"{kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off; worker_processes 1; pid {workdir / 'nginx.pid'};"
        f"error_log {workdir / 'error.log'};\n"
        f"events {{}}\nhttp {{\n{temp}\nlog_format replicas '{LOG_FORMAT}';\n"
        f"access_log {workdir / 'access.log'} replicas;\n{block}\n}}\n"
    )


def self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def get(url: str, path: str, *, headers: dict[str, str] | None = None, timeout: float = 5):
    """One GET (HTTP or HTTPS with the test certificate); the response, its body read."""
    scheme, _, hostport = url.partition("://")
    host, _, port = hostport.partition(":")
    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, int(port), timeout=timeout, context=ssl._create_unverified_context()
        )
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def route_given(response: http.client.HTTPResponse) -> str | None:
    """The route cookie nginx set on a response (beside any cookie of Streamlit's)."""
    found = re.search(rf"\b{ROUTE_COOKIE}=([^;,\s]+)", response.getheader("Set-Cookie") or "")
    return found.group(1) if found else None


def wait_healthy(url: str, alive: Callable[[], bool], log: Path, what: str) -> None:
    """Until `url`/_stcore/health answers 200 ("ok"); ClusterError if `alive` turns
    false or the time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if not alive():
            raise ClusterError(f"{what} exited:\n{tail(log)}")
        try:
            if get(url, "/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} was not healthy within {START_TIMEOUT_S} s:\n{tail(log)}")
        time.sleep(0.3)


@dataclass
class Replica:
    index: int
    port: int
    log: Path
    proc: subprocess.Popen
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process ends at once, as in a crash (no clean shutdown)."""
        if self.alive():
            self.proc.kill()
        self.proc.wait(timeout=10)

    def start(self) -> None:
        """Started again on its port after a kill (as `Restart=always` does), healthy."""
        if self.alive():
            raise ClusterError(f"replica {self.index} is still running")
        with self.log.open("ab") as out:
            self.proc = _spawn(self.command, self.env, out)
        wait_healthy(self.url, self.alive, self.log, f"replica {self.index}")

    def rss_kb(self) -> int:
        """Resident memory of the replica's process, in kB (Linux /proc)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise ClusterError(f"no VmRSS for replica {self.index}")


@dataclass
class Served:
    """One request as nginx logged it."""

    route: str  # the browser id in its bondline_route cookie, or the one it was given
    replica: int | None  # None: no replica answered (or an address not in the cluster)
    status: int
    request: str


@dataclass
class Cluster:
    url: str  # the front door: https://127.0.0.1:PORT (self-signed certificate)
    http_url: str  # the plain-HTTP port, which only redirects to HTTPS
    replicas: list[Replica]
    database_url: str
    workdir: Path
    access_log: Path
    _routes: dict[int, str] = field(default_factory=dict)

    def served(self) -> list[Served]:
        """Every request nginx has logged so far (a websocket once it has closed). The
        replica is the last address nginx tried: the one that answered."""
        by_address = {replica.address: replica.index for replica in self.replicas}
        rows = []
        if not self.access_log.exists():
            return rows
        for line in self.access_log.read_text().splitlines():
            route, addresses, status, request = line.split("|", 3)
            last = addresses.replace(" : ", ", ").split(", ")[-1]
            rows.append(
                Served("" if route == "-" else route, by_address.get(last), int(status), request)
            )
        return rows

    def logged(self, route: str, count: int = 1, timeout_s: float = 5) -> list[Served]:
        """The requests of one browser (its route cookie, or the browser id in it), once
        there are `count` of them (nginx writes a line just after the response has gone)."""
        browser = browser_of(route)
        deadline = time.monotonic() + timeout_s
        while True:
            rows = [row for row in self.served() if row.route == browser]
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)

    def route_to(self, index: int) -> str:
        """A route cookie value that sends a browser to replica `index`: the README's
        cookie names the replica itself ("<browser id>@<address>"). One value per replica,
        as the load bench hands them out in turn."""
        if index not in self._routes:
            self._routes[index] = f"{uuid.uuid4().hex}@{self.replicas[index].address}"
        return self._routes[index]


def browser_of(route: str) -> str:
    """The browser id of a route cookie value ("<browser id>@<replica>")."""
    return route.partition("@")[0]


def _spawn(command: list[str], env: dict[str, str], out) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _postgres_schema(base_url: str) -> tuple[str, Callable[[], None]]:
    """A URL to a new, empty schema in `base_url`'s database, and how to drop it."""
    schema = f"cluster_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def _dashboard(url: str, *args: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "--url", url, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise ClusterError(
            f"python -m dashboard {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


@contextmanager
def start_cluster(
    workdir: Path,
    *,
    replicas: int = 2,
    database_url: str | None = None,
    demo: bool = True,
    env: dict[str, str] | None = None,
    secrets: str | Callable[[str], str] | None = None,
) -> Iterator[Cluster]:
    """Database, replicas, nginx (see the module's docstring); stops all on leaving."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise ClusterError("nginx is missing: apt-get install nginx (.ci/run does this)")
    workdir.mkdir(parents=True, exist_ok=True)
    http_port, https_port = free_port(), free_port()
    front = f"https://127.0.0.1:{https_port}"
    common_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "BONDLINE_LOGIN_SLEEP_SECONDS": "0",
        "BONDLINE_COOKIE_KEY": token.token_urlsafe(48),
        **(env or {}),
    }
    common_env.setdefault("BONDLINE_AUDIT_KEY", token.token_urlsafe(48))
    with ExitStack() as stack:
        url = database_url
        if url is None:
            base = os.environ.get("TEST_DATABASE_URL")
            if base:
                url, drop = _postgres_schema(base)
                stack.callback(drop)
            else:
                try:
                    url = stack.enter_context(private_postgres())
                except PostgresError as error:
                    raise ClusterError(str(error)) from error
        common_env["DATABASE_URL"] = url
        # Migrated (and the demo loaded) once, before any replica starts.
        _dashboard(url, "demo" if demo else "migrate", env=common_env)

        options: list[str] = []
        if secrets is not None:
            secrets_file = workdir / "secrets.toml"
            secrets_file.write_text(secrets(front) if callable(secrets) else secrets)
            options = ["--secrets.files", str(secrets_file)]
        started: list[Replica] = []
        for index in range(replicas):
            port = free_port()
            log = workdir / f"replica-{index}.log"
            cmd = [
                sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                "--server.headless", "true", "--server.address", "127.0.0.1",
                "--server.port", str(port), "--server.fileWatcherType", "none", *options,
            ]  # fmt: skip
            with log.open("wb") as out:
                replica = Replica(index, port, log, _spawn(cmd, common_env, out), cmd, common_env)
            stack.callback(lambda replica=replica: stop(replica.proc))  # the latest process
            started.append(replica)
        for replica in started:
            wait_healthy(replica.url, replica.alive, replica.log, f"replica {replica.index}")

        cert, key = self_signed_certificate(workdir)
        conf = workdir / "nginx.conf"
        conf.write_text(
            nginx_conf(
                workdir,
                upstreams=[r.address for r in started],
                http_port=http_port,
                https_port=https_port,
                cert=cert,
                key=key,
            )
        )
        error_log = workdir / "error.log"
        with (workdir / "nginx.stderr").open("wb") as err:
            proxy = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(workdir)], stdout=subprocess.DEVNULL, stderr=err
            )
        stack.callback(stop, proxy)
        wait_healthy(front, lambda: proxy.poll() is None, error_log, "nginx")
        yield Cluster(
            url=front,
            http_url=f"http://127.0.0.1:{http_port}",
            replicas=started,
            database_url=url,
            workdir=workdir,
            access_log=workdir / "access.log",
        )
