"""partners diverging: stored supervision reviews use the rule's new name

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 16:00:00.000000

The EII rule "one partner reliably improved while the other deteriorated, or the
partners more than 20 EII points apart at 3 jointly rated sessions in a row" was called
"split alliance". In couple therapy a split alliance is something else (the partners
differ in their alliance with the counselor, from the SRS), so the rule is now
"Partners diverging", and its attention-key parts are `diverging_opposite` and
`diverging_discrepancy`.

A supervisor's review is filed against the couple's attention key: were the stored keys
left as `split_opposite` / `split_discrepancy`, every reviewed couple with that flag
would come back to the attention list as unreviewed. So the stored keys and the reasons
in words move to the new names; nothing else in the row changes, and downgrade turns
them back. The old and new parts map one to one, so no value is lost.

Left as they were, on purpose: audit_events rows whose detail is a review's key. The
audit log is append-only and hash-chained (0008): its rows say what was recorded at the
time, and rewriting one would break the chain that proves nothing was changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, old text, new text): a frozen copy, so this migration never changes when the
# app's words do.
RENAMES = (
    ("attention_key", "split_opposite", "diverging_opposite"),
    ("attention_key", "split_discrepancy", "diverging_discrepancy"),
    ("reasons", "Split alliance: ", "Partners diverging: "),
    ("reasons", "split alliance: ", "partners diverging: "),
)


def _replace(pairs: Sequence[tuple[str, str, str]]) -> None:
    for column, old, new in pairs:
        op.execute(
            sa.text(
                f"UPDATE supervision_reviews SET {column} = REPLACE({column}, :old, :new)"
                f" WHERE {column} LIKE :pattern"
            ).bindparams(old=old, new=new, pattern=f"%{old}%")
        )


def upgrade() -> None:
    _replace(RENAMES)


def downgrade() -> None:
    _replace([(column, new, old) for column, old, new in RENAMES])
