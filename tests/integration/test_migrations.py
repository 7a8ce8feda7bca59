"""Migrations and the database's own guards.

`alembic upgrade head` on an empty database builds the schema the models describe; the
SQLite engine is tuned for several users; CHECK constraints and foreign keys refuse bad
rows even when no service stands in the way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions
from db.engine import SQLITE_BUSY_TIMEOUT_MS, WRITE_OPTION, begin_write, make_engine
from db.migrate import alembic_config, upgrade_head
from db.models import Base
from tests.conftest import Clinic, writing

TODAY = date(2026, 11, 1)


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_on_an_empty_database_creates_every_table(empty_url: str) -> None:
    assert table_names(empty_url) == set()
    upgrade_head(empty_url)
    assert table_names(empty_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_the_models(empty_url: str) -> None:
    """A model changed without a migration shows up here as a difference."""
    upgrade_head(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(empty_url: str) -> None:
    upgrade_head(empty_url)
    config = alembic_config(empty_url)
    command.downgrade(config, "base")
    assert table_names(empty_url) <= {"alembic_version"}
    upgrade_head(empty_url)
    assert set(Base.metadata.tables) <= table_names(empty_url)


def test_later_migrations_step_down_and_up_keeping_the_data(empty_url: str, backend: str) -> None:
    """Each migration after 0001 adds only its tables; stepping back drops only them."""
    upgrade_head(empty_url)
    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO barriers (code, name, description, is_seed, active, sort_order)"
                    " VALUES ('kept', 'Kept', '', false, true, 1)"
                )
            )
    finally:
        engine.dispose()
    config = alembic_config(empty_url)
    # Each later migration adds exactly these tables; stepping down drops only them.
    added = {
        "0020": set(),  # couple_summaries: typed figure columns instead of JSON, no table
        "0019": {"couple_summaries"},
        "0018": {"data_scope_versions"},
        "0017": {"expected_courses"},
        "0016": {"clinic_norms"},
        "0015": set(),  # columns source_a / source_b on sessions, no table
        "0014": set(),  # supervision reviews' stored keys renamed, no table
        "0013": set(),  # session_drafts become versions: columns, no table
        "0012": {"check_ins", "check_in_partners", "check_in_guesses"},
        "0011": set(),  # column sso_subject on users, no table
        "0010": {"sign_in_failures"},
        "0009": {"text_cleanups"},
        "0008": {"audit_chain_head"},
        "0007": {"clinic_data_version"},
        "0006": {"session_drafts"},
        "0005": {"supervision_reviews"},
        "0004": set(),  # columns eii_a / eii_b on sessions, no table
        "0003": {"instrument_licences"},
        "0002": {"couple_amendments"},
    }
    expected = set(Base.metadata.tables) | {"alembic_version"}
    for revision, tables in added.items():
        command.downgrade(config, "-1")
        expected -= tables
        assert table_names(empty_url) == expected, revision
    upgrade_head(empty_url)
    assert table_names(empty_url) == set(Base.metadata.tables) | {"alembic_version"}
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM barriers")).scalars().all() == ["kept"]
    finally:
        engine.dispose()


def test_0014_renames_stored_review_keys_and_reasons_and_steps_back(
    empty_url: str, backend: str
) -> None:
    """A review filed under "split alliance" stays a review of the same flags once the
    rule is called "Partners diverging": its key parts and words move, nothing else."""
    config = alembic_config(empty_url)
    command.upgrade(config, "0013")
    old_key = "deteriorated_b,split_opposite,split_discrepancy,safety@7"
    old_reasons = (
        "Split alliance: partners more than 20 EII points apart in each of the last 3 "
        "jointly rated sessions (25.0, 22.0, 21.0); not on track: Partner B reliably "
        "deteriorated; split alliance: Partner A reliably improved"
    )
    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            _user_with_a_couple(conn, "supervisor")
            for key, reasons in ((old_key, old_reasons), ("safety@3", "Safety flag")):
                conn.execute(
                    text(
                        "INSERT INTO supervision_reviews (couple_id, reviewer_id, reviewed_at,"
                        " comment, attention_key, reasons) VALUES (1, 1,"
                        " '2026-02-01 09:00:00+00:00', 'Seen.', :key, :reasons)"
                    ),
                    {"key": key, "reasons": reasons},
                )
        stored = text("SELECT attention_key, reasons, comment FROM supervision_reviews ORDER BY id")
        upgrade_head(empty_url)
        with engine.connect() as conn:
            after = conn.execute(stored).all()
        command.downgrade(config, "0013")
        with engine.connect() as conn:
            back = conn.execute(stored).all()
    finally:
        engine.dispose()
    assert after == [
        (
            "deteriorated_b,diverging_opposite,diverging_discrepancy,safety@7",
            "Partners diverging: partners more than 20 EII points apart in each of the last 3 "
            "jointly rated sessions (25.0, 22.0, 21.0); not on track: Partner B reliably "
            "deteriorated; partners diverging: Partner A reliably improved",
            "Seen.",
        ),
        ("safety@3", "Safety flag", "Seen."),
    ]
    assert back == [(old_key, old_reasons, "Seen."), ("safety@3", "Safety flag", "Seen.")]


ITEMS = [i.key for i in INDICATORS]  # the 8 EII items, as 0015 froze them


def _user_with_a_couple(conn: Connection, role: str = "counselor") -> None:
    """User 1 (in this role) and couple 1 (C-2026-0001) in their name, as raw rows: for a
    migration's test at a revision older than the models."""
    conn.execute(
        text(
            "INSERT INTO users (id, username, display_name, email, role, password_hash,"
            " active, created_at) VALUES (1, :role, :role, NULL, :role, 'x',"
            " true, '2026-01-01 09:00:00+00:00')"
        ),
        {"role": role},
    )
    conn.execute(
        text(
            "INSERT INTO couples (id, case_code, partner_a_name, partner_b_name,"
            " counselor_id, intake_date, status, presenting_concerns, goals,"
            " created_at, updated_at, version) VALUES (1, 'C-2026-0001', 'A', 'B', 1,"
            " '2026-01-05', 'active', '', '', '2026-01-05 09:00:00+00:00',"
            " '2026-01-05 09:00:00+00:00', 1)"
        )
    )


