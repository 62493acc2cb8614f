"""Reads and writes of `chat.reply_deadlines` (a user's message waiting for the agent's reply) and
`chat.agent_alerts`, within the caller's transaction.

Lock order, as everywhere in chat-svc: assignment lock -> session rows -> deadline rows. The use cases that write
a message hold the session row when they touch its deadline; the sweep locks session rows (`SKIP LOCKED`) before
it marks deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.db import agent_alerts, messages, reply_deadlines, sessions


@dataclass(frozen=True)
class PendingReply:
    """An active session whose user waits for its agent `admin_id` since `since`."""

    session_id: int
    admin_id: int
    since: datetime
    reminded_at: datetime | None
    escalated_at: datetime | None


async def user_wrote(db: AsyncConnection, session_id: int, admin_id: int, at: datetime) -> None:
    """The user wrote to their agent `admin_id`: the wait starts now, unless it already runs for that agent (a
    further message never pushes the deadlines later)."""
    statement = insert(reply_deadlines).values(session_id=session_id, admin_id=admin_id, since=at)
    await db.execute(statement.on_conflict_do_update(
        index_elements=[reply_deadlines.c.session_id],
        set_={"admin_id": statement.excluded.admin_id, "since": statement.excluded.since, "reminded_at": None,
              "escalated_at": None},
        where=reply_deadlines.c.admin_id != statement.excluded.admin_id,
    ))


async def answered(db: AsyncConnection, session_id: int) -> None:
    """The agent replied: no deadline runs until the user writes again."""
    await db.execute(reply_deadlines.delete().where(reply_deadlines.c.session_id == session_id))


async def assigned(db: AsyncConnection, session_id: int, admin_id: int, at: datetime) -> None:
    """The session has a new agent: if the user's message is the latest (system messages aside) it waits for
    them from `at` (time in the queue is no agent's delay); otherwise nothing waits."""
    latest = (await db.execute(
        select(messages.c.sender_type).where(messages.c.session_id == session_id, messages.c.sender_type != "system")
        .order_by(messages.c.id.desc()).limit(1)
    )).scalar()
    if latest != "user":
        await answered(db, session_id)
        return
    statement = insert(reply_deadlines).values(session_id=session_id, admin_id=admin_id, since=at)
    await db.execute(statement.on_conflict_do_update(
        index_elements=[reply_deadlines.c.session_id],
        set_={"admin_id": admin_id, "since": at, "reminded_at": None, "escalated_at": None},
    ))


def _due(remind_before: datetime | None, reassign_before: datetime | None) -> Any:
    d = reply_deadlines.c
    conditions = []
    if remind_before is not None:
        conditions.append(and_(d.reminded_at.is_(None), d.since <= remind_before))
    if reassign_before is not None:
        conditions.append(d.since <= reassign_before)
    return or_(*conditions)


async def any_due(db: AsyncConnection, *, remind_before: datetime | None, reassign_before: datetime | None) -> bool:
    """Whether some deadline may be due (a cheap read without locks; `since` earlier than `now` minus a deadline
    is necessary, open time never being more than the time elapsed)."""
    if remind_before is None and reassign_before is None:
        return False
    query = select(reply_deadlines.c.session_id).where(_due(remind_before, reassign_before)).limit(1)
    return (await db.execute(query)).first() is not None


async def forget_stale(db: AsyncConnection) -> None:
    """Rows whose session is no longer active with that agent (closed, back in the queue, transferred)."""
    d, s = reply_deadlines.c, sessions.c
    stale = select(s.id).where(s.id == d.session_id, s.status == "active", s.admin_id == d.admin_id)
    await db.execute(reply_deadlines.delete().where(~stale.exists()))


async def pending(
    db: AsyncConnection, *, remind_before: datetime | None, reassign_before: datetime | None, limit: int = 200
) -> list[PendingReply]:
    """Deadlines that may be due, oldest first, their sessions locked `FOR UPDATE SKIP LOCKED`: a session a use
    case holds right now (a reply being written) is left for the next sweep."""
    d, s = reply_deadlines.c, sessions.c
    query = (select(d.session_id, d.admin_id, d.since, d.reminded_at, d.escalated_at)
             .select_from(reply_deadlines.join(sessions, s.id == d.session_id))
             .where(s.status == "active", s.admin_id == d.admin_id, _due(remind_before, reassign_before))
             .order_by(d.since, d.session_id).limit(limit).with_for_update(of=sessions, skip_locked=True))
    return [PendingReply(r.session_id, r.admin_id, r.since, r.reminded_at, r.escalated_at)
            for r in (await db.execute(query)).all()]


async def mark(db: AsyncConnection, reply: PendingReply, column: str, at: datetime) -> bool:
    """Set `reminded_at` or `escalated_at` if still unset for this very wait: True for the one caller that did
    (each alert goes out once, whatever number of processes sweep)."""
    d = reply_deadlines.c
    statement = (update(reply_deadlines)
                 .where(d.session_id == reply.session_id, d.admin_id == reply.admin_id, d.since == reply.since,
                        d[column].is_(None))
                 .values({column: at}).returning(d.session_id))
    return (await db.execute(statement)).first() is not None


async def insert_alert(db: AsyncConnection, admin_id: int, session_id: int | None, code: str,
                       params: dict[str, Any], at: datetime) -> int:
    statement = agent_alerts.insert().values(admin_id=admin_id, session_id=session_id, code=code, params=params,
                                             created_at=at).returning(agent_alerts.c.id)
    return int((await db.execute(statement)).scalar_one())
