"""whether the asker found a tutor answer helpful; a course's turns by time, for its tutor report

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tutor_turns") as batch_op:
        batch_op.add_column(sa.Column("helpful", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_tutor_turns_course_at", ["course_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tutor_turns") as batch_op:
        batch_op.drop_index("ix_tutor_turns_course_at")
        batch_op.drop_column("rated_at")
        batch_op.drop_column("helpful")
