"""How long a failed sign-in makes the next attempt wait: guessing is slowed, and a
stranger's failures can never keep an account's owner out for more than a moment.

Counted over the last 15 minutes (WINDOW), since the name's last successful sign-in or
an admin's unlock; an attempt refused for waiting is not a failure and adds nothing.
With n failures counted, the next attempt waits, from the latest of them:

- this device, this name: nothing while n < 3; then 2**(n - 3) s (1 s at the 3rd
  failure, 2 s at the 4th, ...), at most 5 minutes;
- any other device, this name: nothing while n < 10; then 2**(n - 10) s, at most 30 s:
  the owner signing in from their own desk waits at most 30 s after an attacker's
  latest try, and the attacker's own device may try only once every 5 minutes;
- this device, any names (a device spraying guesses over many accounts): nothing while
  n < 20; then 2**(n - 20) s, at most 15 minutes.

The thresholds are inclusive: the wait starts at exactly 3, 10 and 20 failures.

Left open: many devices (a botnet) each failing at least every 30 s could keep the
owner waiting; one device cannot. An admin clears a name's count (Admin -> Users).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
UNKNOWN_DEVICE = "unknown"  # no address to be seen (no browser attached)


@dataclass(frozen=True)
class Rule:
    free: int  # failures counted before any wait
    cap: timedelta  # the longest wait


THIS_DEVICE_THIS_NAME = Rule(free=3, cap=timedelta(minutes=5))
ANY_DEVICE_THIS_NAME = Rule(free=10, cap=timedelta(seconds=30))
THIS_DEVICE_ANY_NAME = Rule(free=20, cap=timedelta(minutes=15))


@dataclass(frozen=True)
class Failures:
    """Failures counted for one scope, and when the latest was."""

    count: int
    latest: datetime | None


def wait(failures: Failures, rule: Rule) -> timedelta:
    """The wait `failures` impose under `rule`, from the latest of them."""
    if failures.count < rule.free:
        return timedelta(0)
    # 2**k grows past any cap long before k gets large; the min keeps it bounded.
    return min(rule.cap, timedelta(seconds=2 ** min(failures.count - rule.free, 30)))


def retry_at(
    now: datetime, *, device_name: Failures, name: Failures, device: Failures
) -> datetime | None:
    """When this device may try this name again; None when it may try now.

    `name` counts every device's failures for the name: the other-device rule applies
    to them, while this device's own failures for it fall under the stricter rule.
    """
    until = [
        f.latest + wait(f, rule)
        for f, rule in (
            (device_name, THIS_DEVICE_THIS_NAME),
            (name, ANY_DEVICE_THIS_NAME),
            (device, THIS_DEVICE_ANY_NAME),
        )
        if f.latest is not None
    ]
    latest = max(until, default=None)
    return latest if latest is not None and latest > now else None


def device_of(address: object) -> str:
    """The device key for an address: IPv4 as is, IPv6 as its /64 network (one
    household or office holds a whole /64), anything else "unknown"."""
    if not isinstance(address, str) or not address:
        return UNKNOWN_DEVICE
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
