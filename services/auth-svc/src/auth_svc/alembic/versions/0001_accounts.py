"""accounts: one id sequence for admins and users, usernames unique case-insensitively

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("user_type", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("user_type IN ('admin', 'user')", name="accounts_user_type_check"),
        schema="auth",
    )
    op.create_index(
        "accounts_username_lower_key", "accounts", [sa.text("lower(username)")], unique=True, schema="auth"
    )


def downgrade() -> None:
    op.drop_table("accounts", schema="auth")
