"""Notification use cases. Each runs inside the caller's unit of work (``servicekit.uow``): a change and its
event (events.py -> outbox) commit together; reads take the unit's connection. They are and is shared by the REST routes and the
``notification.mark_read`` command so both act exactly alike."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.identity import Principal
from contracts.payloads import NotificationData, NotificationType, UnreadCountData
from servicekit.db import AnyRow
from servicekit.uow import UnitOfWork
from sqlalchemy import BigInteger, ColumnElement, Select, Subquery, and_, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_svc import events, unread
from notification_svc.db import notification_archives as archives
from notification_svc.db import notification_reads as reads
from notification_svc.db import notifications as n
from notification_svc.domain import NotificationNotFound, is_visible_to, require_admin, require_db_id
from notification_svc.idempotent import create_once


@dataclass(frozen=True)
class NewNotification:
    type: NotificationType
    title: str
    content: str
    link: str | None = None
    target_user_id: int | None = None


@dataclass(frozen=True)
class Page:
    items: list[NotificationData]
    total: int
    unread_count: int


_INSERT = n.insert().returning(n.c.id, n.c.created_at)
"""One statement object, values as parameters: its compiled form is found by a cache key computed once."""


async def send(
    uow: UnitOfWork, sender: Principal, new: NewNotification, *, idempotency_key: str | None = None
) -> dict[str, Any]:
    """Store the notification and its event; returns NotificationData as JSON (the first answer again for a
    retried ``idempotency_key``)."""
    require_admin(sender)

    async def create() -> NotificationData:
        return await create_notification(uow, new, created_by=sender.user_id)

    return await create_once(uow, sender, idempotency_key, "notification.send", new, create)


async def create_notification(uow: UnitOfWork, new: NewNotification, *, created_by: int) -> NotificationData:
    """Store one notification with its event and the unread badges it changes (``send``, and the platform's own
    notifications: notification_svc.left_messages, ``created_by`` 0)."""
    if new.target_user_id is None:
        everyone = await unread.lock_everyone_seen(uow.db)
        await unread.broadcast_sent(uow.db, new.type)
    row = (
        await uow.db.execute(_INSERT, {
            "type": new.type, "title": new.title, "content": new.content, "link": new.link,
            "target_user_id": new.target_user_id, "created_by": created_by,
        })
    ).one()
    notification = NotificationData(
        notification_id=row.id, type=new.type, title=new.title, content=new.content, link=new.link,
        created_at=row.created_at, is_read=False, target_user_id=new.target_user_id,
    )
    await events.notification_created(uow, notification)
    if new.target_user_id is None:
        await unread.announce(uow, everyone)
    else:
        # The target's badge lock as late as possible: the notification and its event are written before it,
        # and the lock, the counter and the badge are one call, so the lock is held for the badge's event and
        # the commit only (sends to one admin queue on it).
        await unread.lock_adjust_and_announce(uow, new.target_user_id, new.type, targeted_unread=1)
    return notification


def _mine(
    admin_id: int, type_: str | None, unread_only: bool, *, newest: int | None = None, archived: bool | None = None
) -> Subquery:
    """The admin's notifications (a subquery): targeted to them UNION ALL broadcasts. Each half has its own
    index in id order (db.py); with ``newest`` each half is cut to its ``newest`` highest ids by a backward
    index scan that stops there, so a page costs ``page * page_size`` rows, not the admin's whole history.
    ``archived``: only the archived ones (True), only the others (False), both (None)."""

    def half(condition: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        query = select(n).where(condition)
        if type_ is not None:
            query = query.where(n.c.type == type_)
        if unread_only:
            query = query.where(~_read_by(admin_id).exists())
        if archived is not None:
            archived_by = select(archives.c.notification_id).where(
                archives.c.user_id == admin_id, archives.c.notification_id == n.c.id
            ).exists()
            query = query.where(archived_by if archived else ~archived_by)
        if newest is not None:
            query = query.order_by(n.c.id.desc()).limit(newest)
        return query

    return union_all(half(n.c.target_user_id == admin_id), half(n.c.target_user_id.is_(None))).subquery("mine")


def _read_by(admin_id: int, notification_id: ColumnElement[int] = n.c.id) -> Select[datetime]:
    return select(reads.c.read_at).where(reads.c.notification_id == notification_id, reads.c.user_id == admin_id)


def _data(row: AnyRow) -> NotificationData:
    return NotificationData(
        notification_id=row.id, type=row.type, title=row.title, content=row.content, link=row.link,
        created_at=row.created_at, is_read=row.read_at is not None, target_user_id=row.target_user_id,
    )


async def list_mine(
    db: AsyncConnection, admin: Principal, *, page: int, page_size: int, unread_only: bool = False,
    type_: str | None = None, archived: bool = False,
) -> Page:
    """Newest first. ``total`` counts what matches the filters, ``unread_count`` the unread among them.
    The inbox (``archived`` False) leaves out what the admin archived; ``archived`` True lists only that."""
    require_admin(admin)
    newest = _mine(admin.user_id, type_, unread_only, newest=page * page_size, archived=archived)
    page_rows = select(newest).order_by(newest.c.id.desc()).limit(page_size).offset((page - 1) * page_size).subquery()
    read_at = _read_by(admin.user_id, page_rows.c.id).scalar_subquery().label("read_at")
    rows = (await db.execute(select(page_rows, read_at).order_by(page_rows.c.id.desc()))).all()
    mine = _mine(admin.user_id, type_, unread_only, archived=archived)
    mine_read = and_(reads.c.notification_id == mine.c.id, reads.c.user_id == admin.user_id)
    total, unread = (
        await db.execute(
            select(func.count(), func.count().filter(reads.c.read_at.is_(None)))
            .select_from(mine.outerjoin(reads, mine_read))
        )
    ).one()
    return Page(items=[_data(r) for r in rows], total=total, unread_count=unread)


async def get_mine(db: AsyncConnection, admin: Principal, notification_id: int) -> NotificationData:
    require_admin(admin)
    require_db_id(notification_id)
    mine_read = and_(reads.c.notification_id == n.c.id, reads.c.user_id == admin.user_id)
    row = (
        await db.execute(
            select(n, reads.c.read_at).select_from(n.outerjoin(reads, mine_read)).where(n.c.id == notification_id)
        )
    ).one_or_none()
    if row is None or not is_visible_to(row.target_user_id, admin.user_id):
        raise NotificationNotFound(notification_id)
    return _data(row)


async def unread_count(db: AsyncConnection, admin: Principal) -> UnreadCountData:
    """The badge, from the counters (unread.py): a few rows, whatever the admin's history."""
    require_admin(admin)
    return (await unread.counts(db, [admin.user_id]))[admin.user_id]


