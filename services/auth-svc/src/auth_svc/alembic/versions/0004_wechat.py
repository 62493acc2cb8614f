"""wechat_identities (WeChat login: (appid, openid) -> account) and rate_limits (servicekit.ratelimit: WeChat
logins per client address)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_identities",
        sa.Column("appid", sa.Text, nullable=False),
        sa.Column("openid", sa.Text, nullable=False),
        sa.Column("unionid", sa.Text, nullable=True),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("auth.accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("appid", "openid"),
        schema="auth",
    )
    op.create_index("wechat_identities_unionid_idx", "wechat_identities", ["unionid"], schema="auth")
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_index", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("previous_hits", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        schema="auth",
    )


def downgrade() -> None:
    op.drop_table("rate_limits", schema="auth")
    op.drop_table("wechat_identities", schema="auth")
