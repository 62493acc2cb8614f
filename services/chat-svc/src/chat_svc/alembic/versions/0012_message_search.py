"""message search: a trigram index on messages' text for the agents' search (chat_svc.search, ILIKE '%词%' in
Chinese and English). pg_trgm is a trusted extension (PostgreSQL 13+): the service's role, owner of the database
or holding CREATE on it, installs it without being a superuser.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX messages_content_trgm ON chat.messages USING gin (content gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX chat.messages_content_trgm")  # the extension stays: other schemas may use it
