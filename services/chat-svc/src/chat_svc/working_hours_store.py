"""Reads and writes of the working hours, the greeting and the service's served-since mark (the one row of
`chat.working_hours`), within the caller's transaction; `working_time(db)` is what the rest of chat-svc asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.payloads.system_text import GreetingParams
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.db import working_hours as table
from chat_svc.working_hours import DEFAULT_GREETING, WorkingHoursBody
from chat_svc.working_hours import working_time as schedule_of
from chat_svc.working_time import WorkingTime


@dataclass(frozen=True)
class Stored:
    body: WorkingHoursBody
    updated_by: int | None
    updated_at: datetime | None
    served_since: datetime | None


async def load(db: AsyncConnection) -> Stored:
    row = (await db.execute(select(table).where(table.c.id == 1))).first()
    if row is None:  # the migration inserts it; an empty configuration reads the same
        return Stored(WorkingHoursBody(weekly=None), None, None, None)
    body = WorkingHoursBody.model_validate({"weekly": row.weekly, "exceptions": row.exceptions,
                                            "greeting": row.greeting})
    return Stored(body, row.updated_by, row.updated_at, row.served_since)


async def working_time(db: AsyncConnection) -> WorkingTime:
    """The configured working time (`ALWAYS_OPEN` when nothing is configured)."""
    return schedule_of((await load(db)).body)


async def greeting(db: AsyncConnection) -> GreetingParams:
    """The greeting in force: the configured one, else the default."""
    configured = (await load(db)).body.greeting
    return configured.params() if configured is not None else DEFAULT_GREETING


async def save(db: AsyncConnection, body: WorkingHoursBody, *, by: int, at: datetime) -> None:
    dumped = body.model_dump(mode="json")
    await db.execute(update(table).where(table.c.id == 1).values(
        weekly=dumped["weekly"], exceptions=dumped["exceptions"], greeting=dumped["greeting"], updated_by=by,
        updated_at=at))


async def served_since(db: AsyncConnection) -> datetime | None:
    return (await db.execute(select(table.c.served_since).where(table.c.id == 1))).scalar()


async def set_served_since(db: AsyncConnection, since: datetime | None) -> None:
    await db.execute(update(table).where(table.c.id == 1).values(served_since=since))
