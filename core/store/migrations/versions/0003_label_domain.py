"""One label domain: retractions, accepted predictions, kept segments, append-only labels

Revision ID: 0003
Revises: 0002

What a store of revision 0002 holds is kept, value for value:
- `undo` rows whose A/V/D are all empty (the undo of an annotator's first label) become `retraction` rows that
  point at the row they withdrew; `undo` rows with values (a restore of earlier values) and `redo` rows become
  `manual`, with their values unchanged.
- A `manual` row whose A/V/D equal, to the 0.01 the editor rounds to, a stored segment prediction of the same
  segment was written by "Accept prediction" (which 0002 saved as `manual`): it becomes `accepted`.
- labels.segment_id turns from ON DELETE CASCADE to RESTRICT, and triggers refuse UPDATE and DELETE on labels.
- Check constraints for the vocabulary of core/vocab.py (as it was at this revision: written out here, since a
  migration must not change when the vocabulary later grows).

SQLite rebuilds tables for these changes; the store runs migrations with foreign keys off so a rebuild never
cascades, and checks `PRAGMA foreign_key_check` afterwards.
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from emotrace.core.errors import IrreversibleMigration

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
LABEL_ORIGINS = "'imported', 'manual', 'accepted', 'retraction'"
SEGMENT_ORIGINS = "'imported', 'asr', 'manual'"
FILE_STATUSES = "'ok', 'error', 'replaced'"
PREDICTION_KINDS = "'segment', 'window'"
DIMS = ("arousal", "valence", "dominance")

SQLITE_TRIGGERS = [
    "CREATE TRIGGER labels_no_update BEFORE UPDATE ON labels "
    "BEGIN SELECT RAISE(ABORT, 'labels are append-only: UPDATE is refused'); END",
    "CREATE TRIGGER labels_no_delete BEFORE DELETE ON labels "
    "BEGIN SELECT RAISE(ABORT, 'labels are append-only: DELETE is refused'); END",
]
PG_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION emotrace_labels_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'labels are append-only: % is refused', TG_OP; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER labels_no_update_delete BEFORE UPDATE OR DELETE ON labels "
    "FOR EACH ROW EXECUTE FUNCTION emotrace_labels_append_only()",
    "CREATE TRIGGER labels_no_truncate BEFORE TRUNCATE ON labels "
    "FOR EACH STATEMENT EXECUTE FUNCTION emotrace_labels_append_only()",
]


def _rewrite_origins(conn) -> None:
    """0002's undo/redo rows and accepted predictions in the 0003 vocabulary (origin and retracts_id only)."""
    labels = sa.table("labels", sa.column("id"), sa.column("segment_id"), sa.column("annotator"),
                      sa.column("arousal"), sa.column("valence"), sa.column("dominance"), sa.column("origin"),
                      sa.column("retracts_id"), sa.column("created_at"))
    preds = sa.table("predictions", sa.column("segment_id"), sa.column("kind"), sa.column("arousal"),
                     sa.column("valence"), sa.column("dominance"))
    rows = conn.execute(sa.select(labels.c.id, labels.c.segment_id, labels.c.annotator, labels.c.arousal,
                                  labels.c.valence, labels.c.dominance, labels.c.origin)
                        .order_by(labels.c.created_at, labels.c.id)).all()
    predicted = defaultdict(set)
    for sid, a, v, d in conn.execute(sa.select(preds.c.segment_id, preds.c.arousal, preds.c.valence,
                                               preds.c.dominance).where(preds.c.kind == "segment",
                                                                        preds.c.segment_id.is_not(None))):
        if None not in (a, v, d):
            predicted[sid].add((round(a, 2), round(v, 2), round(d, 2)))
    standing = defaultdict(list)  # (segment, annotator) -> ids of rows not withdrawn, oldest first
    updates = []
    for lid, sid, ann, a, v, d, origin in rows:
        key = (sid, ann)
        if origin == "undo" and a is None and v is None and d is None:
            target = standing[key].pop() if standing[key] else None
            updates.append({"lid": lid, "o": "retraction", "r": target})
            continue
        new = "manual" if origin in ("undo", "redo") else origin
        if new == "manual" and None not in (a, v, d) and (round(a, 2), round(v, 2), round(d, 2)) in predicted[sid]:
            new = "accepted"
        if new != origin:
            updates.append({"lid": lid, "o": new, "r": None})
        standing[key].append(lid)
    if updates:
        conn.execute(labels.update().where(labels.c.id == sa.bindparam("lid"))
                     .values(origin=sa.bindparam("o"), retracts_id=sa.bindparam("r")), updates)


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    with op.batch_alter_table("labels") as b:
        b.add_column(sa.Column("retracts_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("words") as b:
        b.add_column(sa.Column("segment_end", sa.Boolean(), nullable=False, server_default=sa.false()))
    _rewrite_origins(conn)

    fk_segment = "fk_labels_segment_id_segments" if sqlite else "labels_segment_id_fkey"
    with op.batch_alter_table("labels", recreate="always" if sqlite else "auto",
                              naming_convention=SQLITE_FK_NAMES) as b:
        b.drop_constraint(fk_segment, type_="foreignkey")
        b.create_foreign_key("fk_labels_segment_id_segments", "segments", ["segment_id"], ["id"], ondelete="RESTRICT")
        b.create_foreign_key("fk_labels_retracts_id_labels", "labels", ["retracts_id"], ["id"], ondelete="RESTRICT")
        b.create_check_constraint("ck_labels_origin", f"origin IN ({LABEL_ORIGINS})")
        for dim in DIMS:
            b.create_check_constraint(f"ck_labels_{dim}_scale", f"{dim} IS NULL OR ({dim} >= 1.0 AND {dim} <= 7.0)")
        b.create_check_constraint(
            "ck_labels_retraction_shape",
            "(origin = 'retraction' AND arousal IS NULL AND valence IS NULL AND dominance IS NULL)"
            " OR (origin <> 'retraction' AND retracts_id IS NULL"
            " AND (arousal IS NOT NULL OR valence IS NOT NULL OR dominance IS NOT NULL))")
    with op.batch_alter_table("segments") as b:
        b.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
        b.create_check_constraint("ck_segments_origin", f"origin IN ({SEGMENT_ORIGINS})")
    with op.batch_alter_table("audio_files") as b:
        b.create_check_constraint("ck_audio_files_status", f"status IN ({FILE_STATUSES})")
    with op.batch_alter_table("predictions") as b:
        b.add_column(sa.Column("flag", sa.String(length=40), nullable=True))
        for dim in DIMS:
            b.alter_column(dim, existing_type=sa.Float(), nullable=True)
        b.create_check_constraint("ck_predictions_kind", f"kind IN ({PREDICTION_KINDS})")
        b.create_check_constraint(
            "ck_predictions_values_or_flag",
            "flag IS NOT NULL OR (arousal IS NOT NULL AND valence IS NOT NULL AND dominance IS NOT NULL)")
    for statement in SQLITE_TRIGGERS if sqlite else PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise IrreversibleMigration("0003 is not reversible: 0002's schema cannot hold retractions without losing them")
