"""ratings: a user's satisfaction with a closed session (chat_svc.ratings), and the indexes the supervisors'
reports read by (chat_svc.reports): sessions by when they were opened, assigned and closed, and each
session's messages with their writer and time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ratings_score_check"),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"]),
        sa.PrimaryKeyConstraint("session_id"),
        schema="chat",
    )
    op.create_index("sessions_by_created_at", "sessions", ["created_at"], schema="chat")
    op.create_index("sessions_by_assigned_at", "sessions", ["assigned_at"], schema="chat",
                    postgresql_where=sa.text("assigned_at IS NOT NULL"))
    op.create_index("sessions_by_closed_at", "sessions", ["closed_at"], schema="chat",
                    postgresql_where=sa.text("closed_at IS NOT NULL"))
    # A session's own messages (not system lines) with who wrote them and when: the report counts them and finds
    # the first agent reply from this index alone (an index-only scan), not from the table.
    op.create_index("messages_said_by_session", "messages", ["session_id"], schema="chat",
                    postgresql_include=["sender_type", "created_at"],
                    postgresql_where=sa.text("sender_type <> 'system'"))


def downgrade() -> None:
    op.drop_index("messages_said_by_session", table_name="messages", schema="chat")
    op.drop_index("sessions_by_closed_at", table_name="sessions", schema="chat")
    op.drop_index("sessions_by_assigned_at", table_name="sessions", schema="chat")
    op.drop_index("sessions_by_created_at", table_name="sessions", schema="chat")
    op.drop_table("ratings", schema="chat")
