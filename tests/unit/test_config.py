"""The secrets file `make run` writes, and what it adds to an older one."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dashboard.config import ensure_secrets_file, load_settings


def test_a_new_file_gets_two_different_long_keys_and_k_5(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    assert ensure_secrets_file(path) is True
    data = tomllib.loads(path.read_text())
    keys = [data["auth"]["cookie_key"], data["audit"]["key"]]
    assert all(len(key) >= 48 for key in keys) and len(set(keys)) == 2
    assert data["research"] == {"k": 5}  # the extract needs no key: it has no dates to shift
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_secrets_file(path) is False  # nothing more to add


def test_an_older_file_gets_the_missing_research_section_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secrets.toml"
    older = '[auth]\ncookie_key = "kept-cookie-key"\n\n[audit]\nkey = "kept-audit-key"\n'
    path.write_text(older)
    assert ensure_secrets_file(path) is True
    text = path.read_text()
    assert text.startswith(older)
    data = tomllib.loads(text)
    assert data["audit"]["key"] == "kept-audit-key"
    assert data["research"]["k"] == 5


@pytest.mark.parametrize("k", ["1", "0", "-3", "five"])
def test_a_research_k_below_2_stops_the_app_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: str
) -> None:
    """k = 1 would let a couple be unique: refused at start, naming the setting."""
    monkeypatch.setenv("BONDLINE_RESEARCH_K", k)
    with pytest.raises(
        ValueError,
        match=r"\[research\] k \(or BONDLINE_RESEARCH_K\) must be a whole number of couples from 2 to 1000",
    ):
        load_settings(tmp_path / "none.toml")


def test_research_k_comes_from_the_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text("[research]\nk = 8\n")
    monkeypatch.delenv("BONDLINE_RESEARCH_K", raising=False)
    assert load_settings(tmp_path / "none.toml").research_k == 5  # the default
    assert load_settings(path).research_k == 8
    monkeypatch.setenv("BONDLINE_RESEARCH_K", "12")
    assert load_settings(path).research_k == 12
