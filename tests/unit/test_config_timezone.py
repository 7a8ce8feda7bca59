"""The clinic's time zone: `[clinic] timezone`, BONDLINE_TIMEZONE, else the server's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.config import load_settings, server_timezone
from dashboard.ui.clinic_time import in_zone, zone_note

MOMENT = datetime(2026, 12, 6, 11, 25, tzinfo=UTC)


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BONDLINE_TIMEZONE", raising=False)
    return tmp_path / "secrets.toml"


def test_the_clinic_section_names_the_zone(secrets: Path) -> None:
    secrets.write_text('[clinic]\ntimezone = "Europe/Oslo"\n')
    assert load_settings(secrets).timezone == "Europe/Oslo"


def test_the_environment_wins_over_the_file(secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.write_text('[clinic]\ntimezone = "Europe/Oslo"\n')
    monkeypatch.setenv("BONDLINE_TIMEZONE", "America/Chicago")
    assert load_settings(secrets).timezone == "America/Chicago"


def test_without_a_setting_the_servers_zone_is_used(
    secrets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Australia/Perth")
    assert load_settings(secrets).timezone == "Australia/Perth"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "Europe/Olso", "../etc/passwd", "localtime", "+01:00"]
)
def test_an_unknown_zone_stops_the_start_naming_the_setting(
    secrets: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    secrets.write_text(f'[clinic]\ntimezone = "{name}"\n')
    with pytest.raises(ValueError, match=r"\[clinic\] timezone \(or BONDLINE_TIMEZONE\)"):
        load_settings(secrets)
    secrets.unlink()
    monkeypatch.setenv("BONDLINE_TIMEZONE", name)
    with pytest.raises(ValueError, match=f"not '{re.escape(name)}'"):
        load_settings(secrets)


def test_the_servers_zone_is_where_etc_localtime_points(tmp_path: Path) -> None:
    zoneinfo = tmp_path / "usr" / "share" / "zoneinfo" / "Europe"
    zoneinfo.mkdir(parents=True)
    (zoneinfo / "Oslo").write_bytes(b"TZif")
    localtime = tmp_path / "localtime"
    localtime.symlink_to(zoneinfo / "Oslo")
    assert server_timezone("", localtime, tmp_path / "no-timezone") == "Europe/Oslo"


def test_the_servers_zone_from_tz_then_etc_timezone_then_utc(tmp_path: Path) -> None:
    nowhere = tmp_path / "missing"
    assert server_timezone(":Asia/Tokyo", nowhere, nowhere) == "Asia/Tokyo"
    assert server_timezone("/usr/share/zoneinfo/Asia/Tokyo", nowhere, nowhere) == "Asia/Tokyo"
    timezone_file = tmp_path / "timezone"
    timezone_file.write_text("America/Sao_Paulo\n")
    assert server_timezone("", nowhere, timezone_file) == "America/Sao_Paulo"
    assert server_timezone("not a zone", nowhere, nowhere) == "UTC"
    assert server_timezone("Etc/UTC", nowhere, nowhere) == "UTC"


@pytest.mark.parametrize(
    ("zone", "fmt", "shown"),
    [
        ("Europe/Oslo", "%H:%M", "12:25"),  # winter: UTC+1
        ("America/New_York", "%H:%M", "06:25"),  # UTC-5
        ("Asia/Kolkata", "%d %b %Y, %H:%M", "06 Dec 2026, 16:55"),  # UTC+5:30
        ("Pacific/Auckland", "%d %b %Y, %H:%M", "07 Dec 2026, 00:25"),  # the next day
        ("UTC", "%H:%M", "11:25"),
    ],
)
def test_a_moment_in_the_clinics_zone(zone: str, fmt: str, shown: str) -> None:
    assert in_zone(MOMENT, zone, fmt) == shown


def test_summer_time_is_the_zones_own() -> None:
    assert in_zone(datetime(2026, 7, 1, 11, 25, tzinfo=UTC), "Europe/Oslo", "%H:%M") == "13:25"


def test_a_stored_moment_without_a_zone_is_utc() -> None:
    assert in_zone(datetime(2026, 12, 6, 11, 25), "Europe/Oslo", "%H:%M") == "12:25"


def test_the_page_says_the_zone_by_name() -> None:
    assert zone_note("Europe/Oslo") == "Times in Europe/Oslo"
