"""supervision reviews: a supervisor's comment on an attention-list couple

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00.000000

Each row is filed against the couple's attention key at review time, so the couple
returns to the attention list when a new session changes that key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervision_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("attention_key", sa.String(length=300), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.CheckConstraint("TRIM(comment) <> ''", name=op.f("ck_supervision_reviews_comment")),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_supervision_reviews_couple_id_couples")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_supervision_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_reviews")),
    )
    op.create_index(op.f("ix_supervision_reviews_couple_id"), "supervision_reviews", ["couple_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_reviews_couple_id"), table_name="supervision_reviews")
    op.drop_table("supervision_reviews")
