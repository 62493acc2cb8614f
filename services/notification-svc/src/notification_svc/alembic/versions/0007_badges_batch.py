"""``notification.lock_and_adjust_badges``: the badge locks, counter moves and counts of a batch of targeted sends

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The group commit of targeted sends (send_batch.py) writes many notifications in one transaction, to one admin or
several. Like ``lock_and_adjust_badge`` (0006) for one admin, in one call: each admin's lock, taken in id order
(as a broadcast takes them, so two transactions never wait for each other in a cycle), one counter move per
(admin, type) by the number of notifications, and every touched admin's counts read after the locks (a VOLATILE
plpgsql function: each statement takes a fresh snapshot, so the counts include every change committed before).
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION notification.lock_and_adjust_badges(
    p_user_ids bigint[], p_types text[], p_targeted_unread integer[]
) RETURNS TABLE (o_user_id bigint, o_type text, o_plus bigint, o_minus bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_user bigint;
BEGIN
    FOR v_user IN SELECT DISTINCT u FROM unnest(p_user_ids) AS u ORDER BY u LOOP
        PERFORM 1 FROM notification.notification_admins a WHERE a.user_id = v_user FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO notification.notification_admins (user_id) VALUES (v_user) ON CONFLICT DO NOTHING;
            PERFORM 1 FROM notification.notification_admins a WHERE a.user_id = v_user FOR UPDATE;
        END IF;
    END LOOP;
    INSERT INTO notification.unread_counters AS c (user_id, type, targeted_unread, broadcasts_read)
    SELECT v.user_id, v.type, sum(v.delta)::integer, 0
    FROM unnest(p_user_ids, p_types, p_targeted_unread) AS v(user_id, type, delta)
    GROUP BY v.user_id, v.type ORDER BY v.user_id, v.type
    ON CONFLICT (user_id, type) DO UPDATE SET targeted_unread = c.targeted_unread + excluded.targeted_unread;
    RETURN QUERY
        SELECT NULL::bigint, b.type, b.total::bigint, 0::bigint FROM notification.broadcast_totals b
        UNION ALL
        SELECT c.user_id, c.type, c.targeted_unread::bigint, c.broadcasts_read::bigint
        FROM notification.unread_counters c WHERE c.user_id = ANY(p_user_ids);
END
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION notification.lock_and_adjust_badges(bigint[], text[], integer[])")
