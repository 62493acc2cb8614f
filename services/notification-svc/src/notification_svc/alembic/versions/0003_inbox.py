"""inbox: per-admin archive, known admins, unread counters (backfilled from the existing rows)

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

S = "notification"
TYPES = ("system", "user", "order", "alert")


def upgrade() -> None:
    op.create_table(
        "notification_archives",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("notification_id", sa.BigInteger, sa.ForeignKey(f"{S}.notifications.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", "notification_id"),
        schema=S,
    )
    op.create_table(
        "notification_admins",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seen_at", sa.DateTime(timezone=True),
                  comment="first call of the notification API; null: only a target"),
        schema=S,
    )
    op.create_table(
        "unread_counters",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("targeted_unread", sa.Integer, nullable=False, server_default="0"),
        sa.Column("broadcasts_read", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("user_id", "type"),
        schema=S,
    )
    op.create_table(
        "broadcast_totals",
        sa.Column("type", sa.Text, primary_key=True),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        schema=S,
    )
    # Backfill in this transaction (the service migrates before it serves, so nothing changes meanwhile).
    # Admins who sent or read are "seen"; targets who did neither are only lock holders (seen_at null).
    op.execute(f"""
        INSERT INTO {S}.notification_admins (user_id, seen_at)
        SELECT user_id, max(seen) FROM (
            SELECT created_by AS user_id, now() AS seen FROM {S}.notifications
            UNION ALL SELECT user_id, now() FROM {S}.notification_reads
            UNION ALL SELECT target_user_id, NULL FROM {S}.notifications WHERE target_user_id IS NOT NULL
        ) AS known GROUP BY user_id
    """)
    op.execute(f"""
        INSERT INTO {S}.broadcast_totals (type, total)
        SELECT t.type, count(n.id) FROM unnest(ARRAY{list(TYPES)}::text[]) AS t(type)
        LEFT JOIN {S}.notifications n ON n.type = t.type AND n.target_user_id IS NULL
        GROUP BY t.type
    """)
    op.execute(f"""
        INSERT INTO {S}.unread_counters (user_id, type, targeted_unread, broadcasts_read)
        SELECT user_id, type, sum(targeted_unread), sum(broadcasts_read) FROM (
            SELECT n.target_user_id AS user_id, n.type, count(*) AS targeted_unread, 0 AS broadcasts_read
            FROM {S}.notifications n
            WHERE n.target_user_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM {S}.notification_reads r WHERE r.notification_id = n.id AND r.user_id = n.target_user_id
            )
            GROUP BY n.target_user_id, n.type
            UNION ALL
            SELECT r.user_id, n.type, 0, count(*)
            FROM {S}.notification_reads r JOIN {S}.notifications n ON n.id = r.notification_id
            WHERE n.target_user_id IS NULL
            GROUP BY r.user_id, n.type
        ) AS parts GROUP BY user_id, type
    """)


def downgrade() -> None:
    for table in ("broadcast_totals", "unread_counters", "notification_admins", "notification_archives"):
        op.drop_table(table, schema=S)