def test_0015_stores_who_gave_each_eii(empty_url: str, backend: str) -> None:
    """Existing sessions get the source of each stored EII (same_source.eii_source):
    'self' when at least 6 of the 8 items are the partner's own answers, else
    'counselor', NULL where there is no EII; nothing else changes."""
    config = alembic_config(empty_url)
    command.upgrade(config, "0014")
    engine = make_engine(empty_url)
    # session -> (partner A's items: self count of 8, partner B's: items rated, self)
    plan = {
        1: ((8, 8), (8, 0)),  # A all own answers: self; B all counselor
        2: ((8, 6), (8, 5)),  # A 6 own of 8: self (the boundary); B 5 own: counselor
        3: ((5, 5), (0, 0)),  # A 5 items: no EII, NULL; B unrated: NULL
    }
    try:
        with writing(engine) as conn:
            _user_with_a_couple(conn)
            for sid, partners in plan.items():
                eii = [50.0 if rated >= 6 else None for rated, _ in partners]
                conn.execute(
                    text(
                        "INSERT INTO sessions (id, couple_id, session_date, format, attendance,"
                        " note_data, note_assessment, note_plan, safety_flag, eii_a, eii_b,"
                        " created_by, created_at, updated_at, version) VALUES (:id, 1,"
                        " '2026-01-12', 'in_person', 'both', '', '', '', false, :a, :b, 1,"
                        " '2026-01-12 09:00:00+00:00', '2026-01-12 09:00:00+00:00', 1)"
                    ),
                    {"id": sid, "a": eii[0], "b": eii[1]},
                )
                for partner, (rated, own) in zip("AB", partners, strict=True):
                    for n, item in enumerate(ITEMS[:rated]):
                        conn.execute(
                            text(
                                "INSERT INTO indicator_ratings (session_id, partner, item,"
                                " value, source) VALUES (:s, :p, :i, 5, :src)"
                            ),
                            {
                                "s": sid,
                                "p": partner,
                                "i": item,
                                "src": "self" if n < own else "counselor",
                            },
                        )
        stored = text("SELECT id, eii_a, source_a, source_b FROM sessions ORDER BY id")
        upgrade_head(empty_url)
        with engine.connect() as conn:
            after = conn.execute(stored).all()
        command.downgrade(config, "0014")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT id, eii_a FROM sessions ORDER BY id")).all()
    finally:
        engine.dispose()
    assert after == [
        (1, 50.0, "self", "counselor"),
        (2, 50.0, "self", "counselor"),
        (3, None, None, None),
    ]
    assert back == [(1, 50.0), (2, 50.0), (3, None)]


