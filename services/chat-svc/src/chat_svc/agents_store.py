"""Reads and writes of agents' rows in `chat.admins` (availability, capacity, activity), within the caller's
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from contracts.payloads.agents import AgentAvailability, AvailabilityChangedBy
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.agents import AgentState
from chat_svc.db import admins, messages, sessions


async def ensure(db: AsyncConnection, admin_ids: Iterable[int], now: datetime) -> None:
    """Make these admins known (a row each); a new row counts its creation as the agent's first activity."""
    ids = sorted(set(admin_ids))
    if ids:
        await db.execute(insert(admins).values([{"admin_id": i, "last_active_at": now} for i in ids])
                         .on_conflict_do_nothing(index_elements=[admins.c.admin_id]))


async def known(db: AsyncConnection) -> set[int]:
    return set((await db.execute(select(admins.c.admin_id))).scalars())


async def states(
    db: AsyncConnection, admin_ids: Iterable[int] | None, online: set[int], default_capacity: int
) -> list[AgentState]:
    """The agents named (None: every known one), by id; an id without a row reads as the defaults."""
    query = select(admins)
    if admin_ids is not None:
        ids = sorted(set(admin_ids))
        query = query.where(admins.c.admin_id.in_(ids))
    rows = {r.admin_id: r for r in (await db.execute(query)).all()}
    ids = sorted(rows) if admin_ids is None else ids
    if not ids:
        return []
    active: dict[int, int] = dict((await db.execute(
        select(sessions.c.admin_id, func.count())
        .where(sessions.c.status == "active", sessions.c.admin_id.in_(ids)).group_by(sessions.c.admin_id)
    )).all())
    found = []
    for admin_id in ids:
        row = rows.get(admin_id)
        found.append(AgentState(
            admin_id=admin_id,
            availability=row.availability if row is not None else "online",
            availability_changed_at=row.availability_changed_at if row is not None else None,
            changed_by=row.changed_by if row is not None else None,
            capacity=row.capacity if row is not None and row.capacity is not None else default_capacity,
            active=active.get(admin_id, 0),
            online=admin_id in online,
            last_active_at=row.last_active_at if row is not None else None,
            seen_online_at=row.seen_online_at if row is not None else None,
        ))
    return found


async def _upsert(db: AsyncConnection, admin_id: int, **values: Any) -> None:
    statement = insert(admins).values(admin_id=admin_id, **values)
    await db.execute(statement.on_conflict_do_update(index_elements=[admins.c.admin_id], set_=values))


async def set_availability(
    db: AsyncConnection, admin_id: int, availability: AgentAvailability, by: AvailabilityChangedBy, at: datetime
) -> None:
    values: dict[str, Any] = {"availability": availability, "availability_changed_at": at, "changed_by": by}
    if by == "self":
        values["last_active_at"] = at
    await _upsert(db, admin_id, **values)


async def set_capacity(db: AsyncConnection, admin_id: int, capacity: int | None) -> None:
    await _upsert(db, admin_id, capacity=capacity)


async def note_activity(db: AsyncConnection, admin_id: int, at: datetime) -> None:
    """The agent was active at `at` (never moves the last activity back: events may arrive late)."""
    statement = insert(admins).values(admin_id=admin_id, last_active_at=at)
    await db.execute(statement.on_conflict_do_update(index_elements=[admins.c.admin_id], set_={
        "last_active_at": func.greatest(admins.c.last_active_at, statement.excluded.last_active_at)}))


async def note_seen_online(db: AsyncConnection, admin_ids: Iterable[int], at: datetime) -> None:
    """The agents with a socket open now: seen now; one with no activity recorded yet gets it now."""
    ids = sorted(set(admin_ids))
    if ids:
        await db.execute(update(admins).where(admins.c.admin_id.in_(ids)).values(
            seen_online_at=at, last_active_at=func.coalesce(admins.c.last_active_at, at)))


async def note_announced(db: AsyncConnection, admin_id: int, online: bool) -> None:
    await db.execute(update(admins).where(admins.c.admin_id == admin_id).values(announced_online=online))


async def announced_online(db: AsyncConnection) -> set[int]:
    return set((await db.execute(select(admins.c.admin_id).where(admins.c.announced_online))).scalars())


async def awaiting_reply(db: AsyncConnection, admin_ids: Iterable[int]) -> list[int]:
    """Active sessions of these agents whose latest message (system messages aside) is the user's."""
    ids = sorted(set(admin_ids))
    if not ids:
        return []
    latest = (
        select(messages.c.sender_type).where(messages.c.session_id == sessions.c.id,
                                             messages.c.sender_type != "system")
        .order_by(messages.c.id.desc()).limit(1).scalar_subquery()
    )
    query = (select(sessions.c.id).where(sessions.c.status == "active", sessions.c.admin_id.in_(ids), latest == "user")
             .order_by(sessions.c.id).with_for_update(of=sessions))
    return list((await db.execute(query)).scalars())


async def requeue(db: AsyncConnection, session_id: int) -> None:
    """Back to the queue: waiting, no admin (its priority and age keep its place)."""
    await db.execute(update(sessions).where(sessions.c.id == session_id).values(
        status="waiting", admin_id=None, assigned_at=None, updated_at=func.now()))


async def note_role(db: AsyncConnection, admin_id: int, role: str, at: datetime) -> None:
    """The admin's role as their token says now (chat-svc learns who the supervisors are from their calls)."""
    statement = insert(admins).values(admin_id=admin_id, role=role, last_active_at=at)
    await db.execute(statement.on_conflict_do_update(index_elements=[admins.c.admin_id], set_={"role": role}))


async def with_role(db: AsyncConnection, role: str) -> list[int]:
    return list((await db.execute(select(admins.c.admin_id).where(admins.c.role == role)
                                  .order_by(admins.c.admin_id))).scalars())
