"""session eii: each partner's Emotional Intimacy Index stored on the session row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:25:00.000000

Derived columns, so dashboards can aggregate sessions without reading every rating.
The backfill reproduces dashboard.domain.scoring.partner_eii in SQL, one UPDATE per
partner: mean over the rated catalogue items of the item score (the value, or 10 − value
for a warning sign) × 10, only when at least 6 of the 8 items are rated, else NULL.
The sum is an integer; it is cast to a double and divided by the count, then scaled by
10, the same operations in the same order as the Python, so the values are equal, not
merely close, on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen history: the catalogue as it stood when this migration was written
# (dashboard.domain.catalog.INDICATORS, RATING_MAX = 10, EII_MIN_ITEMS = 6). A later
# change to the catalogue must not change what this migration did.
ITEMS = (
    "talk_honestly",
    "feel_seen",
    "conflict_with_care",
    "emotional_support",
    "celebrate_wins",
    "growing_silence",
    "feeling_unseen",
    "emotional_coldness",
)
WARNING_SIGNS = ("growing_silence", "feeling_unseen", "emotional_coldness")
RATING_MAX = 10
MIN_ITEMS = 6


def _quoted(keys: Sequence[str]) -> str:
    return ", ".join(f"'{k}'" for k in keys)


def _backfill(column: str, partner: str) -> str:
    """UPDATE one partner's EII column from that partner's ratings of each session."""
    return (
        f"UPDATE sessions SET {column} = ("
        f"SELECT CASE WHEN COUNT(*) >= {MIN_ITEMS} THEN"
        f" CAST(SUM(CASE WHEN r.item IN ({_quoted(WARNING_SIGNS)})"
        f" THEN {RATING_MAX} - r.value ELSE r.value END) AS FLOAT)"
        f" / COUNT(*) * {100 // RATING_MAX} END"
        " FROM indicator_ratings r"
        f" WHERE r.session_id = sessions.id AND r.partner = '{partner}'"
        f" AND r.item IN ({_quoted(ITEMS)}))"
    )


def upgrade() -> None:
    # Plain ALTER TABLE ADD / DROP COLUMN (SQLite 3.35+ and PostgreSQL): recreating the
    # sessions table in batch mode would mean dropping a table many others point at.
    op.add_column("sessions", sa.Column("eii_a", sa.Float(), nullable=True))
    op.add_column("sessions", sa.Column("eii_b", sa.Float(), nullable=True))
    op.execute(_backfill("eii_a", "A"))
    op.execute(_backfill("eii_b", "B"))


def downgrade() -> None:
    op.drop_column("sessions", "eii_b")
    op.drop_column("sessions", "eii_a")
