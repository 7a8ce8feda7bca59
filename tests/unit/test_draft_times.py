"""A draft's time is read on the clinic's clock, its day included (Log session's offer,
'Your drafts' and 'Your unsaved drafts')."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.ui.session_drafts import _when

OSLO = ZoneInfo("Europe/Oslo")


def test_a_draft_kept_just_after_midnight_in_the_clinic_is_todays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """00:30 in Oslo is 23:30 UTC the day before: still 'today' on the clinic's clock,
    with no day in front of its time (UTC's date said yesterday)."""
    monkeypatch.setenv("BONDLINE_TIMEZONE", "Europe/Oslo")
    today = datetime.now(OSLO).date()
    half_past_midnight = datetime(today.year, today.month, today.day, 0, 30, tzinfo=OSLO)
    moment = half_past_midnight.astimezone(UTC)
    assert moment.date() != today  # the UTC day is the day before
    assert _when(moment) == "00:30"


def test_an_older_draft_gives_its_day_on_the_clinics_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BONDLINE_TIMEZONE", "Europe/Oslo")
    two_days_ago = datetime.now(OSLO).date() - timedelta(days=2)
    # 23:40 UTC is 00:40 the next day in Oslo (winter) or 01:40 (summer).
    moment = datetime(two_days_ago.year, two_days_ago.month, two_days_ago.day, 23, 40, tzinfo=UTC)
    local = moment.astimezone(OSLO)
    assert _when(moment) == f"{local:%d %b}, {local:%H:%M}"
    assert local.day != two_days_ago.day  # the clinic's day, not UTC's
