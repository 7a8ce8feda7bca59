"""instrument licences: which licensed instruments (ORS, SRS) the clinic may record

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:44:18.451391
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instrument_licences",
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("licensed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_instrument_licences_changed_by_users")
        ),
        sa.PrimaryKeyConstraint("instrument", name=op.f("pk_instrument_licences")),
    )


def downgrade() -> None:
    op.drop_table("instrument_licences")
