"""The overdue rule the caseload flags: active and more than three weeks unseen."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import load_settings
from dashboard.domain.caseload import OVERDUE_DAYS, is_overdue


def test_three_weeks_is_the_limit() -> None:
    assert OVERDUE_DAYS == 21


@pytest.mark.parametrize(("days", "overdue"), [(0, False), (21, False), (22, True), (400, True)])
def test_an_active_case_is_overdue_after_more_than_21_days(days: int, overdue: bool) -> None:
    assert is_overdue("active", days) is overdue


@pytest.mark.parametrize("status", ["paused", "closed"])
def test_paused_and_closed_cases_are_never_overdue(status: str) -> None:
    assert is_overdue(status, 400) is False


def test_a_clinic_sets_its_own_limit() -> None:
    assert is_overdue("active", 11, limit=10) is True
    assert is_overdue("active", 10, limit=10) is False


def test_the_limit_comes_from_secrets_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.delenv("BONDLINE_OVERDUE_DAYS", raising=False)
    assert load_settings(secrets).overdue_days == OVERDUE_DAYS  # no file: the default
    secrets.write_text("[clinic]\noverdue_days = 14\n")
    assert load_settings(secrets).overdue_days == 14
    monkeypatch.setenv("BONDLINE_OVERDUE_DAYS", "28")
    assert load_settings(secrets).overdue_days == 28


@pytest.mark.parametrize("bad", ["0", "366", "three weeks"])
def test_a_nonsense_limit_stops_the_app_naming_the_setting(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BONDLINE_OVERDUE_DAYS", bad)
    with pytest.raises(ValueError, match="overdue_days"):
        load_settings(tmp_path / "none.toml")


def test_the_clinic_name_printed_on_reports_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BONDLINE_CLINIC_NAME", raising=False)
    secrets = tmp_path / "secrets.toml"
    assert load_settings(secrets).clinic_name == "Bondline Demo Clinic"
    secrets.write_text('[clinic]\nname = "Zoë Ångström — Couples Practice"\n')
    assert load_settings(secrets).clinic_name == "Zoë Ångström — Couples Practice"
