"""close_reasons: why a session ended (agent | user | abandoned | inactive); NULL for sessions closed before

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("close_reason", sa.Text(), nullable=True), schema="chat")
    op.create_check_constraint(
        "sessions_close_reason_check", "sessions",
        "close_reason IS NULL OR close_reason IN ('agent', 'user', 'abandoned', 'inactive')", schema="chat",
    )
    # The idle sweep (chat_svc.store.close_idle) looks active sessions up by when they were assigned.
    op.create_index("sessions_active_by_assigned_at", "sessions", ["assigned_at"], schema="chat",
                    postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    op.drop_index("sessions_active_by_assigned_at", table_name="sessions", schema="chat")
    op.drop_constraint("sessions_close_reason_check", "sessions", schema="chat")
    op.drop_column("sessions", "close_reason", schema="chat")
