"""traces and trace_samples: continuous annotation, append-only; 'trace' joins the label origins

Revision ID: 0007_traces
Revises: 0006_queue
"""
import sqlalchemy as sa
from alembic import op

from emotrace.core.errors import IrreversibleMigration

revision = "0007_traces"
down_revision = "0006_queue"
branch_labels = None
depends_on = None

LABEL_ORIGINS = "'imported', 'manual', 'accepted', 'retraction', 'computed', 'trace'"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER {table}_no_{op_} BEFORE {op_.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: {op_.upper()} is refused'); END"
    for table in ("traces", "trace_samples") for op_ in ("update", "delete")
]
PG_TRIGGERS = [
    f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION emotrace_labels_append_only()"
    for table in ("traces", "trace_samples")
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "traces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("annotator", sa.String(length=100), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("pass_no", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("scale_low", sa.Float(), nullable=False),
        sa.Column("scale_high", sa.Float(), nullable=False),
        sa.Column("assisted_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("dimension IN ('arousal', 'valence', 'dominance')", name="ck_traces_dimension"),
        sa.CheckConstraint("rate > 0 AND rate <= 100", name="ck_traces_rate"),
        sa.ForeignKeyConstraint(["file_id"], ["audio_files.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["assisted_by"], ["model_versions.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_traces_file", "traces", ["file_id", "annotator", "dimension"])
    op.create_table(
        "trace_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["trace_id"], ["traces.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_trace_samples_trace_t", "trace_samples", ["trace_id", "t"])
    # the label origins grow by 'trace' (a trace's mean over a segment); rows stay as they are
    if sqlite:
        op.execute("DROP TRIGGER labels_no_update")  # the table rebuild below copies rows, it changes none
        op.execute("DROP TRIGGER labels_no_delete")
    with op.batch_alter_table("labels", recreate="always" if sqlite else "auto") as b:
        b.drop_constraint("ck_labels_origin", type_="check")
        b.create_check_constraint("ck_labels_origin", f"origin IN ({LABEL_ORIGINS})")
    if sqlite:
        op.execute("CREATE TRIGGER labels_no_update BEFORE UPDATE ON labels "
                   "BEGIN SELECT RAISE(ABORT, 'labels are append-only: UPDATE is refused'); END")
        op.execute("CREATE TRIGGER labels_no_delete BEFORE DELETE ON labels "
                   "BEGIN SELECT RAISE(ABORT, 'labels are append-only: DELETE is refused'); END")
    for statement in SQLITE_TRIGGERS if sqlite else PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise IrreversibleMigration("0007 is not reversible: traces are annotations and are never dropped")
