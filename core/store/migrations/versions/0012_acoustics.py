"""predictions.trust: the trust indicator, how far a window lies from the model's training data (issue 26)

The distance of a span's pooled features from the model version's training features, over the radius that
holds 95% of held-out training-domain windows (core/ser/trust.py): above 1, the span is outside what the model
learned from. Null for predictions made before, or by a model stored without trust statistics.

Revision ID: 0012_acoustics
Revises: 0008_segment_edits
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_acoustics"
down_revision = "0011_label_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trust", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_column("trust")
