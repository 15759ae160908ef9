"""work_items: a queue of per-file work in the store itself, for workers on many machines

Revision ID: 0006_queue
Revises: 0005_speakers
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_queue"
down_revision = "0005_speakers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'claimed', 'done', 'failed')", name="ck_work_items_status"),
        sa.ForeignKeyConstraint(["file_id"], ["audio_files.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_items_claim", "work_items", ["status", "kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_work_items_claim", table_name="work_items")
    op.drop_table("work_items")
