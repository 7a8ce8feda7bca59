"""clinic data version: one number that moves with every committed clinical change

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:15:00.000000

Pages cache their heavy reads (the caseload review, a couple's timeline) under this
number; db/engine.py bumps it at the end of every transaction that wrote a clinical
table. It starts at a random value, so a database made again at the same path never
repeats numbers a running server has results cached under.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "clinic_data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_data_version")),
    )
    # Below 2**62, so a bump per write never overflows a signed 64-bit column.
    op.bulk_insert(table, [{"id": 1, "version": secrets.randbits(61)}])


def downgrade() -> None:
    op.drop_table("clinic_data_version")
