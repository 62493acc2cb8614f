"""wechat reach: end users' presence, WeChat subscribe consents, pending subscribe messages (consumed events: 0004)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "notification"


def upgrade() -> None:
    op.create_table(
        "reach_gateways",
        sa.Column("gateway_id", sa.Text, primary_key=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ttl_seconds", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "user_presence",
        sa.Column("gateway_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("connections", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  comment="event time of the last change applied"),
        sa.PrimaryKeyConstraint("gateway_id", "user_id"),
        schema=S,
    )
    op.create_index("ix_user_presence_user", "user_presence", ["user_id"], schema=S)
    op.create_table(
        "wechat_subscriptions",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("template_id", sa.Text, nullable=False),
        sa.Column("openid", sa.Text, nullable=False),
        sa.Column("remaining", sa.Integer, nullable=False, comment="consents not used yet: one message each"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", "template_id"),
        sa.CheckConstraint("remaining >= 0", name="wechat_subscriptions_remaining_check"),
        schema=S,
    )
    op.create_table(
        "wechat_sends",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.BigInteger, nullable=False, comment="the chat message it announces"),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("openid", sa.Text, nullable=False),
        sa.Column("template_id", sa.Text, nullable=False),
        sa.Column("page", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'sent', 'refused', 'failed')", name="wechat_sends_status_check"),
        schema=S,
    )
    op.create_index("ix_wechat_sends_due", "wechat_sends", ["next_attempt_at"], schema=S,
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    for table in ("wechat_sends", "wechat_subscriptions", "user_presence", "reach_gateways"):
        op.drop_table(table, schema=S)
