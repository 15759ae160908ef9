"""labels.arousal_origin, valence_origin, dominance_origin: whose value each dimension is (issue 24, item 1)

A label the annotator typed in part is theirs only where they typed: a dimension left at the model's value is
an accepted prediction (`accepted`), and training, agreement and the human tiers of an export read only human
values per dimension. NULL exactly when the dimension's value is NULL (a check constraint per dimension).
Existing rows get their row's origin for each value they carry (nothing else is known of them). The labels
table is append-only: the triggers are lifted for the one back-fill of the new columns and put back.

Revision ID: 0009_label_provenance
Revises: 0008_segment_edits
"""
import sqlalchemy as sa
from alembic import op

from emotrace.core.errors import IrreversibleMigration

revision = "0009_label_provenance"
down_revision = "0008_segment_edits"
branch_labels = None
depends_on = None

# Written out (not imported from core.vocab): a migration must not change when the vocabulary later grows.
DIMENSION_ORIGINS = "'imported', 'manual', 'accepted', 'computed', 'trace'"
DIMENSIONS = ("arousal", "valence", "dominance")
SQLITE_FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_TRIGGERS = [
    "CREATE TRIGGER labels_no_update BEFORE UPDATE ON labels "
    "BEGIN SELECT RAISE(ABORT, 'labels are append-only: UPDATE is refused'); END",
    "CREATE TRIGGER labels_no_delete BEFORE DELETE ON labels "
    "BEGIN SELECT RAISE(ABORT, 'labels are append-only: DELETE is refused'); END",
]


def _check(dim: str) -> str:
    return (f"({dim} IS NULL AND {dim}_origin IS NULL) OR "
            f"({dim} IS NOT NULL AND {dim}_origin IS NOT NULL AND {dim}_origin IN ({DIMENSION_ORIGINS}))")


def _backfill() -> None:
    """One pass over the table: each value's origin is its row's (retractions carry no value, so none)."""
    columns = ", ".join(f"{dim}_origin = CASE WHEN {dim} IS NOT NULL THEN origin END" for dim in DIMENSIONS)
    op.execute(f"UPDATE labels SET {columns} WHERE origin <> 'retraction'")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS labels_no_update")  # the rebuilds copy rows; the back-fill adds origins
        op.execute("DROP TRIGGER IF EXISTS labels_no_delete")
        with op.batch_alter_table("labels", recreate="always", naming_convention=SQLITE_FK_NAMES) as b:
            for dim in DIMENSIONS:
                b.add_column(sa.Column(f"{dim}_origin", sa.String(length=20), nullable=True))
        _backfill()
        with op.batch_alter_table("labels", recreate="always", naming_convention=SQLITE_FK_NAMES) as b:
            for dim in DIMENSIONS:
                b.create_check_constraint(f"ck_labels_{dim}_origin", _check(dim))
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    for dim in DIMENSIONS:
        op.add_column("labels", sa.Column(f"{dim}_origin", sa.String(length=20), nullable=True))
    op.execute("ALTER TABLE labels DISABLE TRIGGER labels_no_update_delete")
    _backfill()
    op.execute("ALTER TABLE labels ENABLE TRIGGER labels_no_update_delete")
    for dim in DIMENSIONS:
        op.create_check_constraint(f"ck_labels_{dim}_origin", "labels", _check(dim))


def downgrade() -> None:
    raise IrreversibleMigration("0009 is not reversible: which values a person typed is part of their labels")
