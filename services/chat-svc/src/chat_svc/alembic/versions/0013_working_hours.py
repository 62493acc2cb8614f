"""working hours: the weekly schedule, dated exceptions and greeting (one row), since when customer service has
been served (the abandonment clock of left messages), and each admin's role as their token last said

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "working_hours",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("weekly", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("exceptions", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("greeting", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("served_since", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name="working_hours_one_row_check"),
        sa.PrimaryKeyConstraint("id"),
        schema="chat",
    )
    op.execute("INSERT INTO chat.working_hours (id) VALUES (1)")
    op.add_column("admins", sa.Column("role", sa.Text(), nullable=True), schema="chat")
    op.create_check_constraint("admins_role_check", "admins", "role IS NULL OR role IN ('agent', 'supervisor')",
                               schema="chat")


def downgrade() -> None:
    op.drop_constraint("admins_role_check", "admins", schema="chat")
    op.drop_column("admins", "role", schema="chat")
    op.drop_table("working_hours", schema="chat")
