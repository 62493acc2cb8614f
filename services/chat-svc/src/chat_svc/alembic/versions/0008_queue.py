"""queue: customers' tiers (VIP priority), queue departures (the estimate's measurements), the positions last
published to waiting users and the publisher's last run (chat_svc.queue)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("tier IN ('standard', 'vip')", name="customers_tier_check"),
        sa.PrimaryKeyConstraint("user_id"),
        schema="chat",
    )
    op.create_table(
        "queue_departures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("departed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.create_index("queue_departures_by_time", "queue_departures", ["departed_at"], schema="chat")
    op.create_table(
        "queue_positions",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("estimated_wait_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"]),
        sa.PrimaryKeyConstraint("session_id"),
        schema="chat",
    )
    op.create_table(
        "queue_publisher",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name="queue_publisher_one_row_check"),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.execute("INSERT INTO chat.queue_publisher (id, published_at) VALUES (1, NULL)")


def downgrade() -> None:
    op.drop_table("queue_publisher", schema="chat")
    op.drop_table("queue_positions", schema="chat")
    op.drop_index("queue_departures_by_time", table_name="queue_departures", schema="chat")
    op.drop_table("queue_departures", schema="chat")
    op.drop_table("customers", schema="chat")
