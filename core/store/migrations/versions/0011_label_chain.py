"""labels.chain_seq / chain_hash and the label_chain head: the label history becomes a hash chain

Every existing label row is put on the chain once, in the order it was appended (by id), with the one hash
rule of core/store/label_chain.py (`row_hash`; no second copy of it here), and the head row records the last.
Filling the two new columns is an UPDATE of every label row, which the append-only triggers refuse: they are
dropped for it and re-created from their one home (core/store/append_only.py) in the same transaction. No
value of any label changes. A store with no labels starts the chain at the genesis hash.

Revision ID: 0011_label_chain
Revises: 0008_segment_edits
"""
import sqlalchemy as sa
from alembic import op

from emotrace.core.errors import IrreversibleMigration
from emotrace.core.store.append_only import create_triggers, drop_triggers, expected_triggers
from emotrace.core.store.label_chain import CHAIN_FIELDS, GENESIS, row_hash
from emotrace.core.store.models import Label

revision = "0011_label_chain"
down_revision = "0010_segment_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "label_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_label_chain_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("labels") as b:  # SQLite: ALTER TABLE ADD COLUMN, no rebuild
        b.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        b.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))

    present = {c["name"] for c in sa.inspect(conn).get_columns("labels")}
    fields = [name for name in CHAIN_FIELDS if name in present]  # read with the model's types (times parsed alike)
    labels = sa.table("labels", sa.column("id", sa.Integer()), sa.column("chain_seq", sa.Integer()),
                      sa.column("chain_hash", sa.String()), *(sa.column(n, Label.__table__.c[n].type) for n in fields))
    prev, seq, updates = GENESIS, 0, []
    for row in conn.execute(sa.select(labels.c.id, *(labels.c[n] for n in fields)).order_by(labels.c.id)).mappings():
        seq += 1
        prev = row_hash(prev, seq, row)
        updates.append({"lid": row["id"], "s": seq, "h": prev})
    if updates:
        drop_triggers(conn, ["labels"])
        conn.execute(labels.update().where(labels.c.id == sa.bindparam("lid"))
                     .values(chain_seq=sa.bindparam("s"), chain_hash=sa.bindparam("h")), updates)
        create_triggers(conn, expected_triggers(conn.dialect.name, ["labels"]))
    conn.execute(sa.text("INSERT INTO label_chain (id, seq, hash) VALUES (1, :s, :h)"), {"s": seq, "h": prev})
    op.create_index("uq_labels_chain_seq", "labels", ["chain_seq"], unique=True)


def downgrade() -> None:
    raise IrreversibleMigration("0011 is not reversible: the label chain is the history's evidence")
