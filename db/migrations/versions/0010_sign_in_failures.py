"""sign-in failures by name and device: the counters behind the sign-in waits

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 01:35:00.000000

Replaces the 15-minute lock after five failures for a name (which let anyone lock any
counselor out) with waits per device and name (dashboard/domain/sign_in.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_username", "sign_in_failures", ["username", "failed_at"])
    op.create_index("ix_sign_in_failures_client", "sign_in_failures", ["client", "failed_at"])


def downgrade() -> None:
    op.drop_table("sign_in_failures")