async def unread_count_by_scan(db: AsyncConnection, admin_id: int) -> int:
    """The same number by an anti-join over the admin's notifications (the old way, 50-150 ms at 100,000):
    kept as the reference the counters are checked against in tests and the benchmark."""
    mine = _mine(admin_id, None, unread_only=True)
    return (await db.execute(select(func.count()).select_from(mine))).scalar_one()


async def _require_visible(db: AsyncConnection, admin: Principal, notification_id: int) -> AnyRow:
    """The notification's type and target; takes the admin's lock (unread.py) before anything changes."""
    require_admin(admin)
    require_db_id(notification_id)
    target = (
        await db.execute(select(n.c.id, n.c.type, n.c.target_user_id).where(n.c.id == notification_id))
    ).one_or_none()
    if target is None or not is_visible_to(target.target_user_id, admin.user_id):
        raise NotificationNotFound(notification_id)
    await unread.lock(db, admin.user_id)
    return target


async def _count_read(db: AsyncConnection, admin_id: int, row: AnyRow, change: int) -> None:
    """Move the admin's counters for ``row`` becoming read (``change`` 1) or unread (-1)."""
    if row.target_user_id is None:
        await unread.adjust(db, admin_id, row.type, broadcasts_read=change)
    else:
        await unread.adjust(db, admin_id, row.type, targeted_unread=-change)


async def _insert_read(db: AsyncConnection, admin_id: int, notification_id: int) -> bool:
    inserted = (
        await db.execute(
            insert(reads)
            .values(notification_id=notification_id, user_id=admin_id)
            .on_conflict_do_nothing(index_elements=[reads.c.notification_id, reads.c.user_id])
            .returning(reads.c.notification_id)
        )
    ).scalar_one_or_none()
    return inserted is not None


async def mark_read(
    uow: UnitOfWork, admin: Principal, notification_id: int
) -> bool:
    """Mark one notification read for ``admin``; True if that changed anything (then one event is written).
    Reading an already read notification is a no-op: no second event."""
    row = await _require_visible(uow.db, admin, notification_id)
    if not await _insert_read(uow.db, admin.user_id, notification_id):
        return False
    await _count_read(uow.db, admin.user_id, row, 1)
    await events.read_state_changed(uow, admin.user_id, [notification_id], is_read=True)
    await unread.announce(uow, [admin.user_id])
    return True


