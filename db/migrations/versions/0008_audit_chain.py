"""audit chain: each audit row carries an HMAC link to the one before; rows are append-only

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 01:10:00.000000

Adds seq and chain_hash to audit_events, the chain's head (one row), and triggers that
refuse UPDATE and DELETE on audit_events (on PostgreSQL TRUNCATE too). Rows already
there are linked now when the migration is run with the clinic's audit key (the app and
`python -m dashboard migrate` pass it); run without a key they stay as rows "from before
the chain began", which verify counts apart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.audit_chain import GENESIS, ChainFields, chain_hash
from db.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "audit rows are append-only"
SQLITE_TRIGGERS = {
    "audit_events_no_update": "UPDATE",
    "audit_events_no_delete": "DELETE",
}


def _link_existing(key: bytes) -> tuple[int, str]:
    """Link the rows already written, in id order; the head it leaves."""
    bind = op.get_bind()
    names = ("id", "user_id", "username", "action", "entity", "entity_id", "success", "detail")
    events = sa.table(
        "audit_events",
        sa.column("occurred_at", UTCDateTime()),
        sa.column("seq", sa.BigInteger()),
        sa.column("chain_hash", sa.String()),
        *(sa.column(name) for name in names),
    )
    previous, seq = GENESIS, 0
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        seq += 1
        previous = chain_hash(
            key,
            previous,
            ChainFields(
                seq,
                row["occurred_at"],
                row["user_id"],
                row["username"],
                row["action"],
                row["entity"],
                row["entity_id"],
                bool(row["success"]),
                row["detail"],
            ),
        )
        bind.execute(
            events.update().where(events.c.id == row["id"]).values(seq=seq, chain_hash=previous)
        )
    return seq, previous


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_audit_events_seq"), ["seq"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    config = op.get_context().config
    key = config.attributes.get("audit_key") if config is not None else None
    # Without the key, rows already written stay outside the chain (verify counts them).
    seq, last = _link_existing(key) if key else (0, GENESIS)
    op.bulk_insert(head, [{"id": 1, "seq": seq, "last_hash": last}])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
            " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for name, what in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {what} ON audit_events"
                f" BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_seq"), type_="unique")
        batch.drop_column("chain_hash")
        batch.drop_column("seq")
