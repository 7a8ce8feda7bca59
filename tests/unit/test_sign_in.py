"""The sign-in waits, with their boundaries as literals (dashboard/domain/sign_in.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.sign_in import (
    ANY_DEVICE_THIS_NAME,
    THIS_DEVICE_ANY_NAME,
    THIS_DEVICE_THIS_NAME,
    Failures,
    device_of,
    retry_at,
    wait,
)

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NONE = Failures(0, None)


@pytest.mark.parametrize(
    ("rule", "failures", "seconds"),
    [
        (THIS_DEVICE_THIS_NAME, 2, 0),
        (THIS_DEVICE_THIS_NAME, 3, 1),  # inclusive: the 3rd failure starts a 2**0 s wait
        (THIS_DEVICE_THIS_NAME, 4, 2),
        (THIS_DEVICE_THIS_NAME, 11, 256),
        (THIS_DEVICE_THIS_NAME, 12, 300),  # 2**9 = 512, capped at 5 min
        (ANY_DEVICE_THIS_NAME, 9, 0),
        (ANY_DEVICE_THIS_NAME, 10, 1),
        (ANY_DEVICE_THIS_NAME, 14, 16),
        (ANY_DEVICE_THIS_NAME, 15, 30),  # 2**5 = 32, capped at 30 s
        (ANY_DEVICE_THIS_NAME, 10_000, 30),
        (THIS_DEVICE_ANY_NAME, 19, 0),
        (THIS_DEVICE_ANY_NAME, 20, 1),
        (THIS_DEVICE_ANY_NAME, 30, 900),  # 2**10 = 1024, capped at 15 min
    ],
)
def test_waits_double_from_each_threshold_up_to_the_cap(rule, failures, seconds) -> None:
    assert wait(Failures(failures, NOW), rule) == timedelta(seconds=seconds)


def test_the_longest_wait_of_the_three_counts_and_a_past_one_is_none() -> None:
    latest = NOW - timedelta(seconds=10)
    twelve = Failures(12, latest)
    # 12 here (300 s) beats 12 for the name (4 s) and 12 for the device (nothing yet).
    assert retry_at(NOW, device_name=twelve, name=twelve, device=twelve) == latest + timedelta(
        seconds=300
    )
    # A stranger's device after 15 failures for the name: the name's 30 s only.
    fifteen = Failures(15, latest)
    end = latest + timedelta(seconds=30)
    assert retry_at(NOW, device_name=NONE, name=fifteen, device=NONE) == end
    # The wait ends at its end: that very moment may try.
    assert retry_at(end, device_name=NONE, name=fifteen, device=NONE) is None
    assert retry_at(NOW, device_name=NONE, name=NONE, device=NONE) is None


@pytest.mark.parametrize(
    ("address", "device"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # same /64: one household
        ("", "unknown"),
        (None, "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_devices_are_addresses_and_ipv6_counts_by_its_64(address, device) -> None:
    assert device_of(address) == device
