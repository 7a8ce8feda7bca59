"""Characters that break a backend, an export or a reader are refused by the services
with a field error, before anything is written (a NUL once failed on PostgreSQL)."""

from __future__ import annotations

import importlib
import json
from datetime import date

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashboard.domain.typed_text import is_blank, normalised, text_problem
from dashboard.domain.validation import CoupleInput
from dashboard.services import auth, couples, sessions
from dashboard.services.errors import ValidationFailed
from db.engine import make_engine
from db.migrate import alembic_config, upgrade_head
from db.models import Couple, CoupleSession, User
from tests.conftest import Clinic, writing
from tests.naughty_strings import NAUGHTY_STRINGS

TODAY = date(2026, 11, 1)


def test_an_intake_with_a_nul_or_an_override_is_refused_and_nothing_changes(
    backend: str, db: Session, clinic: Clinic
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        couples.update_couple(
            db,
            clinic.counselor,
            clinic.couple_id,
            CoupleInput("Alex\u202e", "Blair", date(2026, 1, 5), "Drifting\x00 apart", "Talk"),
            expected_version=1,
            today=TODAY,
        )
    assert set(caught.value.errors) == {"partner_a_name", "presenting_concerns"}
    couple = db.get_one(Couple, clinic.couple_id)
    assert (couple.partner_a_name, couple.presenting_concerns, couple.version) == (
        "Alex",
        "Drifting apart",
        1,
    )


def test_a_session_note_with_a_control_character_writes_no_session(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        sessions.log_session(
            db, clinic.counselor, clinic.couple_id, make_input(note_data="Quiet\x00"), today=TODAY
        )
    assert "U+0000" in caught.value.errors["note_data"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CoupleSession)) == 0


def test_a_zero_width_name_is_blank_and_decomposed_text_is_stored_composed(
    backend: str, db: Session, clinic: Clinic
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        couples.create_couple(
            db, clinic.counselor, CoupleInput("\u200b\u200b", "Bo", date(2026, 2, 1))
        )
    assert caught.value.errors == {"partner_a_name": "Enter Partner A's display name or initials."}
    couple_id = couples.create_couple(
        db, clinic.counselor, CoupleInput("Jose\u0301", "Zoe\u0308", date(2026, 2, 1))
    )
    couple = db.get_one(Couple, couple_id)
    assert (couple.partner_a_name, couple.partner_b_name) == ("José", "Zoë")
    # Found by a search typed either way.
    frame = couples.list_caseload(db, clinic.counselor, search="josé", record_view=False)
    assert frame["couple_id"].tolist() == [couple_id]


def test_an_account_name_with_a_control_character_is_refused(
    backend: str, db: Session, clinic: Clinic
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        auth.create_user(
            db,
            clinic.admin,
            username="nia.new",
            display_name="Nia\x07 New",
            role="counselor",
            password="a long enough password",
            bcrypt_rounds=4,
        )
    assert "U+0007" in caught.value.errors["display_name"]
    db.rollback()
    assert db.scalar(select(User).where(User.username == "nia.new")) is None


# --- rows saved before the validators: migration 0009 cleans them ---------------------

BAD = {
    # (couple column, stored value, what the clean-up leaves)
    "partner_a_name": ("Al\x07ex\u202e", "Alex"),
    "partner_b_name": ("\u200b\u200b", "(no visible text)"),
    "presenting_concerns": ("Line one\nline\ttwo\x1b[31m\ufffe", "Line one\nline\ttwo[31m"),
    "goals": ("Cafe\u0301 talks", "Café talks"),
}


def test_migration_0009_cleans_stored_text_and_keeps_the_original(
    empty_url: str, backend: str
) -> None:
    command.upgrade(alembic_config(empty_url), "0008")
    engine = make_engine(empty_url)
    try:
        with writing(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, email, role, password_hash,"
                    " active, created_at) VALUES (1, 'cara', :name, NULL, 'counselor', 'x',"
                    " true, '2026-01-01 09:00:00+00:00')"
                ),
                {"name": "Cara\x00 C" if backend == "sqlite" else "Cara\x01 C"},
            )
            conn.execute(
                text(
                    "INSERT INTO couples (id, case_code, partner_a_name, partner_b_name,"
                    " counselor_id, intake_date, status, presenting_concerns, goals,"
                    " created_at, updated_at, version) VALUES (1, 'C-2026-0001', :partner_a_name,"
                    " :partner_b_name, 1, '2026-01-05', 'active', :presenting_concerns, :goals,"
                    " '2026-01-05 09:00:00+00:00', '2026-01-05 09:00:00+00:00', 1)"
                ),
                {column: stored for column, (stored, _) in BAD.items()},
            )
        upgrade_head(empty_url)
        with engine.connect() as conn:
            couple = conn.execute(text("SELECT * FROM couples")).mappings().one()
            name = conn.execute(text("SELECT display_name FROM users")).scalar()
            kept = conn.execute(
                text("SELECT table_name, row_id, column_name, original FROM text_cleanups")
            ).all()
    finally:
        engine.dispose()
    for column, (_, cleaned) in BAD.items():
        assert couple[column] == cleaned, column
        assert text_problem(couple[column], column, multiline=True) is None
    assert name == "Cara C"
    assert couple["version"] == 2  # a form opened before the clean-up cannot save over it
    originals = {(t, c): json.loads(o) for t, _, c, o in kept}
    assert originals == {("couples", c): stored for c, (stored, _) in BAD.items()} | {
        ("users", "display_name"): "Cara\x00 C" if backend == "sqlite" else "Cara\x01 C"
    }


def test_the_frozen_rules_of_migration_0009_agree_with_the_validators() -> None:
    """The migration keeps its own copy of the rules; whatever it leaves, the validators
    accept, for every string of the naughty list and every character class refused."""
    cleanup = importlib.import_module("db.migrations.versions.0009_clean_typed_text")
    probes = [*NAUGHTY_STRINGS, "\x00", "\x85", "\u202d", "\ufdd0", "\U0010ffff", "\u2060"]
    for value in probes:
        for multiline in (True, False):
            cleaned = cleanup.clean(value, multiline=multiline, required=True)
            assert text_problem(cleaned, "x", multiline=multiline) is None, repr(value)
            assert not is_blank(cleaned), repr(value)
            assert cleaned == normalised(cleaned)
