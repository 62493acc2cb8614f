"""chat schema: sessions (one open per user), messages, admin presence per gateway, admins' capacity and
last assignment, processed events, outbox and idempotency keys

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_presence',
    sa.Column('gateway_id', sa.Text(), nullable=False),
    sa.Column('admin_id', sa.BigInteger(), nullable=False),
    sa.Column('connections', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('connections >= 0', name='admin_presence_connections_check'),
    sa.PrimaryKeyConstraint('gateway_id', 'admin_id'),
    schema='chat'
    )
    op.create_table('admins',
    sa.Column('admin_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name='admins_capacity_check'),
    sa.PrimaryKeyConstraint('admin_id'),
    schema='chat'
    )
    op.create_table('gateways',
    sa.Column('gateway_id', sa.Text(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ttl_seconds', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('gateway_id'),
    schema='chat'
    )
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'key'),
    schema='chat'
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('exchange', sa.Text(), nullable=False),
    sa.Column('routing_key', sa.Text(), nullable=False),
    sa.Column('aggregate_id', sa.Text(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id'),
    schema='chat'
    )
    op.create_index('ix_outbox_pending', 'outbox', ['id'], unique=False, schema='chat', postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('processed_events',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('event_id'),
    schema='chat'
    )
    op.create_table('sessions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('admin_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('admin_unread_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_message', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status <> 'active' OR admin_id IS NOT NULL", name='sessions_active_assigned_check'),
    sa.CheckConstraint("status <> 'waiting' OR admin_id IS NULL", name='sessions_waiting_unassigned_check'),
    sa.CheckConstraint("status IN ('waiting', 'active', 'closed')", name='sessions_status_check'),
    sa.CheckConstraint('priority BETWEEN 1 AND 5', name='sessions_priority_check'),
    sa.PrimaryKeyConstraint('id'),
    schema='chat'
    )
    op.create_index('sessions_by_admin', 'sessions', ['admin_id', 'status'], unique=False, schema='chat')
    op.create_index('sessions_by_user', 'sessions', ['user_id', 'id'], unique=False, schema='chat')
    op.create_index('sessions_one_open_per_user', 'sessions', ['user_id'], unique=True, schema='chat', postgresql_where=sa.text("status IN ('waiting', 'active')"))
    op.create_index('sessions_waiting_queue', 'sessions', [sa.literal_column('priority DESC'), 'created_at', 'id'], unique=False, schema='chat', postgresql_where=sa.text("status = 'waiting'"))
    op.create_table('messages',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('session_id', sa.BigInteger(), nullable=False),
    sa.Column('sender_type', sa.Text(), nullable=False),
    sa.Column('sender_id', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('message_type', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("message_type IN ('text', 'image', 'system')", name='messages_message_type_check'),
    sa.CheckConstraint("sender_type IN ('user', 'admin', 'system')", name='messages_sender_type_check'),
    sa.CheckConstraint('sender_id > 0', name='messages_sender_id_check'),
    sa.ForeignKeyConstraint(['session_id'], ['chat.sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    schema='chat'
    )
    op.create_index('messages_by_session', 'messages', ['session_id', 'id'], unique=False, schema='chat')


def downgrade() -> None:
    op.drop_index('messages_by_session', table_name='messages', schema='chat')
    op.drop_table('messages', schema='chat')
    op.drop_index('sessions_waiting_queue', table_name='sessions', schema='chat', postgresql_where=sa.text("status = 'waiting'"))
    op.drop_index('sessions_one_open_per_user', table_name='sessions', schema='chat', postgresql_where=sa.text("status IN ('waiting', 'active')"))
    op.drop_index('sessions_by_user', table_name='sessions', schema='chat')
    op.drop_index('sessions_by_admin', table_name='sessions', schema='chat')
    op.drop_table('sessions', schema='chat')
    op.drop_table('processed_events', schema='chat')
    op.drop_index('ix_outbox_pending', table_name='outbox', schema='chat', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox', schema='chat')
    op.drop_table('idempotency_keys', schema='chat')
    op.drop_table('gateways', schema='chat')
    op.drop_table('admins', schema='chat')
    op.drop_table('admin_presence', schema='chat')
