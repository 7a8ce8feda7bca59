"""clinic norms are published versions, one row per measure and version

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 16:00:00.000000

Results read the latest published row per measure instead of recomputing norms from
every intake as sessions arrive (issue 21: norms drifted silently). The table starts
empty; `dashboard migrate` (and the app's start-up) then publishes v1 automatically on
a database that already has enough intakes (services/norms.py publish_first_if_due),
so an existing clinic keeps the figures it had, now named as v1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinic_norms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("sd", sa.Float(), nullable=True),
        sa.Column("local_sd", sa.Float(), nullable=True),
        sa.Column("floor_in_use", sa.Boolean(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=True),
        sa.Column("alpha_n", sa.Integer(), nullable=True),
        sa.Column("counselor_intakes", sa.Integer(), nullable=True),
        sa.Column("self_intakes", sa.Integer(), nullable=True),
        sa.Column("cutoff", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("cutoff_method", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source_mix", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_clinic_norms_version")),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_clinic_norms_published_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_norms")),
        sa.UniqueConstraint("measure", "version", name="uq_clinic_norms_measure_version"),
    )


def downgrade() -> None:
    op.drop_table("clinic_norms")