def test_upgrade_head_twice_is_harmless(empty_url: str) -> None:
    upgrade_head(empty_url)
    upgrade_head(empty_url)
    assert set(Base.metadata.tables) <= table_names(empty_url)


# --- the SQLite engine --------------------------------------------------------------


def test_sqlite_engine_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'db.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert SQLITE_BUSY_TIMEOUT_MS >= 5000
        # The data folder is created on first use.
        assert (tmp_path / "nested" / "db.sqlite3").exists()
    finally:
        engine.dispose()


def test_sqlite_reads_take_no_lock_and_writers_take_it_up_front(engine: Engine) -> None:
    """A read holding its snapshot blocks no writer; a writer (BEGIN IMMEDIATE) holds the
    lock from its first statement, so a second writer waits instead of failing midway."""
    insert = text(
        "INSERT INTO audit_events (occurred_at, username, action, entity, success,"
        " detail) VALUES ('2026-11-01', 'x', 'probe', '', true, '')"
    )
    count = text("SELECT count(*) FROM audit_events")
    with engine.connect() as reader, writing(engine) as first:
        before = reader.execute(count).scalar()  # a read transaction, still open
        first.execute(insert)  # not blocked by the open read
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as second:
            # Straight to the driver: wait not at all for the lock.
            second.connection.driver_connection.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(OperationalError, match="database is locked"):
                second.begin()
        assert reader.execute(count).scalar() == before  # the read keeps its snapshot
    with engine.connect() as later:
        assert later.execute(count).scalar() == before + 1


# --- constraints the database enforces itself ---------------------------------------


@pytest.fixture
def logged(db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]) -> int:
    """A valid session with a barrier tag, ratings and a habit to tamper with."""
    return sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(habits_assigned=["stay_curious"]),
        today=TODAY,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE session_barriers SET severity = 4",
        "UPDATE session_barriers SET severity = 0",
        "UPDATE indicator_ratings SET value = 11",
        "UPDATE indicator_ratings SET value = -1",
        "UPDATE indicator_ratings SET partner = 'C'",
        "UPDATE sessions SET stage = 5",
        "UPDATE sessions SET stage = 0",
        "UPDATE sessions SET duration_minutes = 241",
        "UPDATE sessions SET attendance = 'everyone'",
        "UPDATE sessions SET format = 'fax'",
        "UPDATE sessions SET private_note = 'joint sessions have none'",
        "UPDATE habit_assignments SET adherence = 4",
        "UPDATE couples SET status = 'archived'",
        "UPDATE couples SET status = 'closed', closing_reason = NULL",
        "UPDATE users SET role = 'owner'",
        "UPDATE sessions SET couple_id = 9999",
        "UPDATE session_barriers SET barrier_id = 9999",
    ],
)
def test_database_refuses_out_of_range_values_without_the_services(
    db: Session, logged: int, statement: str, backend: str
) -> None:
    begin_write(db)
    with pytest.raises(IntegrityError):
        db.execute(text(statement))
        db.flush()
    db.rollback()


def test_values_at_the_edges_of_each_range_are_accepted(
    db: Session, logged: int, backend: str
) -> None:
    begin_write(db)
    for statement in (
        "UPDATE session_barriers SET severity = 3",
        "UPDATE session_barriers SET severity = 1",
        "UPDATE indicator_ratings SET value = 10",
        "UPDATE indicator_ratings SET value = 0",
        "UPDATE sessions SET stage = 4",
        "UPDATE habit_assignments SET adherence = 0",
        "UPDATE couples SET status = 'closed', closing_reason = 'goals_met'",
    ):
        db.execute(text(statement))
    db.commit()


def _a_held_session(conn: Connection) -> None:
    """Session 1 of couple 1 (stage 2, EII 50 / 60 on 2026-01-12) as a raw row."""
    conn.execute(
        text(
            "INSERT INTO sessions (id, couple_id, session_date, format, attendance,"
            " note_data, note_assessment, note_plan, safety_flag, stage, eii_a, eii_b,"
            " source_a, source_b, created_by, created_at, updated_at, version)"
            " VALUES (1, 1, '2026-01-12', 'in_person', 'both', '', '', '', false, 2,"
            " 50.0, 60.0, 'counselor', 'counselor', 1, '2026-01-12 09:00:00+00:00',"
            " '2026-01-12 09:00:00+00:00', 1)"
        )
    )


