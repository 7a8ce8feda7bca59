"""session drafts: a session note being written, kept server-side until it is saved

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 03:30:00.000000

One row per counselor and form target, replaced as the counselor types and deleted
when the session is saved, so a browser crash or a closed tab loses nothing typed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("saved_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_session_drafts_couple_id_couples")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_session_drafts_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_session_drafts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_drafts")),
        sa.UniqueConstraint("user_id", "target", name=op.f("uq_session_drafts_user_id")),
    )
    op.create_index(op.f("ix_session_drafts_couple_id"), "session_drafts", ["couple_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_session_drafts_couple_id"), table_name="session_drafts")
    op.drop_table("session_drafts")
