"""The EIIs stored on each session row equal partner_eii of that session's ratings.

Whoever writes ratings keeps them right: the session service (log and edit), the demo
loaders (load_demo, load_clinic) and migration 0004's SQL backfill of existing rows.
Equality is exact (==), not approximate: the SQL does the same float operations in the
same order as the Python. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from dashboard import demo
from dashboard.domain.catalog import INDICATORS
from dashboard.domain.scoring import partner_eii
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions
from db.engine import make_engine
from db.migrate import alembic_config, upgrade_head
from db.models import CoupleSession, IndicatorRating
from tests.conftest import Clinic, writing
from tests.integration.conftest import TODAY, full_ratings

KEYS = [i.key for i in INDICATORS]


def ratings_by_session(db: Session) -> dict[int, dict[str, dict[str, int]]]:
    """Every session's ratings, per partner, in one query."""
    found: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: {"A": {}, "B": {}})
    for session_id, partner, item, value in db.execute(
        select(
            IndicatorRating.session_id,
            IndicatorRating.partner,
            IndicatorRating.item,
            IndicatorRating.value,
        )
    ):
        found[session_id][partner][item] = value
    return found


def stored(db: Session) -> dict[int, tuple[float | None, float | None]]:
    """Every session's stored (eii_a, eii_b), in one query."""
    rows = db.execute(select(CoupleSession.id, CoupleSession.eii_a, CoupleSession.eii_b))
    return {sid: (a, b) for sid, a, b in rows}


def assert_stored_equal_computed(db: Session) -> int:
    """Exact equality for every session; returns how many sessions have an EII."""
    db.expire_all()
    ratings = ratings_by_session(db)
    with_eii = 0
    for sid, (eii_a, eii_b) in stored(db).items():
        given = ratings.get(sid, {"A": {}, "B": {}})
        expected = (partner_eii(given["A"]), partner_eii(given["B"]))
        assert (eii_a, eii_b) == expected, sid
        with_eii += eii_a is not None or eii_b is not None
    return with_eii


def some(values: list[int], keys: list[str] = KEYS) -> dict[str, int | None]:
    """The first len(values) items rated; the rest left blank."""
    rated: dict[str, int | None] = dict.fromkeys(keys)
    rated.update(zip(keys, values, strict=False))
    return rated


# --- the session service --------------------------------------------------------------


def row_of(db: Session, session_id: int) -> CoupleSession:
    db.expire_all()
    row = db.get(CoupleSession, session_id)
    assert row is not None
    return row


