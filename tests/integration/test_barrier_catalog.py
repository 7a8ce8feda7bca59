"""The clinic's barrier catalog: the seed's four are always there, and an admin's
changes to them survive every start-up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.catalog import SEED_BARRIERS
from dashboard.services.catalog import ensure_seed_barriers
from db.engine import begin_write
from db.models import Barrier


def test_a_migrated_clinic_has_the_four_seed_barriers(db: Session, backend: str) -> None:
    rows = db.scalars(select(Barrier).order_by(Barrier.sort_order)).all()
    assert [(b.code, b.name, b.is_seed, b.active) for b in rows] == [
        (s.code, s.name, True, True) for s in SEED_BARRIERS
    ]
    db.commit()


def test_seeding_again_adds_nothing(db: Session, rows, backend: str) -> None:
    assert ensure_seed_barriers(db) == 0
    assert rows(Barrier) == 4


def test_seeding_never_undoes_an_admins_changes(db: Session, backend: str) -> None:
    begin_write(db)
    barrier = db.scalars(select(Barrier).where(Barrier.code == "stress_distraction")).one()
    barrier.active = False
    barrier.name = "Stress, overwork and distraction"
    db.commit()
    ensure_seed_barriers(db)
    db.refresh(barrier)
    assert (barrier.active, barrier.name) == (False, "Stress, overwork and distraction")
    db.commit()


def test_a_missing_seed_barrier_is_put_back(db: Session, rows, backend: str) -> None:
    begin_write(db)
    db.delete(db.scalars(select(Barrier).where(Barrier.code == "fear_of_vulnerability")).one())
    db.commit()
    assert ensure_seed_barriers(db) == 1
    assert rows(Barrier) == 4
