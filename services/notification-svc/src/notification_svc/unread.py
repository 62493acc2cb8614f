"""Unread badges: counters changed in the transaction of every change, read without a scan, and announced.

An admin's unread count of one type is ``targeted_unread + broadcast total - broadcasts_read`` (db.py). Every
use case that changes what an admin has unread:

1. ``lock``s that admin first (their ``notification_admins`` row; a broadcast locks every known admin, in id
   order, so two changes never wait for each other in a cycle; a targeted send takes the lock, moves the counter
   and reads the badge in one call, ``lock_adjust_and_announce``, after writing the notification);
2. moves the counters by exactly the rows it changed (``adjust`` / ``broadcast_sent``; an ``INSERT ... ON
   CONFLICT DO NOTHING RETURNING`` tells which rows changed, even when two requests race);
3. ``announce``s the resulting numbers in the same transaction (event ``notification.unread_counts_changed``).

Because of the lock, each announced number includes every earlier change of that admin, and the events leave
the outbox in commit order: the last number an admin's sockets receive is the one in the database.

Which admins a broadcast changes: notification-svc does not own accounts, so it announces to the admins it has
seen calling its API (``seen``: recorded once, on their first call). An admin who has never opened the console
has no socket to push to; their first call fetches the number and records them.
"""

import logging
from collections.abc import Iterable, Sequence
from typing import Any, get_args

from contracts.payloads import NotificationType, UnreadByType, UnreadCountData
from servicekit.uow import UnitOfWork
from sqlalchemy import BigInteger, Integer, Row, bindparam, func, literal, null, select, union_all
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notification_svc import events
from notification_svc.db import SCHEMA
from notification_svc.db import broadcast_totals as totals
from notification_svc.db import notification_admins as admins
from notification_svc.db import unread_counters as counters

log = logging.getLogger(__name__)

TYPES: tuple[NotificationType, ...] = get_args(NotificationType)
MAX_REMEMBERED = 100_000
"""``SeenAdmins`` forgets everyone past this many ids (then records each again once): memory stays bounded."""


async def lock(db: AsyncConnection, user_id: int) -> None:
    """Hold ``user_id``'s row until the transaction ends (created, as a mere target, if they have none)."""
    locked = select(admins.c.user_id).where(admins.c.user_id == user_id).with_for_update()
    if (await db.execute(locked)).first() is None:
        await db.execute(insert(admins).values(user_id=user_id).on_conflict_do_nothing())
        await db.execute(locked)


async def lock_everyone_seen(db: AsyncConnection) -> list[int]:
    """Lock every admin seen using the API, in id order; their ids."""
    query = select(admins.c.user_id).where(admins.c.seen_at.is_not(None)).order_by(admins.c.user_id).with_for_update()
    return list((await db.execute(query)).scalars())


async def adjust(db: AsyncConnection, user_id: int, type_: str, *, targeted_unread: int = 0,
                 broadcasts_read: int = 0) -> None:
    if targeted_unread == 0 and broadcasts_read == 0:
        return
    row = insert(counters).values(user_id=user_id, type=type_, targeted_unread=targeted_unread,
                                  broadcasts_read=broadcasts_read)
    await db.execute(row.on_conflict_do_update(
        index_elements=[counters.c.user_id, counters.c.type],
        set_={"targeted_unread": counters.c.targeted_unread + row.excluded.targeted_unread,
              "broadcasts_read": counters.c.broadcasts_read + row.excluded.broadcasts_read},
    ))


async def broadcast_sent(db: AsyncConnection, type_: str) -> None:
    row = insert(totals).values(type=type_, total=1)
    await db.execute(row.on_conflict_do_update(index_elements=[totals.c.type],
                                               set_={"total": totals.c.total + 1}))


_COUNTS = union_all(
    select(null().cast(BigInteger).label("user_id"), totals.c.type, totals.c.total.label("plus"),
           literal(0, Integer).label("minus")),
    select(counters.c.user_id, counters.c.type, counters.c.targeted_unread, counters.c.broadcasts_read)
    .where(counters.c.user_id == func.any(bindparam("ids", type_=ARRAY(BigInteger)))),
)
"""One statement, so one snapshot: the broadcast totals and the admins' counters of the same moment."""


async def counts(db: AsyncConnection, user_ids: Sequence[int]) -> dict[int, UnreadCountData]:
    """Each admin's badge from the counters (a few rows per admin, no scan of their notifications)."""
    return _badges((await db.execute(_COUNTS, {"ids": list(user_ids)})).all(), user_ids)


_LOCK_AND_ADJUST = sql(
    f"SELECT o_user_id AS user_id, o_type AS type, o_plus AS plus, o_minus AS minus "
    f"FROM {SCHEMA}.lock_and_adjust_badge(:user_id, :type, :targeted_unread, :broadcasts_read)"
)
"""``lock``, ``adjust`` and ``counts`` of one admin in one round trip: a plpgsql function (migration 0006), whose
statements each take a fresh snapshot, so the counts it reads after the lock include every earlier change (a
single statement could not: its snapshot is older than the lock it waits for)."""


