"""Notification use cases. Each runs inside the caller's unit of work (``servicekit.uow``): a change and its
event (events.py -> outbox) commit together; reads take the unit's connection. They are and is shared by the REST routes and the
``notification.mark_read`` command so both act exactly alike."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.identity import Principal
from contracts.payloads import NotificationData, NotificationType
from servicekit.db import AnyRow
from servicekit.uow import UnitOfWork
from sqlalchemy import BigInteger, ColumnElement, Select, Subquery, and_, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_svc import events
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
        row = (
            await uow.db.execute(_INSERT, {
                "type": new.type, "title": new.title, "content": new.content, "link": new.link,
                "target_user_id": new.target_user_id, "created_by": sender.user_id,
            })
        ).one()
        notification = NotificationData(
            notification_id=row.id, type=new.type, title=new.title, content=new.content, link=new.link,
            created_at=row.created_at, is_read=False, target_user_id=new.target_user_id,
        )
        await events.notification_created(uow, notification)
        return notification

    return await create_once(uow, sender, idempotency_key, "notification.send", new, create)


def _mine(admin_id: int, type_: str | None, unread_only: bool, *, newest: int | None = None) -> Subquery:
    """The admin's notifications (a subquery): targeted to them UNION ALL broadcasts. Each half has its own
    index in id order (db.py); with ``newest`` each half is cut to its ``newest`` highest ids by a backward
    index scan that stops there, so a page costs ``page * page_size`` rows, not the admin's whole history."""

    def half(condition: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        query = select(n).where(condition)
        if type_ is not None:
            query = query.where(n.c.type == type_)
        if unread_only:
            query = query.where(~_read_by(admin_id).exists())
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
    type_: str | None = None,
) -> Page:
    """Newest first. ``total`` counts what matches the filters, ``unread_count`` the unread among them."""
    require_admin(admin)
    newest = _mine(admin.user_id, type_, unread_only, newest=page * page_size)
    page_rows = select(newest).order_by(newest.c.id.desc()).limit(page_size).offset((page - 1) * page_size).subquery()
    read_at = _read_by(admin.user_id, page_rows.c.id).scalar_subquery().label("read_at")
    rows = (await db.execute(select(page_rows, read_at).order_by(page_rows.c.id.desc()))).all()
    mine = _mine(admin.user_id, type_, unread_only)
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


async def unread_count(db: AsyncConnection, admin: Principal) -> int:
    require_admin(admin)
    mine = _mine(admin.user_id, None, unread_only=True)
    return (await db.execute(select(func.count()).select_from(mine))).scalar_one()


async def _require_visible(db: AsyncConnection, admin: Principal, notification_id: int) -> None:
    require_admin(admin)
    require_db_id(notification_id)
    target = (
        await db.execute(select(n.c.id, n.c.target_user_id).where(n.c.id == notification_id))
    ).one_or_none()
    if target is None or not is_visible_to(target.target_user_id, admin.user_id):
        raise NotificationNotFound(notification_id)


async def mark_read(
    uow: UnitOfWork, admin: Principal, notification_id: int
) -> bool:
    """Mark one notification read for ``admin``; True if that changed anything (then one event is written).
    Reading an already read notification is a no-op: no second event."""
    await _require_visible(uow.db, admin, notification_id)
    inserted = (
        await uow.db.execute(
            insert(reads)
            .values(notification_id=notification_id, user_id=admin.user_id)
            .on_conflict_do_nothing(index_elements=[reads.c.notification_id, reads.c.user_id])
            .returning(reads.c.notification_id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return False
    await events.read_state_changed(uow, admin.user_id, [notification_id], is_read=True)
    return True


async def mark_unread(
    uow: UnitOfWork, admin: Principal, notification_id: int
) -> bool:
    await _require_visible(uow.db, admin, notification_id)
    deleted = (
        await uow.db.execute(
            reads.delete()
            .where(reads.c.notification_id == notification_id, reads.c.user_id == admin.user_id)
            .returning(reads.c.notification_id)
        )
    ).scalar_one_or_none()
    if deleted is None:
        return False
    await events.read_state_changed(uow, admin.user_id, [notification_id], is_read=False)
    return True


async def mark_all_read(uow: UnitOfWork, admin: Principal) -> int:
    """Mark every unread notification of ``admin`` read; returns how many changed (events chunked)."""
    require_admin(admin)
    mine = _mine(admin.user_id, None, unread_only=True)
    changed = (
        await uow.db.execute(
            insert(reads)
            .from_select(["notification_id", "user_id"], select(mine.c.id, literal(admin.user_id, BigInteger)))
            .on_conflict_do_nothing(index_elements=[reads.c.notification_id, reads.c.user_id])
            .returning(reads.c.notification_id)
        )
    ).scalars().all()
    if changed:
        await events.read_state_changed(uow, admin.user_id, list(changed), is_read=True)
    return len(changed)
