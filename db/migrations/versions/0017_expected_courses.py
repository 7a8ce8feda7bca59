"""expected courses are published versions, one row per measure and version

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 19:00:00.000000

The expected course of a partner (issue 22) is fitted from the clinic's own couples and
published like the clinic norms: alerts read the latest published row per measure, and
a new fit changes nothing until it is published. The table starts empty; `dashboard
migrate` (and the app's start-up) then publishes v1 automatically on a database that
already has enough couples with a course (services/expected.py ensure_first_version).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expected_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("couples", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("norms_version", sa.Integer(), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_expected_courses_version")),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_expected_courses_published_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expected_courses")),
        sa.UniqueConstraint("measure", "version", name="uq_expected_courses_measure_version"),
    )


def downgrade() -> None:
    op.drop_table("expected_courses")