async def lock_adjust_and_announce(uow: UnitOfWork, user_id: int, type_: str, *, targeted_unread: int = 0,
                                   broadcasts_read: int = 0) -> None:
    """``lock``, ``adjust`` and ``announce`` for one admin: the lock is held for the event's statement and the
    commit only (two round trips), instead of four."""
    rows = (await uow.db.execute(_LOCK_AND_ADJUST, {
        "user_id": user_id, "type": type_, "targeted_unread": targeted_unread, "broadcasts_read": broadcasts_read,
    })).all()
    await events.unread_counts_changed(uow, _badges(rows, [user_id]))


def badges(rows: Sequence[Row[Any]] | Sequence[Any], user_ids: Sequence[int]) -> dict[int, UnreadCountData]:
    """Each admin's badge from rows of (user_id, type, plus, minus) as ``_COUNTS`` and the badge functions return
    them (SQLAlchemy rows or asyncpg records)."""
    return _badges(rows, user_ids)


def _badges(rows: Sequence[Any], user_ids: Sequence[int]) -> dict[int, UnreadCountData]:
    broadcasts = dict.fromkeys(TYPES, 0)
    per_admin = {user_id: dict.fromkeys(TYPES, 0) for user_id in user_ids}
    for row in rows:
        user_id, type_, plus, minus = row[0], row[1], row[2], row[3]
        if user_id is None:
            broadcasts[type_] += plus
        else:
            per_admin[user_id][type_] += plus - minus
    return {user_id: _badge({t: own[t] + broadcasts[t] for t in TYPES}) for user_id, own in per_admin.items()}


def _badge(by_type: dict[NotificationType, int]) -> UnreadCountData:
    if min(by_type.values()) < 0:  # only rows changed behind the service's back get here: ``rebuild`` repairs
        log.warning("unread counters below zero; run unread.rebuild", extra={"by_type": by_type})
        by_type = {t: max(0, count) for t, count in by_type.items()}
    return UnreadCountData(unread_count=sum(by_type.values()), by_type=UnreadByType(**by_type))


async def rebuild(db: AsyncConnection) -> None:
    """Recount every counter from the rows (for rows written behind the service's back, e.g. a bulk load);
    hold no other transaction open on them meanwhile. The migration that created the counters did the same."""
    await db.execute(sql(f"DELETE FROM {SCHEMA}.unread_counters"))
    await db.execute(sql(f"""
        INSERT INTO {SCHEMA}.broadcast_totals AS b (type, total)
        SELECT t.type, count(n.id) FROM unnest(CAST(:types AS text[])) AS t(type)
        LEFT JOIN {SCHEMA}.notifications n ON n.type = t.type AND n.target_user_id IS NULL
        GROUP BY t.type
        ON CONFLICT (type) DO UPDATE SET total = excluded.total
    """), {"types": list(TYPES)})
    await db.execute(sql(f"""
        INSERT INTO {SCHEMA}.unread_counters (user_id, type, targeted_unread, broadcasts_read)
        SELECT user_id, type, sum(targeted_unread), sum(broadcasts_read) FROM (
            SELECT n.target_user_id AS user_id, n.type, count(*) AS targeted_unread, 0 AS broadcasts_read
            FROM {SCHEMA}.notifications n
            WHERE n.target_user_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM {SCHEMA}.notification_reads r
                WHERE r.notification_id = n.id AND r.user_id = n.target_user_id
            )
            GROUP BY n.target_user_id, n.type
            UNION ALL
            SELECT r.user_id, n.type, 0, count(*)
            FROM {SCHEMA}.notification_reads r JOIN {SCHEMA}.notifications n ON n.id = r.notification_id
            WHERE n.target_user_id IS NULL
            GROUP BY r.user_id, n.type
        ) AS parts GROUP BY user_id, type
    """))


async def announce(uow: UnitOfWork, user_ids: Iterable[int]) -> None:
    """Publish these admins' badges as they are now, in this transaction (call it after ``lock`` and the
    change)."""
    ids = sorted(set(user_ids))
    if ids:
        await events.unread_counts_changed(uow, await counts(uow.db, ids))


class SeenAdmins:
    """Records, once per process, each admin calling the notification API (``notification_admins.seen_at``),
    in a transaction of its own (never inside a change, whose lock order it would break)."""

    def __init__(self) -> None:
        self._known: set[int] = set()

    async def record(self, engine: AsyncEngine, user_id: int) -> None:
        if user_id in self._known:
            return
        row = insert(admins).values(user_id=user_id, seen_at=func.now())
        async with engine.begin() as db:
            await db.execute(row.on_conflict_do_update(
                index_elements=[admins.c.user_id], set_={"seen_at": func.now()}, where=admins.c.seen_at.is_(None),
            ))
        if len(self._known) >= MAX_REMEMBERED:
            self._known.clear()
        self._known.add(user_id)
