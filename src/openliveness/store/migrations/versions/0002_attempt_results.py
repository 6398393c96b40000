"""Attempts record which audit entry answered them; audit digests are indexed for replay detection.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_entry_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_digest", ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_digest")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("audit_entry_id")
