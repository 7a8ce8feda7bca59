"""session drafts are versions: a sitting writes its own rows; set aside, kept 30 days

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:30:00.000000

Before, one row per counselor and form was replaced on every change, so typing into a
form while an earlier draft was offered erased that draft. Now each opening of the form
(`episode`) writes its own versions; a version no longer offered is `set_aside_at` and
stays restorable until 30 days after its last keystroke. Existing rows become one
version each, still offered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_drafts") as batch:
        batch.drop_constraint("uq_session_drafts_user_id", type_="unique")
        batch.add_column(
            sa.Column("episode", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("started_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("set_aside_at", UTCDateTime(), nullable=True))
    op.create_index("ix_session_drafts_user_id_target", "session_drafts", ["user_id", "target"])
    op.create_index("ix_session_drafts_saved_at", "session_drafts", ["saved_at"])


def downgrade() -> None:
    # Only the newest version of each counselor's form can stay under the old rule.
    op.execute(
        "DELETE FROM session_drafts WHERE id NOT IN "
        "(SELECT MAX(id) FROM session_drafts GROUP BY user_id, target)"
    )
    op.drop_index("ix_session_drafts_saved_at", table_name="session_drafts")
    op.drop_index("ix_session_drafts_user_id_target", table_name="session_drafts")
    with op.batch_alter_table("session_drafts") as batch:
        batch.drop_column("set_aside_at")
        batch.drop_column("started_at")
        batch.drop_column("episode")
        batch.create_unique_constraint("uq_session_drafts_user_id", ["user_id", "target"])
