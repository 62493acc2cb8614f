"""admins: availability (online | busy | away), who set it and when, last activity, last time seen online and
whether supervisors were last told the agent is online (chat_svc.agents_service)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("admins", sa.Column("availability", sa.Text(), nullable=False, server_default="online"),
                  schema="chat")
    op.add_column("admins", sa.Column("availability_changed_at", sa.DateTime(timezone=True)), schema="chat")
    op.add_column("admins", sa.Column("changed_by", sa.Text()), schema="chat")
    op.add_column("admins", sa.Column("last_active_at", sa.DateTime(timezone=True)), schema="chat")
    op.add_column("admins", sa.Column("seen_online_at", sa.DateTime(timezone=True)), schema="chat")
    op.add_column("admins", sa.Column("announced_online", sa.Boolean(), nullable=False, server_default="false"),
                  schema="chat")
    op.create_check_constraint("admins_availability_check", "admins",
                               "availability IN ('online', 'busy', 'away')", schema="chat")
    op.create_check_constraint("admins_changed_by_check", "admins",
                               "changed_by IS NULL OR changed_by IN ('self', 'supervisor', 'idle')", schema="chat")


def downgrade() -> None:
    for column in ("announced_online", "seen_online_at", "last_active_at", "changed_by", "availability_changed_at", "availability"):
        op.drop_column("admins", column, schema="chat")
