"""the summary rows' figures in typed columns instead of one JSON text

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 01:45:00.000000

The caseload review read 5,000 JSON rows at 150k sessions and unpacked them in Python
(about 0.9 s); one typed column a figure lets it read them in one query straight into
its frame (issue 23, second pass). The sessions' (couple, date) index also carries the
attendance and the deletion mark, so the review's counts of a range read it alone. The rows are derived data: the application's rules
compute them, which a migration must not freeze, so the rows kept here are marked stale
(their `basis` names no clinic's), and start-up / `dashboard migrate` rebuild them
(services/couple_summaries.ensure_built). Until then readers compute those couples from
their sessions, so nothing is shown wrong. Stepping back does the same the other way.

The JSON `figures` column is KEPT, nullable and no longer written or read by this code
(a deprecated column of the model): during the README's upgrade (migrate first, then
restart the replicas one at a time) a replica still running the previous release inserts
`figures` with every save and selects it when reading, so dropping it here would make every
save on that replica fail until it restarts. The two releases never read each other's rows:
each names its own layout in `basis` (domain/couple_summary.py LAYOUT), so the old code sees
new rows (figures NULL) as stale and the new code sees old rows as stale. A later release
drops `figures`, once no replica of the previous release can be running.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STALE = "stale: stored before migration 0020 (rebuilt at start-up)"
STALE_DOWN = "stale: stored after migration 0020 (rebuilt at start-up)"

# (name, type, nullable) of each figure's column; the figures the row already held under
# a name of its own (stage, EII judged on, outcome, reasons, safety dates, ...) keep it.
FIGURES: list[tuple[str, sa.types.TypeEngine, bool]] = [
    ("status_a", sa.String(length=40), True),
    ("status_b", sa.String(length=40), True),
    ("status_couple", sa.String(length=40), True),
    ("rci_a", sa.Float(), True),
    ("rci_b", sa.Float(), True),
    ("rci_couple", sa.Float(), True),
    ("change_a", sa.Float(), True),
    ("change_b", sa.Float(), True),
    ("change_couple", sa.Float(), True),
    ("deteriorated_a", sa.Boolean(), False),
    ("deteriorated_b", sa.Boolean(), False),
    ("no_improvement", sa.Boolean(), False),
    ("stage_regressed", sa.Boolean(), False),
    ("below_expected", sa.Boolean(), False),
    ("diverging_opposite", sa.Boolean(), False),
    ("diverging_discrepancy", sa.Boolean(), False),
    ("not_on_track", sa.Boolean(), False),
    ("diverging", sa.Boolean(), False),
    ("not_on_track_reasons", sa.Text(), True),
    ("diverging_reasons", sa.Text(), True),
    ("flag_reasons", sa.Text(), False),
    ("first_reliable_improvement_session", sa.Float(), True),
    ("first_reliable_improvement_date", sa.Date(), True),
    ("expected_alert_a", sa.String(length=40), True),
    ("expected_source_a", sa.Text(), True),
    ("expected_session_a", sa.Float(), True),
    ("expected_score_a", sa.Float(), True),
    ("expected_p10_a", sa.Float(), True),
    ("expected_p25_a", sa.Float(), True),
    ("expected_p50_a", sa.Float(), True),
    ("expected_alert_b", sa.String(length=40), True),
    ("expected_source_b", sa.Text(), True),
    ("expected_session_b", sa.Float(), True),
    ("expected_score_b", sa.Float(), True),
    ("expected_p10_b", sa.Float(), True),
    ("expected_p25_b", sa.Float(), True),
    ("expected_p50_b", sa.Float(), True),
    ("expected", sa.Text(), False),
    ("expected_rank", sa.Integer(), False),
    ("split_alliance", sa.Boolean(), False),
    ("alliance_date", sa.Date(), True),
    ("alliance_a", sa.Float(), True),
    ("alliance_b", sa.Float(), True),
    ("alliance_reason", sa.Text(), False),
    ("alliance", sa.Text(), False),
    ("intake_stage", sa.Text(), False),
    ("current_stage", sa.Text(), False),
    ("last_session", sa.Date(), True),
    ("safety", sa.Boolean(), False),
    ("safety_session_id", sa.Integer(), True),
    ("needs_attention", sa.Boolean(), False),
]


def _default(kind: sa.types.TypeEngine) -> sa.ColumnElement | str:
    """What an existing (now stale) row holds in a required column until its rebuild."""
    if isinstance(kind, sa.Boolean):
        return sa.false()
    return "0" if isinstance(kind, sa.Integer) else ""


def upgrade() -> None:
    with op.batch_alter_table("couple_summaries") as batch:
        for name, kind, nullable in FIGURES:
            batch.add_column(
                sa.Column(
                    name,
                    kind,
                    nullable=nullable,
                    server_default=None if nullable else _default(kind),
                )
            )
        # Kept for old-code replicas during a rolling upgrade (see the docstring).
        batch.alter_column("figures", existing_type=sa.Text(), nullable=True)
    op.execute(sa.text("UPDATE couple_summaries SET basis = :stale").bindparams(stale=STALE))
    # The review's GROUP BY counts of a range read this index alone, not the session rows
    # (which hold the notes); it serves every query the narrower one did.
    op.create_index(
        "ix_sessions_couple_date_attendance",
        "sessions",
        ["couple_id", "session_date", "attendance", "deleted_at"],
    )
    op.drop_index("ix_sessions_couple_date", table_name="sessions")


def downgrade() -> None:
    op.create_index("ix_sessions_couple_date", "sessions", ["couple_id", "session_date"])
    op.drop_index("ix_sessions_couple_date_attendance", table_name="sessions")
    # Rows the new code wrote hold no JSON; they are marked stale below and rebuilt.
    op.execute(sa.text("UPDATE couple_summaries SET figures = '[]' WHERE figures IS NULL"))
    with op.batch_alter_table("couple_summaries") as batch:
        batch.alter_column("figures", existing_type=sa.Text(), nullable=False)
        for name, _, _ in reversed(FIGURES):
            batch.drop_column(name)
    op.execute(sa.text("UPDATE couple_summaries SET basis = :stale").bindparams(stale=STALE_DOWN))
