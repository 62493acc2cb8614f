"""session notes: admins' private notes on a session, never shown to its user (chat_svc.notes); kept apart from
`chat.messages` so no user-facing read of messages can ever include one

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_notes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("transfer_to", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.create_index("session_notes_by_session", "session_notes", ["session_id", "id"], schema="chat")


def downgrade() -> None:
    op.drop_index("session_notes_by_session", table_name="session_notes", schema="chat")
    op.drop_table("session_notes", schema="chat")
