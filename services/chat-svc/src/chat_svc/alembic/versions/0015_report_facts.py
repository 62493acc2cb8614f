"""report facts: one narrow row per session holding what the supervisors' report reads (chat_svc.reports), kept by
PostgreSQL triggers in the transaction of every change to the session or its rating, filled here for the existing
sessions.

Why: a 30-day report over 100,000 sessions read the wide `chat.sessions` rows (about 270 bytes each), joined
`chat.ratings`, and computed each session's first response and resolution with `extract(epoch ...)`, which returns
`numeric`: two numeric conversions per row and a sort of the wide rows were most of its second. `session_facts` keeps
those seconds as float8, computed once with the very same expression (so the percentiles come out bit for bit the
same), with the score beside them: about a third of the bytes, no join, no per-row arithmetic at report time.

Why triggers: every writer of `chat.sessions` (assignment, transfer, requeue, closing, the sweeps, each message) and of
`chat.ratings` keeps the facts without knowing of them, in its own transaction; a new writer cannot forget them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KEEP_FROM_SESSIONS = """
CREATE FUNCTION chat.keep_session_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chat.session_facts AS f (session_id, admin_id, opened_at, assigned_at, closed_at,
                                         first_response_seconds, resolution_seconds, message_count, score)
    VALUES (NEW.id, NEW.admin_id, NEW.created_at, NEW.assigned_at, NEW.closed_at,
            extract(epoch FROM NEW.first_reply_at - NEW.created_at)::float8,
            extract(epoch FROM NEW.closed_at - NEW.created_at)::float8,
            NEW.message_count, (SELECT r.score FROM chat.ratings r WHERE r.session_id = NEW.id))
    ON CONFLICT (session_id) DO UPDATE SET
        admin_id = EXCLUDED.admin_id, opened_at = EXCLUDED.opened_at, assigned_at = EXCLUDED.assigned_at,
        closed_at = EXCLUDED.closed_at, first_response_seconds = EXCLUDED.first_response_seconds,
        resolution_seconds = EXCLUDED.resolution_seconds, message_count = EXCLUDED.message_count;
    RETURN NULL;
END $$
"""

KEEP_FROM_RATINGS = """
CREATE FUNCTION chat.keep_session_facts_score() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE chat.session_facts SET score = NULL WHERE session_id = OLD.session_id;
    ELSE
        UPDATE chat.session_facts SET score = NEW.score WHERE session_id = NEW.session_id;
    END IF;
    RETURN NULL;
END $$
"""

# Only the columns the facts hold: read state, previews, `updated_at` and the like change no fact.
SESSIONS_TRIGGER = """
CREATE TRIGGER sessions_keep_facts
AFTER INSERT OR UPDATE OF admin_id, created_at, assigned_at, closed_at, first_reply_at, message_count
ON chat.sessions FOR EACH ROW EXECUTE FUNCTION chat.keep_session_facts()
"""

RATINGS_TRIGGER = """
CREATE TRIGGER ratings_keep_facts
AFTER INSERT OR UPDATE OF score OR DELETE ON chat.ratings FOR EACH ROW EXECUTE FUNCTION chat.keep_session_facts_score()
"""

BACKFILL = """
INSERT INTO chat.session_facts (session_id, admin_id, opened_at, assigned_at, closed_at, first_response_seconds,
                                resolution_seconds, message_count, score)
SELECT s.id, s.admin_id, s.created_at, s.assigned_at, s.closed_at,
       extract(epoch FROM s.first_reply_at - s.created_at)::float8,
       extract(epoch FROM s.closed_at - s.created_at)::float8, s.message_count, r.score
FROM chat.sessions s LEFT JOIN chat.ratings r ON r.session_id = s.id
"""


def upgrade() -> None:
    op.create_table(
        "session_facts",
        sa.Column("session_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_seconds", sa.Double(), nullable=True),
        sa.Column("resolution_seconds", sa.Double(), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["chat.sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id"),
        schema="chat",
    )
    # The triggers first: creating them locks both tables against writers until this migration commits, so no
    # change can fall between the backfill's read and the triggers.
    op.execute(KEEP_FROM_SESSIONS)
    op.execute(KEEP_FROM_RATINGS)
    op.execute(SESSIONS_TRIGGER)
    op.execute(RATINGS_TRIGGER)
    op.execute(BACKFILL)
    op.create_index("session_facts_by_opened_at", "session_facts", ["opened_at"], schema="chat")
    op.create_index("session_facts_by_assigned_at", "session_facts", ["assigned_at"], schema="chat",
                    postgresql_where=sa.text("assigned_at IS NOT NULL"))
    op.create_index("session_facts_by_closed_at", "session_facts", ["closed_at"], schema="chat",
                    postgresql_where=sa.text("closed_at IS NOT NULL"))


def downgrade() -> None:
    op.execute("DROP TRIGGER ratings_keep_facts ON chat.ratings")
    op.execute("DROP TRIGGER sessions_keep_facts ON chat.sessions")
    op.execute("DROP FUNCTION chat.keep_session_facts_score()")
    op.execute("DROP FUNCTION chat.keep_session_facts()")
    op.drop_table("session_facts", schema="chat")
