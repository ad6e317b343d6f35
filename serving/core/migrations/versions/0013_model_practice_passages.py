"""the passages a language model was sent for practice questions, whatever it wrote

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_practice_passages",
        sa.Column("course_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("chunk_id", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.JSON(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("course_id", "fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("model_practice_passages")
