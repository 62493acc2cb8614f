"""read_state: per session, how far the user and the assigned agent have read (message id and when)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("user_last_read_message_id", "user_read_at", "admin_last_read_message_id", "admin_read_at")


def upgrade() -> None:
    op.add_column("sessions", sa.Column("user_last_read_message_id", sa.BigInteger(), nullable=True), schema="chat")
    op.add_column("sessions", sa.Column("user_read_at", sa.DateTime(timezone=True), nullable=True), schema="chat")
    op.add_column("sessions", sa.Column("admin_last_read_message_id", sa.BigInteger(), nullable=True), schema="chat")
    op.add_column("sessions", sa.Column("admin_read_at", sa.DateTime(timezone=True), nullable=True), schema="chat")


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("sessions", column, schema="chat")
