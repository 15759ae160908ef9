"""segment_sources and word_edits: splitting, merging and resizing segments; correcting ASR words by hand

A segment edit never rewrites a labelled segment: it is superseded (kept, with every label) and the new
segments name it as their source, so the editor can offer its label and undo can bring it back. A word
correction is an append-only row beside the word it changed (the ASR's own text and times stay readable),
and a re-transcription keeps corrected words. Segment ids are never reused (AUTOINCREMENT on SQLite, where a
deleted highest rowid would otherwise come back): an undo brings a removed segment back under its own id.

Revision ID: 0008_segment_edits
Revises: 0007_traces
"""
import sqlalchemy as sa
from alembic import op

from emotrace.core.errors import IrreversibleMigration

revision = "0008_segment_edits"
down_revision = "0007_traces"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER word_edits_no_{op_} BEFORE {op_.upper()} ON word_edits "
    f"BEGIN SELECT RAISE(ABORT, 'word_edits are append-only: {op_.upper()} is refused'); END"
    for op_ in ("update", "delete")
]
PG_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION emotrace_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION '% are append-only: % is refused', TG_TABLE_NAME, TG_OP; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER word_edits_no_update_delete BEFORE UPDATE OR DELETE ON word_edits "
    "FOR EACH ROW EXECUTE FUNCTION emotrace_append_only()",
    "CREATE TRIGGER word_edits_no_truncate BEFORE TRUNCATE ON word_edits "
    "FOR EACH STATEMENT EXECUTE FUNCTION emotrace_append_only()",
]
SQLITE_FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the rebuild copies every row as it is (the store migrates with foreign keys off)
        with op.batch_alter_table("segments", recreate="always", naming_convention=SQLITE_FK_NAMES,
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass
    op.create_table(
        "segment_sources",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["segments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "source_id"),
    )
    op.create_index("ix_segment_sources_source", "segment_sources", ["source_id"])
    op.create_table(
        "word_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word_id", sa.Integer(), nullable=False),
        sa.Column("editor", sa.String(length=100), nullable=False),
        sa.Column("old_text", sa.Text(), nullable=False),
        sa.Column("old_start", sa.Float(), nullable=False),
        sa.Column("old_end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('"end" >= start', name="ck_word_edits_span"),
        sa.ForeignKeyConstraint(["word_id"], ["words.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_word_edits_word", "word_edits", ["word_id", "id"])
    for statement in SQLITE_TRIGGERS if sqlite else PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise IrreversibleMigration("0008 is not reversible: word corrections are annotations and are never dropped")
