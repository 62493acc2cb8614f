"""message batch commit: one function writes a whole group commit of socket messages (chat_svc.message_batch) in
one statement, if none of its sessions changed since the batch read them.

Why: the group commit took about ten round trips per batch (BEGIN, the answered commands, the sessions FOR UPDATE,
the messages, the sessions, the reply deadlines, the outbox, the answers, COMMIT), and at the loads where batches
hold one message each of them was paid per message. Now a batch reads (one statement: the answered commands, the
sessions with their row versions, the time and the message ids) and writes (this function, in its own transaction):
two round trips. The rules stay in Python (`domain.check_can_post` on the rows read); the function only writes, and
only over the very session rows the rules were checked on: it locks them and compares each row's version (`xmin`,
which every UPDATE of the row changes) with the one read. If any changed (a message from elsewhere, a close, a
transfer), it writes nothing and returns those sessions' ids: the batch reads again and checks again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COMMIT_MESSAGE_BATCH = """
CREATE FUNCTION chat.commit_message_batch(
    p_guard_ids bigint[], p_guard_versions text[],
    p_message_ids bigint[], p_message_sessions bigint[], p_sender_types text[], p_sender_ids bigint[],
    p_contents text[], p_message_types text[], p_at timestamptz,
    p_session_ids bigint[], p_last_messages text[], p_unread_counts int[], p_message_counts int[],
    p_first_replies timestamptz[],
    p_answered bigint[], p_restart_ids bigint[], p_restart_admins bigint[], p_wrote_ids bigint[],
    p_wrote_admins bigint[], p_deadline_at timestamptz,
    p_event_ids uuid[], p_event_types text[], p_exchanges text[], p_routing_keys text[], p_aggregate_ids text[],
    p_bodies bytea[], p_channel text,
    p_key_users bigint[], p_keys text[], p_fingerprints text[], p_answers text[]
) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    stale bigint[];
BEGIN
    -- The sessions the rules were checked on, locked in id order, each still the version read.
    SELECT coalesce(array_agg(g.id), '{}') INTO stale
    FROM unnest(p_guard_ids, p_guard_versions) AS g(id, version)
    LEFT JOIN (SELECT s.id, s.xmin::text AS version FROM chat.sessions AS s WHERE s.id = ANY(p_guard_ids)
               ORDER BY s.id FOR UPDATE) AS s ON s.id = g.id
    WHERE s.version IS DISTINCT FROM g.version;
    IF cardinality(stale) > 0 THEN
        RETURN stale;
    END IF;

    INSERT INTO chat.messages (id, session_id, sender_type, sender_id, content, message_type, created_at)
    SELECT m.id, m.session_id, m.sender_type, m.sender_id, m.content, m.message_type, p_at
    FROM unnest(p_message_ids, p_message_sessions, p_sender_types, p_sender_ids, p_contents, p_message_types)
        AS m(id, session_id, sender_type, sender_id, content, message_type);

    UPDATE chat.sessions AS s
    SET last_message = v.last_message, updated_at = p_at, admin_unread_count = v.unread,
        message_count = v.said, first_reply_at = v.first_reply
    FROM unnest(p_session_ids, p_last_messages, p_unread_counts, p_message_counts, p_first_replies)
        AS v(id, last_message, unread, said, first_reply)
    WHERE s.id = v.id;

    -- Reply deadlines (chat_svc.reply_deadlines): the agent's last word ends the wait; a user's word after the
    -- agent's in the batch starts it again; a user's word alone starts it unless one runs for that agent.
    DELETE FROM chat.reply_deadlines WHERE session_id = ANY(p_answered);
    INSERT INTO chat.reply_deadlines AS d (session_id, admin_id, since)
    SELECT v.session_id, v.admin_id, p_deadline_at FROM unnest(p_restart_ids, p_restart_admins) AS v(session_id, admin_id)
    ON CONFLICT (session_id) DO UPDATE SET admin_id = excluded.admin_id, since = excluded.since, reminded_at = NULL,
        escalated_at = NULL;
    INSERT INTO chat.reply_deadlines AS d (session_id, admin_id, since)
    SELECT v.session_id, v.admin_id, p_deadline_at FROM unnest(p_wrote_ids, p_wrote_admins) AS v(session_id, admin_id)
    ON CONFLICT (session_id) DO UPDATE SET admin_id = excluded.admin_id, since = excluded.since, reminded_at = NULL,
        escalated_at = NULL
    WHERE d.admin_id <> excluded.admin_id;

    -- The events, in this order (servicekit.outbox_batch), and the relay's wake-up at commit.
    INSERT INTO chat.outbox (event_id, event_type, exchange, routing_key, aggregate_id, body)
    SELECT e.event_id, e.event_type, e.exchange, e.routing_key, e.aggregate_id, e.body
    FROM unnest(p_event_ids, p_event_types, p_exchanges, p_routing_keys, p_aggregate_ids, p_bodies)
        WITH ORDINALITY AS e(event_id, event_type, exchange, routing_key, aggregate_id, body, n)
    ORDER BY e.n;
    IF cardinality(p_event_ids) > 0 THEN
        PERFORM pg_notify(p_channel, '');
    END IF;

    -- The commands' answers: a command delivered again gets its first answer (a second writer of the same
    -- command fails here on the primary key, and the whole batch with it).
    INSERT INTO chat.idempotency_keys (user_id, key, fingerprint, status, body)
    SELECT k.user_id, k.key, k.fingerprint, 201, k.body::jsonb
    FROM unnest(p_key_users, p_keys, p_fingerprints, p_answers) AS k(user_id, key, fingerprint, body);
    RETURN '{}';
END
$$
"""


def upgrade() -> None:
    op.execute(COMMIT_MESSAGE_BATCH)


def downgrade() -> None:
    op.execute("DROP FUNCTION chat.commit_message_batch(bigint[], text[], bigint[], bigint[], text[], bigint[], "
               "text[], text[], timestamptz, bigint[], text[], int[], int[], timestamptz[], bigint[], bigint[], "
               "bigint[], bigint[], bigint[], timestamptz, uuid[], text[], text[], text[], text[], bytea[], text, "
               "bigint[], text[], text[], text[])")
