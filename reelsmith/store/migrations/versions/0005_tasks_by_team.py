"""a team's tasks by creation time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 20:20:00.000000
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_account_created", "tasks", ["account_id", "create_time"])


def downgrade() -> None:
    op.drop_index("ix_tasks_account_created", table_name="tasks")
