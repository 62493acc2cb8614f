"""refresh_tokens: rotating refresh tokens, stored as SHA-256 hashes, grouped in families (one per login)

login_failures needs no change: its keys now also name (username, address) pairs (`p:`) and registrations per
address (`r:`).

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
        "refresh_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("family_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("auth.accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("family_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        schema="auth",
    )
    op.create_index("refresh_tokens_family_idx", "refresh_tokens", ["family_id"], schema="auth")


def downgrade() -> None:
    op.drop_table("refresh_tokens", schema="auth")