async def mark_unread(
    uow: UnitOfWork, admin: Principal, notification_id: int
) -> bool:
    """The reverse of ``mark_read``. An archived notification marked unread also leaves the archive (it needs
    attention again): what is archived is always read, so the inbox holds everything unread."""
    row = await _require_visible(uow.db, admin, notification_id)
    await _delete_archive(uow.db, admin.user_id, notification_id)
    deleted = (
        await uow.db.execute(
            reads.delete()
            .where(reads.c.notification_id == notification_id, reads.c.user_id == admin.user_id)
            .returning(reads.c.notification_id)
        )
    ).scalar_one_or_none()
    if deleted is None:
        return False
    await _count_read(uow.db, admin.user_id, row, -1)
    await events.read_state_changed(uow, admin.user_id, [notification_id], is_read=False)
    await unread.announce(uow, [admin.user_id])
    return True


async def mark_all_read(uow: UnitOfWork, admin: Principal, type_: NotificationType | None = None) -> int:
    """Mark every unread notification of ``admin`` (of ``type_`` if given) read; returns how many changed
    (events chunked)."""
    require_admin(admin)
    await unread.lock(uow.db, admin.user_id)
    mine = _mine(admin.user_id, type_, unread_only=True)
    changed = (
        insert(reads)
        .from_select(["notification_id", "user_id"],
                     select(mine.c.id, literal(admin.user_id, BigInteger)).order_by(mine.c.id))
        .on_conflict_do_nothing(index_elements=[reads.c.notification_id, reads.c.user_id])
        .returning(reads.c.notification_id)
        .cte("changed")
    )
    rows = (
        await uow.db.execute(
            select(n.c.id, n.c.type, n.c.target_user_id).join(changed, changed.c.notification_id == n.c.id)
        )
    ).all()
    if not rows:
        return 0
    for (type_read, broadcast), group in _by_kind(rows).items():
        if broadcast:
            await unread.adjust(uow.db, admin.user_id, type_read, broadcasts_read=group)
        else:
            await unread.adjust(uow.db, admin.user_id, type_read, targeted_unread=-group)
    await events.read_state_changed(uow, admin.user_id, [r.id for r in rows], is_read=True)
    await unread.announce(uow, [admin.user_id])
    return len(rows)


def _by_kind(rows: Sequence[AnyRow]) -> dict[tuple[str, bool], int]:
    """How many of ``rows`` per (type, is a broadcast), in a fixed order (counter rows are updated in it)."""
    kinds: dict[tuple[str, bool], int] = {}
    for row in rows:
        key = (row.type, row.target_user_id is None)
        kinds[key] = kinds.get(key, 0) + 1
    return dict(sorted(kinds.items()))


async def archive(uow: UnitOfWork, admin: Principal, notification_id: int) -> bool:
    """Hide the notification from the admin's inbox (``archived=true`` still lists it); True if it was not
    archived yet. Archiving marks it read, like a notification center's "done": an archived item needs no more
    attention, and a badge counting something the inbox no longer shows would send the admin looking for it."""
    row = await _require_visible(uow.db, admin, notification_id)
    archived = (
        await uow.db.execute(
            insert(archives).values(user_id=admin.user_id, notification_id=notification_id)
            .on_conflict_do_nothing().returning(archives.c.notification_id)
        )
    ).scalar_one_or_none()
    if archived is None:
        return False
    if await _insert_read(uow.db, admin.user_id, notification_id):
        await _count_read(uow.db, admin.user_id, row, 1)
        await events.read_state_changed(uow, admin.user_id, [notification_id], is_read=True)
    await unread.announce(uow, [admin.user_id])
    return True


async def unarchive(uow: UnitOfWork, admin: Principal, notification_id: int) -> bool:
    """Back to the inbox, still read (it was read when archived); True if it was archived."""
    await _require_visible(uow.db, admin, notification_id)
    if not await _delete_archive(uow.db, admin.user_id, notification_id):
        return False
    await unread.announce(uow, [admin.user_id])
    return True


async def _delete_archive(db: AsyncConnection, admin_id: int, notification_id: int) -> bool:
    deleted = (
        await db.execute(
            archives.delete().where(archives.c.user_id == admin_id, archives.c.notification_id == notification_id)
            .returning(archives.c.notification_id)
        )
    ).scalar_one_or_none()
    return deleted is not None
