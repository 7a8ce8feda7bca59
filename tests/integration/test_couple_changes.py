"""Every service write that changes a couple's record names that couple in its
transaction (db/engine.py touch_couples, dashboard/services/couple_changes.py): what
the page cache and the couple's summary row are refreshed from at commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pytest
from sqlalchemy.orm import Session

from dashboard.domain.validation import CoupleInput
from dashboard.services import check_ins, couple_changes, couples, sessions
from db.engine import touch_couples
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


@pytest.fixture
def committed(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The couples each write named in its transaction, in order (the engine's commit
    hook consumes the set itself: db/engine.py, tests/integration/test_cache_scope.py)."""
    seen: list[set[int]] = []

    def touch(db: Session, couple_ids: Iterable[int]) -> None:
        ids = set(couple_ids)
        seen.append(ids)
        touch_couples(db, ids)

    monkeypatch.setattr(couple_changes, "touch_couples", touch)
    return seen


def test_session_and_couple_writes_name_their_couple(
    backend: str, db: Session, clinic: Clinic, make_input, committed: list[set[int]]
) -> None:
    mine = clinic.couple_id
    session_id = sessions.log_session(db, clinic.counselor, mine, make_input(), today=TODAY)
    assert committed[-1] == {mine}
    detail = couples.get_couple(db, clinic.counselor, mine, record_view=False)
    couples.change_status(
        db, clinic.counselor, mine, new_status="paused", expected_version=detail.version
    )
    assert committed[-1] == {mine}
    sessions.delete_session(db, clinic.counselor, session_id)
    assert committed[-1] == {mine}
    sessions.restore_session(db, clinic.admin, session_id)
    assert committed[-1] == {mine}
    new_id = couples.create_couple(
        db, clinic.counselor, CoupleInput("Cam", "Dee", date(2026, 2, 1), "", ""), today=TODAY
    )
    assert committed[-1] == {new_id}
    check_ins.create_check_in(
        db, clinic.counselor, new_id, partners={"A"}, initials={"A": "CA", "B": "DE"}
    )
    assert committed[-1] == {new_id}
    # The other counselor's couple was never named.
    assert all(clinic.other_couple_id not in ids for ids in committed[-6:])
