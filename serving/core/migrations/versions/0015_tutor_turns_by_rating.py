"""a course's rated tutor turns, newest rating first: what every question to the tutor reads

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tutor_turns") as batch_op:
        batch_op.create_index("ix_tutor_turns_course_rated", ["course_id", "rated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tutor_turns") as batch_op:
        batch_op.drop_index("ix_tutor_turns_course_rated")
