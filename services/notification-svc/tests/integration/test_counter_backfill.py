"""Migration 0003 fills the unread counters from the rows written before it: afterwards each admin's badge from
the counters equals the anti-join over their notifications."""

from pathlib import Path

import notification_svc
from alembic import command
from alembic.config import Config
from contracts.identity import Principal
from notification_svc import notifications, unread
from notification_svc.db import SCHEMA
from servicekit.db import create_engine
from sqlalchemy import Connection, text

MIGRATIONS = Path(notification_svc.__file__).parent / "alembic"


def _upgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["schema"] = SCHEMA
    command.upgrade(config, revision)


async def test_the_migration_backfills_unread_counters_that_agree_with_the_anti_join(make_database):
    engine = create_engine(await make_database())
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
            await conn.run_sync(_upgrade, "0002")
            await conn.execute(text(
                "INSERT INTO notification.notifications (type, title, content, target_user_id, created_by) "
                "SELECT (ARRAY['system','user','order','alert'])[1 + i % 4], 't', 'c', "
                "CASE WHEN i % 3 = 0 THEN NULL ELSE 10 + i % 2 END, 12 FROM generate_series(1, 200) AS i"))
            await conn.execute(text(  # admin 10 read every 5th of theirs and of the broadcasts, admin 13 some
                "INSERT INTO notification.notification_reads (notification_id, user_id) "
                "SELECT id, 10 FROM notification.notifications WHERE id % 5 = 0 "
                "AND (target_user_id IS NULL OR target_user_id = 10) "
                "UNION ALL SELECT id, 13 FROM notification.notifications WHERE id % 7 = 0 AND target_user_id IS NULL"))
            await conn.run_sync(_upgrade, "head")

        async with engine.connect() as db:
            admins = [10, 11, 12, 13]
            by_counters = await unread.counts(db, admins)
            by_scan = {a: await notifications.unread_count_by_scan(db, a) for a in admins}
            seen = dict((await db.execute(text(
                "SELECT user_id, seen_at IS NOT NULL FROM notification.notification_admins"))).all())
            via_route = await notifications.unread_count(db, Principal(user_id=10, user_type="admin", username="a10"))
        assert {a: c.unread_count for a, c in by_counters.items()} == by_scan
        assert by_scan[10] > 0 and by_scan[13] < by_scan[12]
        assert via_route == by_counters[10]
        assert seen == {10: True, 11: False, 12: True, 13: True}  # 11 was only ever a target
    finally:
        await engine.dispose()