def test_logging_a_session_stores_each_partners_eii(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    # A: all eight, with uneven values and warning signs; B: exactly six items.
    a = dict(zip(KEYS, [7, 3, 9, 2, 8, 1, 6, 4], strict=True))
    b = some([5, 9, 0, 10, 3, 7])
    sid = sessions.log_session(
        db, clinic.counselor, clinic.couple_id, make_input(ratings={"A": a, "B": b}), today=TODAY
    )
    row = row_of(db, sid)
    assert row.eii_a == partner_eii(a)
    assert row.eii_b == partner_eii(b)
    assert row.eii_a is not None and row.eii_b is not None
    assert assert_stored_equal_computed(db) == 1


def test_fewer_than_six_items_store_no_eii(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    sid = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(ratings={"A": some([5, 6, 7, 8, 9]), "B": some([])}),
        today=TODAY,
    )
    row = row_of(db, sid)
    assert (row.eii_a, row.eii_b) == (None, None)
    assert_stored_equal_computed(db)


def test_an_edit_keeps_the_stored_eii_right(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    sid = sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
    row = row_of(db, sid)
    assert (row.eii_a, row.eii_b) == (partner_eii(full_ratings(6)), partner_eii(full_ratings(4)))

    # Changed values: both follow.
    a = dict(zip(KEYS, [10, 9, 8, 7, 6, 5, 4, 3], strict=True))
    b = some([2, 4, 6, 8, 10, 0, 1])
    sessions.update_session(
        db,
        clinic.counselor,
        sid,
        make_input(ratings={"A": a, "B": b}),
        expected_version=row.version,
        today=TODAY,
    )
    row = row_of(db, sid)
    assert (row.eii_a, row.eii_b) == (partner_eii(a), partner_eii(b))
    assert row.eii_a is not None and row.eii_b is not None

    # Ratings removed below six items: the stored EII goes back to None.
    sessions.update_session(
        db,
        clinic.counselor,
        sid,
        make_input(ratings={"A": some([3, 3, 3]), "B": some([])}),
        expected_version=row.version,
        today=TODAY,
    )
    row = row_of(db, sid)
    assert (row.eii_a, row.eii_b) == (None, None)
    assert db.scalar(select(IndicatorRating.id).where(IndicatorRating.partner == "B")) is None
    assert_stored_equal_computed(db)


# --- the demo loaders ------------------------------------------------------------------


def test_every_demo_session_stores_the_eii_of_its_ratings(db: Session, backend: str) -> None:
    summary = demo.load_demo(db, seed=2026, today=date(2026, 11, 1), bcrypt_rounds=4)
    db.commit()
    with_eii = assert_stored_equal_computed(db)
    assert len(stored(db)) == summary.sessions
    assert with_eii > summary.sessions // 2


def test_every_load_clinic_session_stores_the_eii_of_its_ratings(db: Session, backend: str) -> None:
    summary = demo.load_clinic(
        db, seed=7, today=date(2026, 11, 1), counselors=3, couples=20, target_sessions=300
    )
    db.commit()
    with_eii = assert_stored_equal_computed(db)
    assert len(stored(db)) == summary.sessions
    assert with_eii > summary.sessions // 2


# --- migration 0004's backfill ---------------------------------------------------------


# session id -> (partner A's ratings, partner B's ratings), written at 0003 with plain SQL.
BEFORE_0004: dict[int, tuple[dict[str, int], dict[str, int]]] = {
    1: (dict(zip(KEYS, [7, 3, 9, 2, 8, 1, 6, 4], strict=True)), {k: 5 for k in KEYS[:6]}),
    2: ({k: 10 for k in KEYS}, {k: 0 for k in KEYS}),
    3: (dict(zip(KEYS[2:], [1, 9, 4, 7, 3, 8], strict=True)), {k: 6 for k in KEYS[:5]}),
    4: (dict(zip(KEYS[:7], [9, 8, 2, 5, 6, 0, 10], strict=True)), {}),
    5: ({}, dict(zip(KEYS, [4, 7, 1, 10, 3, 9, 2, 6], strict=True))),
}


def test_migration_0004_backfills_the_eii_partner_eii_would_give(
    empty_url: str, backend: str
) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, "0003")

    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, email, role, password_hash,"
                    " active, created_at) VALUES (1, 'cara', 'Cara', 'cara@example.org',"
                    " 'counselor', 'x', true, :at)"
                ),
                {"at": "2026-01-01 09:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO couples (id, case_code, partner_a_name, partner_b_name,"
                    " counselor_id, intake_date, status, presenting_concerns, goals,"
                    " created_at, updated_at, version) VALUES (1, 'C-1', 'Alex', 'Blair', 1,"
                    " :day, 'active', '', '', :at, :at, 1)"
                ),
                {"day": date(2026, 1, 5), "at": "2026-01-05 09:00:00"},
            )
            for sid in BEFORE_0004:
                conn.execute(
                    text(
                        "INSERT INTO sessions (id, couple_id, session_date, format, attendance,"
                        " note_data, note_assessment, note_plan, safety_flag, created_by,"
                        " created_at, updated_at, version) VALUES (:id, 1, :day, 'in_person',"
                        " 'both', '', '', '', false, 1, :at, :at, 1)"
                    ),
                    {"id": sid, "day": date(2026, 2, sid), "at": "2026-02-01 09:00:00"},
                )
            conn.execute(
                text(
                    "INSERT INTO indicator_ratings (session_id, partner, item, value)"
                    " VALUES (:sid, :partner, :item, :value)"
                ),
                [
                    {"sid": sid, "partner": partner, "item": item, "value": value}
                    for sid, pair in BEFORE_0004.items()
                    for partner, given in zip("AB", pair, strict=True)
                    for item, value in given.items()
                ],
            )
        upgrade_head(empty_url)
        with engine.connect() as conn:
            backfilled = {
                sid: (a, b)
                for sid, a, b in conn.execute(
                    text("SELECT id, eii_a, eii_b FROM sessions ORDER BY id")
                )
            }
    finally:
        engine.dispose()

    expected = {sid: (partner_eii(a), partner_eii(b)) for sid, (a, b) in BEFORE_0004.items()}
    assert backfilled == expected  # exact, not approximate
    # The cases the fixture is built to reach: complete, exactly six, five, none.
    assert expected[1][1] is not None and expected[3][0] is not None
    assert expected[3][1] is None and expected[4][1] is None and expected[5][0] is None
    # Uneven means (repeating binary fractions), where a differently ordered float sum
    # or a NUMERIC average would round differently.
    assert expected[4][0] == 40 / 7 * 10


def test_migration_0004_steps_down_dropping_only_its_columns(empty_url: str, backend: str) -> None:
    upgrade_head(empty_url)
    config = alembic_config(empty_url)
    engine = make_engine(empty_url)

    def columns() -> set[str]:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("sessions")}

    try:
        assert {"eii_a", "eii_b"} <= columns()
        command.downgrade(config, "0003")
        assert not {"eii_a", "eii_b"} & columns()
        assert "attendance" in columns()
        upgrade_head(empty_url)
        assert {"eii_a", "eii_b"} <= columns()
    finally:
        engine.dispose()
