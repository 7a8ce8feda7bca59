"""One rounding rule for every number a person reads: half up, as counted by hand.

Python's `round` and `f"{x:.1f}"` round half to even on the binary value, so an EII of
51.25 printed 51.2 in one place and 51.3 in a chart drawn by the browser (which rounds
half up). Every shown number goes through here instead: the decimal value a person
would write down (binary noise beyond nine places dropped first, so 4.999999999999998
is 5), then half away from zero (51.25 -> 51.3, 43.75 -> 43.8, -5.25 -> -5.3).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NOISE_PLACES = 9  # decimals below this are float noise, never a person's digits


def half_up(value: float, places: int = 1) -> float:
    """`value` rounded to `places` decimals, half away from zero. NaN and infinities
    come back as they are."""
    if not math.isfinite(value):
        return value
    exact = Decimal(f"{value:.{NOISE_PLACES}f}")
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def shown(value: float, places: int = 1, *, signed: bool = False) -> str:
    """The text of a number as shown everywhere: half up, `places` decimals; "+" before a
    positive change when `signed`; a true minus sign."""
    rounded = half_up(value, places)
    if rounded == 0:
        rounded = 0.0  # never "-0.0"
    sign = "+" if signed else ""
    return f"{rounded:{sign}.{places}f}".replace("-", "−")


def one_decimal(value: float) -> str:
    """An EII, a mean, a total: 51.25 -> "51.3"."""
    return shown(value, 1)


def as_written(value: float) -> str:
    """A threshold or cutoff as printed everywhere (text, chart labels, the report): one
    decimal, two when the second one matters (62.0, 13.5, 47.31, 58.58), so a chart
    never says 58.6 where the text says 58.58."""
    return shown(value, 1) if half_up(value, 1) == half_up(value, 2) else shown(value, 2)
