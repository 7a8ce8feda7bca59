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

import re
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
