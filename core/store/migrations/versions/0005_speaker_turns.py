"""speaker_turns: who speaks when, per file, in revisions (diarization, RTTM import, manual corrections)

Revision ID: 0005_speakers
Revises: 0004_raters
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_speakers"
down_revision = "0004_raters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speaker_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("speaker", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('diarization', 'rttm', 'manual')", name="ck_speaker_turns_source"),
        sa.CheckConstraint('"end" > start', name="ck_speaker_turns_span"),
        sa.ForeignKeyConstraint(["file_id"], ["audio_files.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_speaker_turns_file_revision", "speaker_turns", ["file_id", "revision", "start"])


def downgrade() -> None:
    op.drop_index("ix_speaker_turns_file_revision", table_name="speaker_turns")
    op.drop_table("speaker_turns")
