"""accounts.role: admins are `agent` or `supervisor` (carried in the access token's `role` claim)

Existing admins become agents; a supervisor is made with `auth-svc set-role` (the dev seed makes admin1 one).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("role", sa.Text, nullable=True), schema="auth")
    op.execute("UPDATE auth.accounts SET role = 'agent' WHERE user_type = 'admin'")
    op.create_check_constraint(
        "accounts_role_check", "accounts",
        "(user_type = 'admin') = (role IS NOT NULL) AND (role IS NULL OR role IN ('agent', 'supervisor'))",
        schema="auth",
    )


def downgrade() -> None:
    op.drop_constraint("accounts_role_check", "accounts", schema="auth")
    op.drop_column("accounts", "role", schema="auth")
