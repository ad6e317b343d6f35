"""event claims: which API replica commits each event id, so that a replay on another replica is dropped

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_claims",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("writer_id", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("event_claims") as batch_op:
        batch_op.create_index(batch_op.f("ix_event_claims_claimed_at"), ["claimed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_claims") as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_claims_claimed_at"))
    op.drop_table("event_claims")
