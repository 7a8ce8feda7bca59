"""Scores computed from indicator ratings (DOMAIN.md, Scoring)."""

from __future__ import annotations

from collections.abc import Mapping

from dashboard.domain.catalog import INDICATOR_BY_KEY, INDICATORS, RATING_MAX

EII_MIN_ITEMS = 6


def item_score(key: str, value: float) -> float:
    """A rating on the 'higher is better' side: warning signs are reverse-scored."""
    return RATING_MAX - value if INDICATOR_BY_KEY[key].reverse_scored else value


def partner_eii(ratings: Mapping[str, float | None]) -> float | None:
    """Emotional Intimacy Index 0-100 of one partner at one session.

    Mean of the eight items after reverse-scoring the warning signs, scaled to 0-100;
    None when fewer than 6 of the 8 items were rated, so a thin rating never poses as
    a score.
    """
    scored = [
        item_score(i.key, ratings[i.key]) for i in INDICATORS if ratings.get(i.key) is not None
    ]
    if len(scored) < EII_MIN_ITEMS:
        return None
    return sum(scored) / len(scored) * (100 / RATING_MAX)


def couple_eii(eii_a: float | None, eii_b: float | None) -> float | None:
    """Mean of both partners' EII; None unless both have one."""
    if eii_a is None or eii_b is None:
        return None
    return (eii_a + eii_b) / 2


def discrepancy(eii_a: float | None, eii_b: float | None) -> float | None:
    if eii_a is None or eii_b is None:
        return None
    return abs(eii_a - eii_b)
