"""``notification.lock_and_adjust_badge``: an admin's badge lock, counter move and counts in one call

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

A targeted send held its admin's lock (``unread.lock``) across a round trip before moving the counter and reading
the badge. A CTE cannot do all three: a statement's snapshot is taken before it waits for the lock, so it would
read counts without the changes committed while it waited. In a VOLATILE plpgsql function every statement takes
a fresh snapshot, so the counts read after the lock include every earlier change (unread.py).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION notification.lock_and_adjust_badge(
    p_user_id bigint, p_type text, p_targeted_unread integer, p_broadcasts_read integer
) RETURNS TABLE (o_user_id bigint, o_type text, o_plus bigint, o_minus bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM notification.notification_admins a WHERE a.user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO notification.notification_admins (user_id) VALUES (p_user_id) ON CONFLICT DO NOTHING;
        PERFORM 1 FROM notification.notification_admins a WHERE a.user_id = p_user_id FOR UPDATE;
    END IF;
    IF p_targeted_unread <> 0 OR p_broadcasts_read <> 0 THEN
        INSERT INTO notification.unread_counters AS c (user_id, type, targeted_unread, broadcasts_read)
        VALUES (p_user_id, p_type, p_targeted_unread, p_broadcasts_read)
        ON CONFLICT (user_id, type) DO UPDATE SET
            targeted_unread = c.targeted_unread + excluded.targeted_unread,
            broadcasts_read = c.broadcasts_read + excluded.broadcasts_read;
    END IF;
    RETURN QUERY
        SELECT NULL::bigint, b.type, b.total::bigint, 0::bigint FROM notification.broadcast_totals b
        UNION ALL
        SELECT c.user_id, c.type, c.targeted_unread::bigint, c.broadcasts_read::bigint
        FROM notification.unread_counters c WHERE c.user_id = p_user_id;
END
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION notification.lock_and_adjust_badge(bigint, text, integer, integer)")
