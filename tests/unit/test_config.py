"""The secrets file `make run` writes, and what it adds to an older one."""

from __future__ import annotations

import tomllib
from pathlib import Path

from dashboard.config import ensure_secrets_file


def test_a_new_file_gets_three_different_long_keys(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    assert ensure_secrets_file(path) is True
    data = tomllib.loads(path.read_text())
    keys = [data["auth"]["cookie_key"], data["audit"]["key"], data["research"]["key"]]
    assert all(len(key) >= 48 for key in keys) and len(set(keys)) == 3
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_secrets_file(path) is False  # nothing more to add


def test_an_older_file_gets_the_missing_research_key_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    older = '[auth]\ncookie_key = "kept-cookie-key"\n\n[audit]\nkey = "kept-audit-key"\n'
    path.write_text(older)
    assert ensure_secrets_file(path) is True
    text = path.read_text()
    assert text.startswith(older)
    data = tomllib.loads(text)
    assert data["audit"]["key"] == "kept-audit-key"
    assert len(data["research"]["key"]) >= 48
