"""one summary row per couple, kept on write

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:00:00.000000

The caseload, the review and the overview read one row per couple instead of every
session (issue 23, point 2). The table starts empty: the rows are computed by the
application's own rules, which a migration must not freeze, so `dashboard migrate` and
the app's start-up build every missing or stale row right after this upgrade
(services/couple_summaries.py ensure_built). Until then a reader computes a couple
without a row on the fly, so nothing is ever shown wrong.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "couple_summaries",
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("norms_label", sa.Text(), nullable=False),
        sa.Column("expected_label", sa.Text(), nullable=False),
        sa.Column("stage_first", sa.Integer(), nullable=True),
        sa.Column("stage_latest", sa.Integer(), nullable=True),
        sa.Column("eii_first_a", sa.Float(), nullable=True),
        sa.Column("eii_latest_a", sa.Float(), nullable=True),
        sa.Column("judged_on_a", sa.String(length=16), nullable=True),
        sa.Column("eii_first_b", sa.Float(), nullable=True),
        sa.Column("eii_latest_b", sa.Float(), nullable=True),
        sa.Column("judged_on_b", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("attention_key", sa.Text(), nullable=False),
        sa.Column("expected_alert", sa.String(length=40), nullable=True),
        sa.Column("expected_partner", sa.String(length=40), nullable=True),
        sa.Column("safety_dates", sa.Text(), nullable=False),
        sa.Column("last_held", sa.Date(), nullable=True),
        sa.Column("latest_session", sa.Date(), nullable=True),
        sa.Column("sessions_held", sa.Integer(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couples.id"],
            name=op.f("fk_couple_summaries_couple_id_couples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("couple_id", name=op.f("pk_couple_summaries")),
    )


def downgrade() -> None:
    op.drop_table("couple_summaries")
