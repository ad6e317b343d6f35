"""practice questions written by a language model from the course's passages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_practice_questions",
        sa.Column("question_id", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("chunk_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("question_id"),
    )
    with op.batch_alter_table("model_practice_questions") as batch_op:
        for column in ("course_id", "fingerprint"):
            batch_op.create_index(batch_op.f(f"ix_model_practice_questions_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("model_practice_questions")