def _a_summary_in_json(conn: Connection, basis: str) -> None:
    """Couple 1's summary row as the release before 0020 writes it: 0019's named columns
    and the JSON list of figures, stored under `basis`."""
    conn.execute(
        text(
            "INSERT INTO couple_summaries (couple_id, basis, norms_label,"
            " expected_label, stage_first, stage_latest, outcome, flags, reasons,"
            " attention_key, safety_dates, last_held, latest_session, sessions_held,"
            " figures, updated_at) VALUES (1, :basis, 'documented defaults',"
            " 'rational fallback', 2, 2, 'Too early to tell', '', '', '', '',"
            " '2026-01-12', '2026-01-12', 1, '[1, null]', '2026-01-12 09:00:00+00:00')"
        ).bindparams(basis=basis)
    )


def test_0020_marks_kept_summary_rows_stale_and_start_up_rebuilds_them(
    empty_url: str, backend: str
) -> None:
    """A clinic whose rows hold the JSON figures (0019): after the upgrade the row is
    still there but names no clinic's basis, so no reader uses it; the start-up check
    (ensure_built) then writes it in typed columns, equal to a full recomputation."""
    from sqlalchemy import select

    from dashboard.services import couple_summaries
    from db.engine import make_sessionmaker
    from db.summary_models import CoupleSummary

    config = alembic_config(empty_url)
    command.upgrade(config, "0019")
    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            _user_with_a_couple(conn)
            _a_held_session(conn)
            # What 0019's code stored: its named columns and the JSON list of figures.
            _a_summary_in_json(
                conn, "norms defaults; expected fallback; alliance off; layout 0123abcd"
            )
        upgrade_head(empty_url)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT couple_id, basis FROM couple_summaries")).all()
        with make_sessionmaker(engine)() as db:
            assert couple_summaries.ensure_built(db) == 1  # the one stale row
            found, _ = couple_summaries.compare(db)
            rebuilt = db.execute(
                select(CoupleSummary.basis, CoupleSummary.stage_first, CoupleSummary.flag_reasons)
            ).one()
            current = couple_summaries.current_basis(db).key
            db.rollback()
    finally:
        engine.dispose()
    assert kept == [(1, "stale: stored before migration 0020 (rebuilt at start-up)")]
    assert found == []
    assert tuple(rebuilt) == (current, 2, "")


# The basis the previous release (before 0020's typed columns) writes: its LAYOUT is the
# hash of its packing, b0beee50 (computed from dashboard/domain/couple_summary.py at
# 913b466^); the new code's layout differs, so neither release reads the other's rows.
OLD_RELEASE_BASIS = "norms defaults; expected fallback; alliance off; layout b0beee50"


def test_0020_keeps_figures_so_a_replica_of_the_previous_release_still_saves(
    empty_url: str, backend: str
) -> None:
    """During a rolling upgrade an old replica runs against the migrated schema: its save
    inserts a row with the JSON `figures` (0019's columns only) and must succeed; the new
    code treats that row as stale, rebuilds it without `figures`, and stepping back to
    0019 leaves a row the old code can read (JSON '[]', marked stale)."""
    from sqlalchemy import select

    from dashboard.domain.couple_summary import LAYOUT
    from dashboard.services import couple_summaries
    from db.engine import make_sessionmaker
    from db.summary_models import CoupleSummary

    assert not OLD_RELEASE_BASIS.endswith(LAYOUT)
    upgrade_head(empty_url)
    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            _user_with_a_couple(conn)
            _a_held_session(conn)
            # The previous release's refresh: 0019's columns and the JSON figures.
            _a_summary_in_json(conn, OLD_RELEASE_BASIS)
        with make_sessionmaker(engine)() as db:
            assert couple_summaries.ensure_built(db) == 1  # the old release's row is stale
            db.commit()
        with make_sessionmaker(engine)() as db:
            found, _ = couple_summaries.compare(db)
            current = couple_summaries.current_basis(db).key
            rebuilt = db.execute(select(CoupleSummary.basis, CoupleSummary.figures)).one()
        assert found == []
        assert tuple(rebuilt) == (current, None)  # the new code writes no JSON
        command.downgrade(alembic_config(empty_url), "0019")
        with engine.connect() as conn:
            stepped_back = conn.execute(text("SELECT basis, figures FROM couple_summaries")).one()
    finally:
        engine.dispose()
    assert tuple(stepped_back) == ("stale: stored after migration 0020 (rebuilt at start-up)", "[]")
