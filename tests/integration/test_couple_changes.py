"""Every service write that changes a couple's record names that couple in its
transaction (db/engine.py touch_couples, dashboard/services/couple_changes.py): what
the page cache and the couple's summary row are refreshed from at commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from dashboard.domain.validation import CoupleInput
from dashboard.services import check_ins, couples, sessions
from db.engine import TOUCHED
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


@pytest.fixture
def committed(engine: Engine) -> Iterator[list[set[int]]]:
    """The couples each committed transaction named, in order (empty sets dropped)."""
    seen: list[set[int]] = []

    def note(conn: Connection) -> None:
        touched = conn.info.pop(TOUCHED, None)
        if touched:
            seen.append(set(touched))

    event.listen(engine, "commit", note)
    event.listen(engine, "rollback", lambda conn: conn.info.pop(TOUCHED, None))
    yield seen
    event.remove(engine, "commit", note)


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
