"""system_text: a system message keeps the code and parameters of its text (contracts.payloads.system_text), so
each client renders it in its own language; `content` keeps the server's fallback rendering

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("system_code", sa.Text(), nullable=True), schema="chat")
    op.add_column("messages", sa.Column("system_params", postgresql.JSONB(), nullable=True), schema="chat")


def downgrade() -> None:
    op.drop_column("messages", "system_params", schema="chat")
    op.drop_column("messages", "system_code", schema="chat")
