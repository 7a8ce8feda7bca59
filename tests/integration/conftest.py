"""Helpers shared by the integration tests: a valid session form, audit look-ups."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import BarrierTag, SessionInput
from db.engine import begin_write, make_sessionmaker
from db.models import AuditEvent, Barrier

# Every service call gets an explicit date, so no test depends on the clock.
TODAY = date(2026, 11, 1)


def full_ratings(value: int = 6) -> dict[str, int | None]:
    """All eight indicator items rated the same value."""
    return {i.key: value for i in INDICATORS}


@pytest.fixture
def barrier_ids(db: Session) -> dict[str, int]:
    """Seed barrier ids by code."""
    return {b.code: b.id for b in db.scalars(select(Barrier))}


@pytest.fixture
def make_input(barrier_ids: dict[str, int]) -> Callable[..., SessionInput]:
    """A factory for a valid joint session; keyword arguments override any field."""

    def factory(**overrides: Any) -> SessionInput:
        values: dict[str, Any] = {
            "session_date": date(2026, 3, 2),
            "duration_minutes": 50,
            "format": "in_person",
            "attendance": "both",
            "note_data": "They described a week of short answers.",
            "note_assessment": "Withdrawal when stressed.",
            "note_plan": "Practice a ten-minute check-in.",
            "stage": 2,
            "barriers": [BarrierTag(barrier_ids["stress_distraction"], 2, "New job")],
            "ratings": {"A": full_ratings(6), "B": full_ratings(4)},
            "habits_assigned": [],
        }
        values.update(overrides)
        return SessionInput(**values)

    return factory


@pytest.fixture
def other_db(engine: Engine) -> Iterator[Session]:
    """A second, independent database session: a colleague at another desk."""
    with make_sessionmaker(engine)() as session:
        yield session


AuditLookup = Callable[..., list[AuditEvent]]


@pytest.fixture
def audits(engine: Engine) -> AuditLookup:
    """Audit events matching the given column values, read through a fresh session."""

    def lookup(**where: Any) -> list[AuditEvent]:
        with make_sessionmaker(engine)() as fresh:
            query = select(AuditEvent).order_by(AuditEvent.id)
            for column, value in where.items():
                query = query.where(getattr(AuditEvent, column) == value)
            return list(fresh.scalars(query))

    return lookup


@pytest.fixture
def rows(engine: Engine) -> Callable[[type], int]:
    """How many rows a table holds, read through a fresh session.

    A fresh session also proves the service ended its transaction: on SQLite a write
    lock left behind would make this read wait and fail.
    """

    def counter(model: type) -> int:
        with make_sessionmaker(engine)() as fresh:
            return fresh.scalar(select(func.count()).select_from(model)) or 0

    return counter


def second_save_publishing_v1(
    db: Session, other_db: Session, publish_first_if_due: Callable[[Session], bool]
) -> list[bool | BaseException]:
    """Two saves that both find a clinic due for v1 at the same moment: the first
    publishes in `db` and has not committed when the second starts in `other_db`; then
    the first commits. What the second's publish_first_if_due returned (or raised)."""
    begin_write(db)
    assert publish_first_if_due(db)  # the first save, not yet committed
    second: list[bool | BaseException] = []

    def save() -> None:
        try:
            begin_write(other_db)
            second.append(publish_first_if_due(other_db))
            other_db.commit()
        except BaseException as exc:  # kept for the caller's assertion
            other_db.rollback()
            second.append(exc)

    worker = threading.Thread(target=save)
    worker.start()
    worker.join(timeout=1.0)  # it waits for the first save's transaction
    db.commit()
    worker.join(timeout=30)
    return second
