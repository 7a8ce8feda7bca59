"""What a write statement counts as for the page cache (db/engine.py): seen at the
driver, in SQLite's and psycopg's parameter styles alike."""

from __future__ import annotations

import pytest

from db import scopes
from db.engine import _tracked_as

SIGN_IN = [
    "UPDATE users SET last_active_at=? WHERE users.id = ?",
    "UPDATE users SET last_active_at=%(last_active_at)s::TIMESTAMP WITH TIME ZONE "
    "WHERE users.id = %(id_1)s::INTEGER",
    "UPDATE users SET sessions_valid_after=? WHERE users.id = ?",
    'UPDATE "users" SET sso_subject=%(sso_subject)s, last_active_at=%(last_active_at)s '
    "WHERE users.id = %(users_id)s",
    "INSERT INTO audit_events (occurred_at, username) VALUES (?, ?)",
    "INSERT INTO session_drafts (couple_id, author_id) VALUES (?, ?)",
    "INSERT INTO check_in_guesses (client, guessed_at) VALUES (?, ?)",
    "INSERT INTO sign_in_failures (username, client) VALUES (?, ?)",
]


@pytest.mark.parametrize("statement", SIGN_IN)
def test_sign_ins_audits_drafts_and_guesses_count_as_nothing(statement: str) -> None:
    table = statement.split()[2 if statement.startswith("INSERT") else 1].strip('"')
    assert _tracked_as(table.lower(), statement) is None


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("couples", "UPDATE couples SET goals=?, updated_at=?, version=? WHERE couples.id = ?"),
        ("couples", "INSERT INTO couples (case_code, counselor_id) VALUES (?, ?)"),
        ("sessions", "INSERT INTO sessions (couple_id, session_date) VALUES (?, ?)"),
        ("supervision_reviews", "INSERT INTO supervision_reviews (couple_id) VALUES (?)"),
    ],
)
def test_a_couples_own_record_is_couple_scoped(table: str, statement: str) -> None:
    assert _tracked_as(table, statement) in scopes.COUPLE_TABLES


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        # A couple moved to another counselor: two caseloads, and who may read it.
        ("couples", "UPDATE couples SET counselor_id=%(counselor_id)s WHERE couples.id = %(id)s"),
        ("couples", "DELETE FROM couples WHERE couples.id = ?"),
        # An account switched off, renamed or given another role.
        ("users", "UPDATE users SET active=?, sessions_valid_after=? WHERE users.id = ?"),
        ("users", "UPDATE users SET display_name=? WHERE users.id = ?"),
        ("supervision_links", "INSERT INTO supervision_links (supervisor_id) VALUES (?)"),
        ("clinic_norms", "INSERT INTO clinic_norms (measure, version) VALUES (?, ?)"),
    ],
)
def test_what_is_more_than_a_couples_record_is_clinic_wide(table: str, statement: str) -> None:
    found = _tracked_as(table, statement)
    assert found is not None and found not in scopes.COUPLE_TABLES
