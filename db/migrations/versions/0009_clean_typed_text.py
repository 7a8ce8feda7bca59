"""clean typed text: characters the validators now refuse are taken out of stored rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 01:20:00.000000

Names, notes and comments saved before the validators of dashboard/domain/typed_text.py
may hold control characters (NUL, BEL, ESC, C1), bidirectional overrides, noncharacters
(U+FFFE made the Excel export unreadable) or a required name of only invisible
characters. Each such value is cleaned the way the validators would have asked the
person to: those characters taken out, the text normalised to NFC, and a required name
left blank by that reads "(no visible text)". The value as it stood is kept, whole, in
text_cleanups (JSON-escaped, so any character survives on any database), and a couple's
or session's version moves on so a form opened before the clean-up cannot save over it.

The character rules are a frozen copy of typed_text's as of this migration (a migration
must not change when the app's code does); tests check the two agree.
"""

import json
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d"
    "\u206e\u206f\u2800\u3164\ufeff\uffa0"
)
NO_VISIBLE_TEXT = "(no visible text)"

# (table, column, notes keep line breaks and tabs, required, versioned row)
COLUMNS = [
    ("users", "display_name", False, True, False),
    ("users", "email", False, False, False),
    ("couples", "partner_a_name", False, True, True),
    ("couples", "partner_b_name", False, True, True),
    ("couples", "presenting_concerns", True, False, True),
    ("couples", "goals", True, False, True),
    ("couples", "status_note", True, False, True),
    ("sessions", "note_data", True, False, True),
    ("sessions", "note_assessment", True, False, True),
    ("sessions", "note_plan", True, False, True),
    ("sessions", "safety_note", True, False, True),
    ("sessions", "private_note", True, False, True),
    ("barriers", "name", False, True, False),
    ("barriers", "description", True, False, False),
    ("session_barriers", "note", False, False, False),
    ("supervision_reviews", "comment", True, True, False),
]


def _kept(char: str, multiline: bool) -> bool:
    code = ord(char)
    if char in "\n\t":
        return multiline
    return not (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or 0x202A <= code <= 0x202E
        or 0xFDD0 <= code <= 0xFDEF
        or (code & 0xFFFE) == 0xFFFE
    )


def clean(value: str, *, multiline: bool, required: bool) -> str:
    """The value as the validators would accept it."""
    kept = unicodedata.normalize("NFC", "".join(c for c in value if _kept(c, multiline)))
    if required and not "".join(c for c in kept if c not in INVISIBLE).strip():
        return NO_VISIBLE_TEXT
    return kept


def upgrade() -> None:
    cleanups = op.create_table(
        "text_cleanups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(length=40), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("cleaned", sa.Text(), nullable=False),
        sa.Column("cleaned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_cleanups")),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    kept: list[dict[str, object]] = []
    for table in dict.fromkeys(t for t, *_ in COLUMNS):
        columns = [
            (c, multiline, required) for t, c, multiline, required, _ in COLUMNS if t == table
        ]
        versioned = any(v for t, *_, v in COLUMNS if t == table)
        names = ", ".join(c for c, _, _ in columns)
        for row in bind.execute(sa.text(f"SELECT id, {names} FROM {table}")).mappings().all():
            changed = {}
            for column, multiline, required in columns:
                value = row[column]
                if value is None:
                    continue
                cleaned = clean(value, multiline=multiline, required=required)
                if cleaned != value:
                    changed[column] = cleaned
                    kept.append(
                        {
                            "table_name": table,
                            "row_id": row["id"],
                            "column_name": column,
                            "original": json.dumps(value),  # \\u escapes: NUL and all survive
                            "cleaned": cleaned,
                            "cleaned_at": now,
                        }
                    )
            if changed:
                sets = ", ".join(f"{c} = :{c}" for c in changed)
                bump = ", version = version + 1" if versioned else ""
                bind.execute(
                    sa.text(f"UPDATE {table} SET {sets}{bump} WHERE id = :row_id"),
                    {**changed, "row_id": row["id"]},
                )
    if kept:
        op.bulk_insert(cleanups, kept)


def downgrade() -> None:
    # The cleaned text stays: putting refused characters back would break exports again.
    op.drop_table("text_cleanups")
