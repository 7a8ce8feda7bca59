"""The systemd units in deploy/ keep the promises README's "A real clinic" makes to the
administrator who installs them (no systemd runs in the suite: `systemd-analyze verify`
and a run of the app as an unprivileged user on a read-only copy were done by hand).

- Every unit that runs Bondline's code runs it as `bondline`, on a read-only file system
  (ProtectSystem=strict) but for the folders the README names, without new privileges.
- The backup writes where its unit lets it write, the folder the README makes.
- Restarting the schema upgrade (every upgrade does) restarts no replica: a replica does
  not Requires= it (systemd propagates a restart along Requires=), it checks it instead.
- The health check restarts a hung replica, never one an administrator stopped (the
  README's restore stops them).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CODE_UNITS = ["bondline@.service", "bondline-migrate.service", "bondline-backup.service"]


def unit(name: str) -> dict[str, list[str]]:
    """Each key's values in file order (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / name).read_text())
    keys: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


@pytest.mark.parametrize("name", CODE_UNITS)
def test_bondline_runs_its_code_unprivileged_on_a_read_only_system(name: str) -> None:
    keys = unit(name)
    assert any("/opt/bondline/.venv/bin/" in v for v in keys["ExecStart"])
    assert (keys["User"], keys["Group"]) == (["bondline"], ["bondline"])
    for setting, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "NoNewPrivileges": "true",
        "UMask": "0077",
    }.items():
        assert keys.get(setting) == [value], (name, setting)
    # What it may write besides its own /tmp: its state folder, /var/lib/bondline (the
    # README's `--home-dir`), and the backup folder; never the code.
    assert keys["StateDirectory"] == ["bondline"]
    assert "useradd --system --home-dir /var/lib/bondline" in (ROOT / "README.md").read_text()
    writable = " ".join(keys.get("ReadWritePaths", []))
    assert "/opt" not in writable and writable in ("", "/var/backups/bondline")


def test_the_backup_writes_into_the_folder_its_unit_and_the_readme_allow() -> None:
    keys = unit("bondline-backup.service")
    [command] = keys["ExecStart"]
    [out] = re.findall(r"--out (\S+)/", command)
    assert keys["ReadWritePaths"] == [out] == ["/var/backups/bondline"]
    readme = (ROOT / "README.md").read_text()
    assert f"install -d -o bondline -g bondline -m 0700 {out}`" in readme


def test_an_upgrade_restarts_no_replica_and_a_failed_one_keeps_them_down() -> None:
    keys = unit("bondline@.service")
    assert not any("bondline-migrate" in v for v in keys.get("Requires", []))
    assert not any("bondline-migrate" in v for v in keys.get("BindsTo", []))
    assert "bondline-migrate.service" in " ".join(keys["After"])
    assert keys["ExecStartPre"] == [
        "+/usr/bin/systemctl is-active --quiet bondline-migrate.service"
    ]


def test_the_health_check_never_starts_a_replica_an_administrator_stopped() -> None:
    [command] = unit("bondline-health@.service")["ExecStart"]
    assert "/_stcore/health" in command
    assert command.endswith("|| systemctl try-restart bondline@%i'")


def test_the_readme_restore_migrates_before_it_starts_the_replicas() -> None:
    """A backup made before an upgrade holds the older schema: the restore recipe stops
    the replicas, restores, upgrades the schema once (bondline-migrate), and only then
    starts the replicas, which would otherwise race to upgrade it at their first load."""
    readme = (ROOT / "README.md").read_text()
    recipe = " ".join(readme[readme.index("- **Restore**") :].split("\n## ")[0].split())
    steps = [
        "systemctl stop bondline@8501 bondline@8502",
        "dashboard restore --from FILE)",
        "systemctl restart bondline-migrate",
        "systemctl start bondline@8501 bondline@8502",
    ]
    where = [recipe.find(step) for step in steps]
    assert -1 not in where
    assert where == sorted(where)


def _prune(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The backup unit's retention command (ExecStartPost) run by sh on `folder`, with
    systemd's own escapes undone ($$ is $, %% is %)."""
    [command] = unit("bondline-backup.service")["ExecStartPost"]
    argv = shlex.split(command.replace("$$", "$").replace("%%", "%"))
    assert argv[:2] == ["/bin/sh", "-c"]
    script = argv[2].replace("/var/backups/bondline", str(folder))
    return subprocess.run(
        ["/bin/sh", "-c", script], env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def _aged(folder: Path, name: str, days: float) -> Path:
    path = folder / name
    path.write_bytes(b"x")
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


def test_the_backup_unit_keeps_its_backups_for_the_configured_days_and_nothing_else(
    tmp_path: Path,
) -> None:
    """Default 30 days: a backup 31 days old goes, one 29 days old stays; files that are
    not the unit's own backups stay whatever their age; another value is honoured and a
    value that is not a number of days deletes nothing and fails the unit."""
    old = _aged(tmp_path, "bondline-2026-10-01-0230.backup", 31)
    recent = _aged(tmp_path, "bondline-2026-11-03-0230.backup", 29)
    others = [
        _aged(tmp_path, "clinic-export.backup", 90),
        _aged(tmp_path, ".bondline-2026-09-01-0230.backup.partial", 90),
        _aged(tmp_path, "bondline-2026-09-01.sqlite3", 90),
    ]
    (tmp_path / "kept-by-hand").mkdir()
    by_hand = _aged(tmp_path / "kept-by-hand", "bondline-2026-01-01-0230.backup", 300)

    wrong = _prune(tmp_path, BONDLINE_BACKUP_KEEP_DAYS="thirty")
    assert wrong.returncode != 0
    assert "BONDLINE_BACKUP_KEEP_DAYS must be a whole number of days" in wrong.stderr
    for refused in ("0", "030", "-5"):  # "030" would be octal 24 to the shell
        assert _prune(tmp_path, BONDLINE_BACKUP_KEEP_DAYS=refused).returncode != 0
    assert old.exists()

    done = _prune(tmp_path)  # unset: 30 days
    assert done.returncode == 0, done.stderr
    assert not old.exists()
    assert recent.exists() and by_hand.exists() and all(p.exists() for p in others)

    assert _prune(tmp_path, BONDLINE_BACKUP_KEEP_DAYS="7").returncode == 0
    assert not recent.exists()
    assert by_hand.exists() and all(p.exists() for p in others)
