"""Raters, computed consensus, EWE weights, annotation jobs

Revision ID: 0004_raters
Revises: 0003

- labels.origin may be `computed`: a consensus computed from the raters (core.consensus), stored under its own
  annotator (`consensus:mean`, `consensus:ewe`). No existing row changes.
- `raters`: who an annotator is (human / model_assisted / computed), where it came from, and whether it labels
  blind. Annotators already in the store are not listed: an unlisted annotator is a person.
- `rater_weights`: a rater's EWE weight per dimension in a corpus.
- `annotation_jobs` and `job_assignments`: segments handed to named annotators, with overlap, optionally blind.
  (Speaker turns come in 0005_speakers, with their revisions.)

On SQLite the labels table is rebuilt to change its check constraint; its append-only triggers are dropped
before and recreated after (they belong to the table), so no label row is touched.
"""
import sqlalchemy as sa
from alembic import op

from emotrace.core.errors import IrreversibleMigration

revision = "0004_raters"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out (not imported from core.vocab): a migration must not change when the vocabulary later grows.
LABEL_ORIGINS = "'imported', 'manual', 'accepted', 'retraction', 'computed'"
RATER_KINDS = "'human', 'model_assisted', 'computed'"
SQLITE_FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_TRIGGERS = [
    "CREATE TRIGGER labels_no_update BEFORE UPDATE ON labels "
    "BEGIN SELECT RAISE(ABORT, 'labels are append-only: UPDATE is refused'); END",
    "CREATE TRIGGER labels_no_delete BEFORE DELETE ON labels "
    "BEGIN SELECT RAISE(ABORT, 'labels are append-only: DELETE is refused'); END",
]


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS labels_no_update")
        op.execute("DROP TRIGGER IF EXISTS labels_no_delete")
        with op.batch_alter_table("labels", recreate="always", naming_convention=SQLITE_FK_NAMES) as b:
            b.drop_constraint("ck_labels_origin", type_="check")
            b.create_check_constraint("ck_labels_origin", f"origin IN ({LABEL_ORIGINS})")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.drop_constraint("ck_labels_origin", "labels", type_="check")
        op.create_check_constraint("ck_labels_origin", "labels", f"origin IN ({LABEL_ORIGINS})")

    op.create_table(
        "raters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200)),
        sa.Column("blind", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN ({RATER_KINDS})", name="ck_raters_kind"),
    )
    op.create_table(
        "rater_weights",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("corpus_id", sa.Integer(), sa.ForeignKey("corpora.id", ondelete="CASCADE"), nullable=False),
        sa.Column("annotator", sa.String(100), nullable=False),
        sa.Column("arousal", sa.Float()),
        sa.Column("valence", sa.Float()),
        sa.Column("dominance", sa.Float()),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.UniqueConstraint("corpus_id", "annotator", name="uq_rater_weights"),
    )
    op.create_table(
        "annotation_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("corpus_id", sa.Integer(), sa.ForeignKey("corpora.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("selection", sa.JSON()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("corpus_id", "name", name="uq_annotation_jobs_name"),
    )
    op.create_table(
        "job_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("annotation_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("segment_id", sa.Integer(), sa.ForeignKey("segments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("annotator", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("job_id", "segment_id", "annotator", name="uq_job_assignments"),
    )
    op.create_index("ix_job_assignments_annotator", "job_assignments", ["annotator"])


def downgrade() -> None:
    raise IrreversibleMigration("0004 is not reversible: computed consensus rows cannot be removed from append-only labels")
