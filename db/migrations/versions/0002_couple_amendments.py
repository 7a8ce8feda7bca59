"""couple amendments: a couple's record before each intake edit or status change

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:31:55.504779
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "couple_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amended_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amended_by", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('update_couple','change_status')", name=op.f("ck_couple_amendments_action")
        ),
        sa.ForeignKeyConstraint(
            ["amended_by"], ["users.id"], name=op.f("fk_couple_amendments_amended_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_couple_amendments_couple_id_couples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_couple_amendments")),
    )
    with op.batch_alter_table("couple_amendments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_couple_amendments_couple_id"), ["couple_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("couple_amendments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_couple_amendments_couple_id"))

    op.drop_table("couple_amendments")
