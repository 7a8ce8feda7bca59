"""partner check-ins: requests, each partner's link and answers, guesses; rating sources

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 12:40:00.000000

Partners answer the eight items on their own device before a session
(dashboard/services/check_ins.py). A rating or instrument total now says who gave it:
"counselor" (every row before this migration) or "self"; a session amendment can say
why a partner's own answers were changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE_CHECK = "source IN ('counselor','self')"


def upgrade() -> None:
    for table in ("indicator_ratings", "instrument_totals"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "source", sa.String(length=16), nullable=False, server_default="counselor"
                )
            )
            batch.create_check_constraint("source", SOURCE_CHECK)
    op.add_column("session_amendments", sa.Column("reason", sa.Text(), nullable=True))
    op.create_table(
        "check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("initials_a", sa.String(length=8), nullable=False),
        sa.Column("initials_b", sa.String(length=8), nullable=False),
        sa.Column("instruments", sa.String(length=200), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_check_ins_couple_id_couples")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_check_ins_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_check_ins_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
    )
    op.create_index(op.f("ix_check_ins_couple_id"), "check_ins", ["couple_id"])
    op.create_table(
        "check_in_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_in_id", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(length=1), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("expiry_recorded", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("partner IN ('A','B')", name=op.f("ck_check_in_partners_partner")),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["check_ins.id"],
            name=op.f("fk_check_in_partners_check_in_id_check_ins"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_check_in_partners_revoked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_partners")),
        sa.UniqueConstraint(
            "check_in_id", "partner", name=op.f("uq_check_in_partners_check_in_id")
        ),
    )
    op.create_index(
        "ix_check_in_partners_token_hash", "check_in_partners", ["token_hash"], unique=True
    )
    op.create_index("ix_check_in_partners_code_hash", "check_in_partners", ["code_hash"])
    op.create_table(
        "check_in_guesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("guessed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_guesses")),
    )
    op.create_index("ix_check_in_guesses_client", "check_in_guesses", ["client", "guessed_at"])
    op.create_index(op.f("ix_check_in_guesses_guessed_at"), "check_in_guesses", ["guessed_at"])


def downgrade() -> None:
    op.drop_table("check_in_guesses")
    op.drop_table("check_in_partners")
    op.drop_table("check_ins")
    with op.batch_alter_table("session_amendments") as batch:
        batch.drop_column("reason")
    for table in ("instrument_totals", "indicator_ratings"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint("source", type_="check")
            batch.drop_column("source")
