"""reply deadlines: a user's message waiting for the agent's reply (chat_svc.reply_deadlines), and the alerts
chat-svc raises for one agent

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_deadlines",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id"),
        schema="chat",
    )
    op.create_index("reply_deadlines_by_since", "reply_deadlines", ["since"], schema="chat")
    op.create_table(
        "agent_alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.create_index("agent_alerts_by_admin", "agent_alerts", ["admin_id", "id"], schema="chat")


def downgrade() -> None:
    op.drop_index("agent_alerts_by_admin", table_name="agent_alerts", schema="chat")
    op.drop_table("agent_alerts", schema="chat")
    op.drop_index("reply_deadlines_by_since", table_name="reply_deadlines", schema="chat")
    op.drop_table("reply_deadlines", schema="chat")
