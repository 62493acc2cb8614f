"""attachments: pictures uploaded into a session (bytes in the attachment store, chat_svc.attachment_store)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("uploader_type", sa.Text(), nullable=False),
        sa.Column("uploader_id", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("thumbnail_width", sa.Integer(), nullable=False),
        sa.Column("thumbnail_height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("format IN ('jpeg', 'png', 'gif', 'webp')", name="attachments_format_check"),
        sa.CheckConstraint("uploader_type IN ('user', 'admin')", name="attachments_uploader_type_check"),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.create_index("attachments_by_session", "attachments", ["session_id"], schema="chat")


def downgrade() -> None:
    op.drop_index("attachments_by_session", table_name="attachments", schema="chat")
    op.drop_table("attachments", schema="chat")
