"""Settings from the environment and `.streamlit/secrets.toml`.

One object, read once per process, so every layer agrees on the database, the cookie
and the session limits. No streamlit import: the CLI and the tests use it too.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "bondline.sqlite3"
DEMO_CLINIC = "Bondline Demo Clinic"  # printed on reports until a clinic names itself


@dataclass(frozen=True)
class Settings:
    database_url: str
    cookie_name: str
    cookie_key: str
    idle_timeout_minutes: int
    session_limit_hours: int
    login_sleep_seconds: float
    overdue_days: int
    clinic_name: str
    # Keys the audit hash chain (db/audit_chain.py); kept outside the database on purpose.
    audit_key: str = ""
    # The research extract's k: every couple shares its released record (scores aside)
    # with at least k-1 others (reports/anonymity.py). Set by the clinic; at least 2.
    research_k: int = 5
    # How long a partner's check-in link stays good (hours); tablet codes live 15 minutes.
    check_in_hours: int = 72
    # Start the slow parts (plotly, the chart browser, clinic norms) when the server
    # starts serving, not on a counselor's first click. Off in AppTests, which start
    # and clear many servers' worth of caches.
    warm_up: bool = True
    # The clinic's time zone (an IANA name): every time a user reads is shown in it
    # (stored in UTC, as ever).
    timezone: str = "UTC"

    @property
    def cookie_expiry_days(self) -> float:
        """The cookie never outlives the absolute session limit."""
        return self.session_limit_hours / 24


def _read_secrets(path: Path) -> dict:
    """The file's contents, parsed again only when it changed (settings are read many
    times a page run; an edited file is still seen on the next read)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, _mtime_ns: int, _size: int) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_settings(secrets_path: Path | None = None) -> Settings:
    """Environment variables win over secrets.toml, which wins over defaults."""
    data = _read_secrets(secrets_path or SECRETS_PATH)
    auth = data.get("auth", {})
    env = os.environ
    return Settings(
        database_url=env.get("DATABASE_URL")
        or data.get("database_url")
        or f"sqlite:///{DEFAULT_DB_PATH}",
        cookie_name=env.get("BONDLINE_COOKIE_NAME") or auth.get("cookie_name", "bondline_auth"),
        cookie_key=env.get("BONDLINE_COOKIE_KEY") or auth.get("cookie_key", ""),
        idle_timeout_minutes=int(
            env.get("BONDLINE_IDLE_TIMEOUT_MINUTES") or auth.get("idle_timeout_minutes", 30)
        ),
        session_limit_hours=int(
            env.get("BONDLINE_SESSION_LIMIT_HOURS") or auth.get("session_limit_hours", 12)
        ),
        login_sleep_seconds=float(
            env.get("BONDLINE_LOGIN_SLEEP_SECONDS") or auth.get("login_sleep_seconds", 0.7)
        ),
        overdue_days=_whole_number(
            env.get("BONDLINE_OVERDUE_DAYS") or data.get("clinic", {}).get("overdue_days", 21),
            "overdue_days",
            1,
            365,
            "days",
        ),
        clinic_name=(
            env.get("BONDLINE_CLINIC_NAME") or data.get("clinic", {}).get("name") or DEMO_CLINIC
        ).strip()[:120],
        audit_key=env.get("BONDLINE_AUDIT_KEY") or data.get("audit", {}).get("key", ""),
        research_k=_whole_number(
            env.get("BONDLINE_RESEARCH_K") or data.get("research", {}).get("k", 5),
            "[research] k (or BONDLINE_RESEARCH_K)",
            2,
            1000,
            "couples",
        ),
        check_in_hours=_whole_number(
            env.get("BONDLINE_CHECK_IN_HOURS") or data.get("check_in", {}).get("link_hours", 72),
            "[check_in] link_hours",
            1,
            336,
            "hours",
        ),
        timezone=_zone_name(
            env.get("BONDLINE_TIMEZONE")
            or data.get("clinic", {}).get("timezone")
            or server_timezone(env.get("TZ", ""))
        ),
        warm_up=(env.get("BONDLINE_WARM_UP") or "1").strip().lower() not in {"0", "false", "no"},
    )


