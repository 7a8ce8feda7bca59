"""A counselor saving sessions as fast as the service takes them, for the crash test.

Run as `python -m tests.integration.crash_writer URL COUPLE_ID COUNSELOR_ID BARRIER_ID`:
after each save returns (committed), it prints `ACK <session id> <marker>` and flushes,
so the parent knows exactly which saves were acknowledged when it kills this process.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta

from sqlalchemy import func, select

from dashboard.domain.catalog import Role
from dashboard.domain.validation import BarrierTag, SessionInput
from dashboard.services import sessions
from dashboard.services.actor import Actor
from db.engine import make_engine, make_sessionmaker
from db.models import Couple, CoupleSession
from tests.integration.conftest import full_ratings

TODAY = date(2030, 1, 1)  # room for a session a day, however many runs


def main(url: str, couple_id: int, counselor_id: int, barrier_id: int) -> None:
    counselor = Actor(counselor_id, "cara.couns", "Cara Couns", Role.COUNSELOR)
    factory = make_sessionmaker(make_engine(url))
    with factory() as db:
        intake = db.get_one(Couple, couple_id).intake_date
        last = db.scalar(select(func.max(CoupleSession.session_date))) or intake
        db.rollback()
        day = last
        while True:
            day += timedelta(days=1)
            marker = f"crash-test {day.isoformat()}"
            inp = SessionInput(
                session_date=day,
                duration_minutes=50,
                format="in_person",
                attendance="both",
                note_data=marker,
                note_assessment="Withdrawal when stressed.",
                note_plan="Practice a ten-minute check-in.",
                stage=2,
                barriers=[BarrierTag(barrier_id, 2, "New job")],
                ratings={"A": full_ratings(6), "B": full_ratings(4)},
            )
            session_id = sessions.log_session(db, counselor, couple_id, inp, today=TODAY)
            print(f"ACK {session_id} {marker}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:5]))
