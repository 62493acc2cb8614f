"""quick replies: agents' personal canned answers and the team's (supervisors manage those), chat_svc.quick_replies

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quick_replies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("scope IN ('personal', 'team')", name="quick_replies_scope_check"),
        sa.CheckConstraint("(scope = 'team') = (owner_id IS NULL)", name="quick_replies_owner_check"),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.create_index("quick_replies_by_owner", "quick_replies", ["owner_id", "id"], schema="chat")


def downgrade() -> None:
    op.drop_index("quick_replies_by_owner", table_name="quick_replies", schema="chat")
    op.drop_table("quick_replies", schema="chat")