def _whole_number(value: object, setting: str, low: int, high: int, unit: str) -> int:
    """A whole-number setting within its range; anything else stops the app at start
    with a message naming the setting, rather than counting wrongly."""
    try:
        number = int(str(value))
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ValueError(
            f"{setting} must be a whole number of {unit} from {low} to {high}, not {value!r}"
        )
    return number


def _zone_name(value: object) -> str:
    """A time zone the server knows by name; anything else stops the app at start with
    a message naming the setting, rather than showing every time in the wrong zone."""
    name = str(value).strip()
    if not _known_zone(name):
        raise ValueError(
            "[clinic] timezone (or BONDLINE_TIMEZONE) must be a time zone name such as "
            f"'Europe/Oslo' or 'America/Chicago', not {value!r}"
        )
    return "UTC" if name in _UTC_NAMES else name


_UTC_NAMES = {"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"}


@functools.lru_cache(maxsize=8)
def server_timezone(
    tz: str = "",
    localtime: Path = Path("/etc/localtime"),
    timezone_file: Path = Path("/etc/timezone"),
) -> str:
    """The server's own zone by name, the default for the clinic's: the TZ variable when
    it names a zone, else the zone /etc/localtime links to (the system's setting, what
    `timedatectl set-timezone` changes), else /etc/timezone (older Debian), else UTC.

    `datetime.now().astimezone()` would give only today's offset (no name, no summer
    time), so the name is read from where the system keeps it.
    """
    candidates = [tz]
    with contextlib.suppress(OSError):
        candidates.append(str(localtime.resolve(strict=True)))
    with contextlib.suppress(OSError):
        candidates.append(timezone_file.read_text().strip())
    for candidate in candidates:
        name = candidate.lstrip(":").partition("zoneinfo/")[2] or candidate.lstrip(":")
        if _known_zone(name):
            return "UTC" if name in _UTC_NAMES else name
    return "UTC"


def _known_zone(name: str) -> bool:
    """A zone name the tz database knows (not its file names "localtime" or "posixrules",
    which say nothing to a reader)."""
    if name in {"localtime", "posixrules", "Factory"}:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


AUDIT_KEY_SECTION = """
[audit]
# Keys the audit log's hash chain. Keep a copy apart from the database backups:
# without it the chain cannot be verified. Never commit this file.
key = "{key}"
"""


RESEARCH_SECTION = """
[research]
# The research extract's k: every couple shares what the extract shows about it
# (scores aside) with at least k - 1 other couples. At least 2; 5 unless you say.
k = 5
"""


def ensure_secrets_file(path: Path | None = None) -> bool:
    """Write a secrets file with a fresh 48-byte cookie key and audit key (and the
    research extract's k) when none exists; add the audit key or the [research] section
    to an older file that lacks one.

    Returns True when a file was written or changed. Run by `make run` on first start
    so a clinic never ships with a guessable key.
    """
    path = path or SECRETS_PATH
    if path.exists():
        present = _read_secrets(path)
        missing = [
            section.format(key=secrets.token_urlsafe(48))
            for name, section in (("audit", AUDIT_KEY_SECTION), ("research", RESEARCH_SECTION))
            if name not in present
        ]
        if not missing:
            return False
        with path.open("a") as fh:
            fh.write("".join(missing))
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(
        "# Generated on first run. Never commit this file.\n"
        "[auth]\n"
        f'cookie_key = "{key}"\n'
        'cookie_name = "bondline_auth"\n'
        "idle_timeout_minutes = 30\n"
        "session_limit_hours = 12\n"
        + AUDIT_KEY_SECTION.format(key=secrets.token_urlsafe(48))
        + RESEARCH_SECTION
    )
    path.chmod(0o600)
    return True
