"""The queue as the people waiting in it see it: each waiting user's position and estimated wait.

Where: here, in chat-svc, which owns the queue. After any change (a session opened, assigned, claimed, closed or
re-prioritized, an admin coming or going, or anything another use case does to `chat.sessions`) the next
publisher run reads the queue with ONE ordered query, computes every place (chat_svc.queue_estimate), compares
with what each user was last told (`chat.queue_positions`) and writes one `chat.queue_updated` event with the
differences to the outbox, in the same transaction as the new "last told" rows. The gateway turns it into one
`chat:queue_update` per session, to that session's user only.

Throttle across processes: every chat-svc process runs the publisher every CHAT_QUEUE_POLL_SECONDS; a run takes
a transaction-scoped advisory lock (try: a process that does not get it skips this round) and publishes only
when the single row `chat.queue_publisher` says the last publication is at least CHAT_QUEUE_UPDATE_INTERVAL_SECONDS
old. So the whole deployment publishes at most once per interval, hence each user gets at most one update per
interval; changes in between coalesce (the latest value wins) and, since the comparison is with what was last
told, the final value is always published by the next run after the last change: never lost. Polling rather
than hooks into each use case: every present and future way of changing the queue is covered; a run reads the
waiting sessions (by the queue index), the recent departures and the last-told rows, all small.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from contracts.events.payloads import MAX_QUEUE_UPDATES, ChatQueueUpdated, QueuedSession
from contracts.events.registry import CHAT_QUEUE_UPDATED
from contracts.identity import Principal
from contracts.payloads import QueueUpdateData
from servicekit.tasks import every
from sqlalchemy import DateTime, and_, func, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc import queue_estimate, store
from chat_svc.db import queue_departures, queue_positions, queue_publisher, sessions
from chat_svc.domain import Conflict, Forbidden, NotFound
from chat_svc.queue_estimate import Departure, QueuePlace

if TYPE_CHECKING:
    from chat_svc.service import Chat, Tx

log = logging.getLogger(__name__)

PUBLISHER_LOCK = "queue-publisher"
QUEUE_AGGREGATE = "queue"
"""The aggregate_id of `chat.queue_updated` events: the queue as a whole."""


@dataclass(frozen=True)
class EstimateSettings:
    window_seconds: int
    samples: int
    min_samples: int


class NotWaiting(Conflict):
    code = "not_waiting"


# --- reads and writes ---------------------------------------------------------------------------------------


async def note_departure(db: AsyncConnection, session_id: int, at: datetime) -> None:
    """Record that `session_id` left the queue for an admin at `at`, if it had waited: a session created in this
    very transaction (created_at = now(), the transaction's start) was never seen waiting and is skipped."""
    source = select(sessions.c.id, sessions.c.created_at, literal(at, DateTime(timezone=True))).where(
        sessions.c.id == session_id, sessions.c.created_at < func.now())
    await db.execute(insert(queue_departures).from_select(["session_id", "queued_at", "departed_at"], source))


async def recent_departures(db: AsyncConnection, now: datetime, estimate: EstimateSettings) -> list[Departure]:
    d = queue_departures.c
    rows = (await db.execute(
        select(d.queued_at, d.departed_at).where(d.departed_at > now - timedelta(seconds=estimate.window_seconds))
        .order_by(d.departed_at.desc()).limit(estimate.samples)
    )).all()
    return [Departure(r.queued_at, r.departed_at) for r in rows]


async def forget_departures_before(db: AsyncConnection, before: datetime) -> None:
    """Departures older than the window no longer count: they are deleted (by the publisher, when it publishes)."""
    await db.execute(queue_departures.delete().where(queue_departures.c.departed_at < before))


async def per_position(db: AsyncConnection, now: datetime, estimate: EstimateSettings) -> float | None:
    return queue_estimate.seconds_per_position(await recent_departures(db, now, estimate), estimate.min_samples)


async def waiting_in_order(db: AsyncConnection) -> list[tuple[int, int]]:
    """(session_id, user_id) of every waiting session, in queue order (the index `sessions_waiting_queue`)."""
    rows = (await db.execute(
        select(sessions.c.id, sessions.c.user_id).where(sessions.c.status == "waiting")
        .order_by(sessions.c.priority.desc(), sessions.c.created_at, sessions.c.id)
    )).all()
    return [(r.id, r.user_id) for r in rows]


async def position_of(db: AsyncConnection, session_id: int, priority: int, created_at: datetime) -> int:
    s = sessions.c
    ahead = or_(s.priority > priority,
                and_(s.priority == priority, tuple_(s.created_at, s.id) < tuple_(created_at, session_id)))
    count = (await db.execute(select(func.count()).where(s.status == "waiting", ahead))).scalar_one()
    return int(count) + 1


async def told(db: AsyncConnection) -> dict[int, QueuePlace]:
    rows = (await db.execute(select(queue_positions))).all()
    return {r.session_id: QueuePlace(r.session_id, r.user_id, r.position, r.estimated_wait_seconds) for r in rows}


async def remember(db: AsyncConnection, places: list[QueuePlace], gone: Iterable[int]) -> None:
    gone = list(gone)
    if gone:
        await db.execute(queue_positions.delete().where(queue_positions.c.session_id.in_(gone)))
    if places:
        statement = insert(queue_positions).values([
            {"session_id": p.session_id, "user_id": p.user_id, "position": p.position,
             "estimated_wait_seconds": p.estimated_wait_seconds} for p in places
        ])
        await db.execute(statement.on_conflict_do_update(
            index_elements=[queue_positions.c.session_id],
            set_={"user_id": statement.excluded.user_id, "position": statement.excluded.position,
                  "estimated_wait_seconds": statement.excluded.estimated_wait_seconds},
        ))


# --- the publisher ------------------------------------------------------------------------------------------


def _update(place: QueuePlace) -> QueuedSession:
    return QueuedSession(user_id=place.user_id, update=QueueUpdateData(
        session_id=place.session_id, position=place.position, estimated_wait_seconds=place.estimated_wait_seconds))


class QueueBoard:
    """Publishes queue places (at most once per `interval` for the whole deployment) and answers "where am I"."""

    def __init__(self, chat: Chat, *, interval_seconds: float, estimate: EstimateSettings) -> None:
        self._chat = chat
        self.interval = timedelta(seconds=interval_seconds)
        self.estimate = estimate

    async def publish(self) -> int | None:
        """One publisher run; returns how many users were sent a new place, None when it was not this run's
        turn (another process holds the lock, or the last publication is younger than the interval)."""
        async with self._chat.transaction() as tx:
            if not await store.try_lock(tx.db, PUBLISHER_LOCK):
                return None
            now = self._chat.clock()
            last = (await tx.db.execute(select(queue_publisher.c.published_at)
                                        .where(queue_publisher.c.id == 1))).scalar_one_or_none()
            if last is not None and now - last < self.interval:
                return None
            return await self._publish(tx, now)

    async def _publish(self, tx: Tx, now: datetime) -> int:
        current = queue_estimate.places(await waiting_in_order(tx.db), await per_position(tx.db, now, self.estimate))
        before = await told(tx.db)
        changes = queue_estimate.changed(current, before)
        gone = set(before) - {p.session_id for p in current}
        await remember(tx.db, changes, gone)
        for start in range(0, len(changes), MAX_QUEUE_UPDATES):
            chunk = changes[start:start + MAX_QUEUE_UPDATES]
            await tx.uow.publish(CHAT_QUEUE_UPDATED, ChatQueueUpdated(sessions=[_update(p) for p in chunk]),
                                 aggregate_id=QUEUE_AGGREGATE)
        if changes:
            await tx.db.execute(update(queue_publisher).where(queue_publisher.c.id == 1).values(published_at=now))
            await forget_departures_before(tx.db, now - timedelta(seconds=self.estimate.window_seconds))
        return len(changes)

    async def place_of(self, principal: Principal, session_id: int) -> QueueUpdateData:
        """The session's place now (not the last published one), for a page that just loaded: its user only;
        409 `not_waiting` once it left the queue."""
        async with self._chat.transaction() as tx:
            row = await store.get_session(tx.db, session_id)
            if row is None:
                raise NotFound(f"session {session_id} not found")
            if principal.is_admin or row.user_id != principal.user_id:
                raise Forbidden("forbidden: not your session")
            if row.status != "waiting":
                raise NotWaiting(f"session {session_id} is {row.status}, not waiting in the queue")
            position = await position_of(tx.db, row.id, row.priority, row.created_at)
            rate = await per_position(tx.db, self._chat.clock(), self.estimate)
            return QueueUpdateData(session_id=row.id, position=position,
                                   estimated_wait_seconds=queue_estimate.estimated_wait(position, rate))


async def publish_forever(board: QueueBoard, poll_seconds: float) -> None:
    """Every chat-svc process runs this; the lock and the interval make it one publication per interval."""
    await every(poll_seconds, board.publish, "queue publisher run")
