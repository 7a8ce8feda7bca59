"""data scope versions: what a write touched moves, not the whole clinic

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 22:00:00.000000

One row per scope a cached view depends on ('couple:<id>', 'caseload:<counselor id>',
'group:<supervisor id>', 'clinic'), moved by db/engine.py at the commit of a write that
touched those couples only (issue 23, point 1); a scope without a row reads as 0. The
table starts empty, and the clinic-wide version moves once, so a server that kept page
results from before the table existed keeps none of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_scope_versions",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_data_scope_versions")),
    )
    op.execute("UPDATE clinic_data_version SET version = version + 1")


def downgrade() -> None:
    op.drop_table("data_scope_versions")
    op.execute("UPDATE clinic_data_version SET version = version + 1")
