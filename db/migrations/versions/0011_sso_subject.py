"""users.sso_subject: the single sign-on account a user is linked to

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 06:00:00.000000

The optional OIDC sign-in (dashboard/services/sso.py) links a user to the identity
provider's account at the first sign-in; later sign-ins must come from that account.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column and a unique index: SQLite adds both in place (no table copy).
    op.add_column("users", sa.Column("sso_subject", sa.String(length=512), nullable=True))
    op.create_index("ix_users_sso_subject", "users", ["sso_subject"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_sso_subject", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sso_subject")
