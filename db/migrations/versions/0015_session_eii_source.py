"""session eii source: who gave each partner's EII at a session, beside eii_a / eii_b

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:20:00.000000

Like with like (issue 21): a partner's change compares ratings from one source, the
counselor's with the counselor's, the partner's own check-in answers with their own.
The review reads eii_a / eii_b from the session rows without reading every rating, so
the source of each stored EII is stored beside it: 'counselor' or 'self', NULL where the
EII is NULL.

A partner-session's items can mix sources (a counselor may change or add items beside a
check-in's answers; the changed ones are stored as 'counselor'). The rule
(dashboard/domain/same_source.eii_source): 'self' when the partner's own answers alone
make an EII, at least 6 of the 8 catalogue items; otherwise 'counselor'. The backfill
below is that rule in SQL; no stored value is changed or dropped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen history: the catalogue as it stood when this migration was written.
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
MIN_ITEMS = 6


def _backfill(column: str, eii: str, partner: str) -> str:
    items = ", ".join(f"'{k}'" for k in ITEMS)
    own = (
        "SELECT COUNT(*) FROM indicator_ratings r WHERE r.session_id = sessions.id"
        f" AND r.partner = '{partner}' AND r.source = 'self' AND r.item IN ({items})"
    )
    return (
        f"UPDATE sessions SET {column} = CASE WHEN {eii} IS NULL THEN NULL"
        f" WHEN ({own}) >= {MIN_ITEMS} THEN 'self' ELSE 'counselor' END"
    )


def upgrade() -> None:
    op.add_column("sessions", sa.Column("source_a", sa.String(16), nullable=True))
    op.add_column("sessions", sa.Column("source_b", sa.String(16), nullable=True))
    op.execute(_backfill("source_a", "eii_a", "A"))
    op.execute(_backfill("source_b", "eii_b", "B"))


def downgrade() -> None:
    op.drop_column("sessions", "source_b")
    op.drop_column("sessions", "source_a")
