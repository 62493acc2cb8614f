"""ratings: a user's satisfaction with a closed session (chat_svc.ratings), and the indexes the supervisors'
reports read by (chat_svc.reports): sessions by when they were opened, assigned and closed, and each
session's message count and first agent reply, kept with each message

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

BACKFILL = """
UPDATE chat.sessions s SET message_count = m.said, first_reply_at = m.first_reply_at
FROM (SELECT session_id, count(*) AS said, min(created_at) FILTER (WHERE sender_type = 'admin') AS first_reply_at
      FROM chat.messages WHERE sender_type <> 'system' GROUP BY session_id) m
WHERE m.session_id = s.id
"""


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
    # What the report reads per session, kept by each new message (chat_svc.store.add_message) instead of counted
    # from the messages at report time (100,000 lookups per 30-day report); filled here for the existing sessions.
    op.add_column("sessions", sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
                  schema="chat")
    op.add_column("sessions", sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True), schema="chat")
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("sessions", "first_reply_at", schema="chat")
    op.drop_column("sessions", "message_count", schema="chat")
    op.drop_index("sessions_by_closed_at", table_name="sessions", schema="chat")
    op.drop_index("sessions_by_assigned_at", table_name="sessions", schema="chat")
    op.drop_index("sessions_by_created_at", table_name="sessions", schema="chat")
    op.drop_table("ratings", schema="chat")
