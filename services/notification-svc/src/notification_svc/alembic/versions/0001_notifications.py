"""notifications, per-admin read state, system messages, outbox, idempotency keys

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "notification"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("target_user_id", sa.BigInteger, comment="null: for every admin (broadcast)"),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("type IN ('system', 'user', 'order', 'alert')", name="notifications_type_check"),
        schema=S,
    )
    op.create_index("ix_notifications_target", "notifications", ["target_user_id", "id"], schema=S)
    op.create_index(
        "ix_notifications_broadcast", "notifications", ["id"], schema=S,
        postgresql_where=sa.text("target_user_id IS NULL"),
    )
    op.create_table(
        "notification_reads",
        sa.Column("notification_id", sa.BigInteger, sa.ForeignKey(f"{S}.notifications.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("notification_id", "user_id"),
        schema=S,
    )
    op.create_index("ix_notification_reads_user", "notification_reads", ["user_id", "notification_id"], schema=S)
    op.create_table(
        "system_alerts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_table(
        "system_maintenance",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("ends_at > starts_at", name="system_maintenance_window_check"),
        schema=S,
    )
    op.create_table(
        "system_status_changes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index(
        "ix_system_status_changes_component", "system_status_changes", ["component", "id"], schema=S
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("exchange", sa.Text, nullable=False),
        sa.Column("routing_key", sa.Text, nullable=False),
        sa.Column("aggregate_id", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.create_index("ix_outbox_pending", "outbox", ["id"], schema=S, postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", "key"),
        schema=S,
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "outbox", "system_status_changes", "system_maintenance", "system_alerts",
                  "notification_reads", "notifications"):
        op.drop_table(table, schema=S)
