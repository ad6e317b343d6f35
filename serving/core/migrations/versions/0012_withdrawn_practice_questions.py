"""practice questions an instructor withdrew from a course

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "withdrawn_practice_questions",
        sa.Column("course_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=36), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("course_id", "question_id"),
    )


def downgrade() -> None:
    op.drop_table("withdrawn_practice_questions")
