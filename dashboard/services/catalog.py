"""The barrier catalog as the clinic holds it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from dashboard.domain.catalog import SEED_BARRIERS
from db.engine import begin_write
from db.models import Barrier


def ensure_seed_barriers(db: DbSession) -> int:
    """Insert the seed's four barriers when missing; returns how many were added.

    Run after every migration, so a fresh clinic always has them. Never reactivates or
    renames one an admin changed.
    """
    begin_write(db)
    existing = set(db.scalars(select(Barrier.code)).all())
    added = 0
    for order, seed in enumerate(SEED_BARRIERS, start=1):
        if seed.code not in existing:
            db.add(
                Barrier(
                    code=seed.code,
                    name=seed.name,
                    description=seed.description,
                    is_seed=True,
                    active=True,
                    sort_order=order,
                )
            )
            added += 1
    db.commit()
    return added
