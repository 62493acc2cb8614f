"""Transactional outbox: a state change and its event commit together; a relay publishes them afterwards.

Writing side: ``enqueue(db, table, envelope)`` inserts the event in the caller's transaction and asks
PostgreSQL to NOTIFY the relay at commit, in one statement. Nothing is published if the transaction rolls back.

Relay side: ``OutboxRelay`` holds a dedicated asyncpg connection. Only one relay per schema works at a time
(a session advisory lock elects it; the lock dies with its connection, so another instance takes over), which
keeps events in commit order, hence in order per aggregate. It publishes rows as they commit on a confirming
channel, without waiting for earlier confirms, and marks rows sent only after the broker confirmed them; on a
failure it marks the confirmed prefix, backs off, and retries the rest. Delivery is at-least-once: consumers
drop duplicates by ``event_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import asyncpg
from contracts.events.batch import EVENT_BATCH_TYPE, pack_event_bodies
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import DOMAIN_EVENTS
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable

from servicekit.logcontext import request_id
from servicekit.outbox_runs import runs
from servicekit.tasks import being_cancelled

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData, schema: str) -> Table:
    """The outbox of one service, inside that service's schema."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", Text, nullable=False),
        Column("exchange", Text, nullable=False),
        Column("routing_key", Text, nullable=False),
        Column("aggregate_id", Text, nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_pending", "id", postgresql_where=sql("published_at IS NULL")),
        schema=schema,
    )


ENQUEUED_COLUMNS = ("event_id", "event_type", "exchange", "routing_key", "aggregate_id", "body")


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def enqueue(db: AsyncConnection, table: Table, envelope: EventEnvelope) -> None:
    """Add ``envelope`` to the outbox within the caller's (still open) transaction.

    One statement (one round trip): the INSERT, and a NOTIFY for the relay. NOTIFY is transactional: the relay
    hears it only if and when this transaction commits.

    The request id bound in the log context (`servicekit.logcontext`), if any, goes with the event."""
    spec = DOMAIN_EVENTS[envelope.event_type]
    if envelope.request_id is None and (rid := request_id()) is not None:
        envelope = envelope.model_copy(update={"request_id": rid})
    await db.execute(_enqueue_statement(table), {
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "exchange": spec.exchange,
        "routing_key": spec.routing_key,
        "aggregate_id": envelope.aggregate_id,
        "body": envelope.to_bytes(),
    })


@functools.cache
def _enqueue_statement(table: Table) -> Executable:
    """Built once per outbox table, values as bound parameters: SQLAlchemy then finds its compiled form by a
    cache key computed once, instead of traversing a new statement on every call."""
    queued = (
        table.insert()
        .values({name: bindparam(name) for name in ENQUEUED_COLUMNS})
        .returning(table.c.id)
        .cte("queued")
    )
    channel = notify_channel(table.schema or "public")
    return select(func.pg_notify(literal(channel), literal(""))).select_from(queued)


async def backlog(engine: AsyncEngine, schema: str) -> tuple[int, float]:
    """Rows of `schema`'s outbox not yet published, and the age in seconds of the oldest of them (0 if none).
    Reads the partial index of pending rows only."""
    async with engine.connect() as conn:
        row = (await conn.execute(sql(
            f'SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM "{schema}".outbox '
            "WHERE published_at IS NULL"
        ))).one()
    return int(row[0]), max(0.0, float(row[1]))


class EventSink(Protocol):
    """What the relay publishes to (servicekit.broker.Broker in production). The relay passes ``timeout=None``: it
    keeps the deadline itself (see ``OutboxRelay``); and ``routed_after_reconnect=True``: an event the broker cannot
    route yet just after a reconnect (queues still recovering: RabbitMQ confirms and drops it) is a failure, sent
    again (servicekit.amqp.RECOVERING_SECONDS)."""

    async def publish(
        self, exchange: str, routing_key: str, body: bytes, *, message_id: str, message_type: str,
        timeout: float | None, routed_after_reconnect: bool,
    ) -> None: ...


def asyncpg_dsn(url: str) -> str:
    """asyncpg takes ``postgresql://``; SQLAlchemy URLs say ``postgresql+asyncpg://``."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


RELAY_SESSION_SETTINGS = {"synchronous_commit": "off"}
"""The relay's own connection commits without waiting for its WAL to reach the disk: its only writes mark rows
published, and a mark lost with a PostgreSQL crash (at most ~3 x `wal_writer_delay` of them) only means those
events are published again, which consumers drop by event_id. The service's own transactions (the events, the
messages) keep `synchronous_commit` on. Measured in cell 12 (README): the relay's marks had been a WAL flush each,
~0.3 of the ~0.8 flushes per chat message at 500/s."""


def _leader_key(schema: str) -> int:
    digest = hashlib.blake2b(f"outbox-relay:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class OutboxRelay:
    """Publishes a schema's outbox. ``run()`` until cancelled; it survives database and broker restarts."""

    def __init__(
        self,
        database_url: str,
        schema: str,
        sink: EventSink,
        *,
        batch_size: int = 200,
        max_in_flight: int = 1000,
        poll_interval: float = 1.0,
        max_backoff: float = 5.0,
        mark_delay: float = 0.05,
        publish_timeout: float = 5.0,
        batch_events: bool = False,
        batch_max_events: int = 100,
        batch_max_bytes: int = 256 * 1024,
    ) -> None:
        """`mark_delay`: after a confirm, how long (seconds) the relay lets further confirms gather before one UPDATE
        marks them all (a NOTIFY of new rows cuts it short, and the fetch that follows marks them in the same
        statement; 0: an UPDATE per wake-up). Marking later delays no event: it only records what the broker has.

        `publish_timeout`: how long the oldest unconfirmed event may wait (for its turn on the channel, its write
        and its confirm) before the relay gives up on everything in flight at once and starts again from it. Each
        publish itself waits without a deadline: one that gave up while still in the channel's line would let the
        events behind it out first, out of order.

        `batch_events`: the rows of one round that follow each other with the same exchange and routing key go out as
        ONE message, an event batch (contracts.events.batch) of at most `batch_max_events` events and
        `batch_max_bytes` bytes of bodies, confirmed once; each of its rows is marked after that confirm. False: one
        message per event (what consumers older than event batches understand)."""
        self._dsn = asyncpg_dsn(database_url)
        self._schema = schema
        self._sink = sink
        self._batch_size = batch_size
        self._max_in_flight = max_in_flight
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._mark_delay = mark_delay
        self._publish_timeout = publish_timeout
        self._batch_max_events = batch_max_events if batch_events else 1
        self._batch_max_bytes = batch_max_bytes
        self._sent_at: dict[int, float] = {}  # outbox id -> when its publish started (loop time), while in flight
        self._wakeup = asyncio.Event()
        self._notified = asyncio.Event()
        self._committed = True
        self.published = 0
        self.messages = 0
        """AMQP messages published (a batch counts once; `published` / `messages`: events per message)."""
        self.marks = 0
        """Statements that marked rows published (each marks every confirmed row in flight; most also fetch)."""
        self.fetches = 0
        """Statements that read pending rows (each also marks what was confirmed since the previous statement)."""
        self.is_leader = False

    async def run(self) -> None:
        """Lead and publish until cancelled. Any failure drops the relay's connection and starts over after a
        backoff, whatever its type: a relay that ended would leave every later event in the outbox until the
        service restarted (asyncpg can refuse a connection it broke itself, with InternalClientError, during a
        PostgreSQL restart)."""
        backoff = 0.2
        while True:
            try:
                await self._lead()
            except Exception as exc:
                self.is_leader = False
                if being_cancelled():
                    raise
                if isinstance(exc, (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
                    log.warning("outbox relay for %s lost the database (%s); retrying in %.1fs",
                                self._schema, exc, backoff)
                else:
                    log.exception("outbox relay for %s failed; reconnecting in %.1fs", self._schema, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _lead(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn, server_settings=RELAY_SESSION_SETTINGS)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _leader_key(self._schema)):
                await asyncio.sleep(self._poll_interval)
            self.is_leader = True
            log.info("outbox relay for schema %s is leading", self._schema)
            await conn.add_listener(notify_channel(self._schema), self._on_notify)
            await self._pump(conn)
        finally:
            self.is_leader = False
            await conn.close(timeout=2)

    def _on_notify(self, *_args: object) -> None:
        self._committed = True  # new rows may be there: fetch on the next turn
        self._wakeup.set()
        self._notified.set()

    def _on_confirm(self, *_args: object) -> None:
        self._wakeup.set()  # only marking to do: no fetch needed for it

    async def _pump(self, conn: asyncpg.Connection) -> None:
        """Publish pending rows as they commit, without waiting for the previous ones' confirms (a slow confirm
        must not hold back the next events); mark rows sent as their confirms arrive, in publish order. The
        outbox is read only when something may be new (a NOTIFY, a full batch, a failure, or the poll period
        passing quietly), not on every confirm."""
        backoff = 0.2
        inflight: dict[int, asyncio.Task[None]] = {}  # outbox id -> its publish, in publish order
        self._committed = True
        try:
            while True:
                self._wakeup.clear()
                rows: list[PendingEvent] = []
                try:
                    confirmed = await self._settle(conn, inflight)
                    room = min(self._batch_size, self._max_in_flight - len(inflight) + len(confirmed))
                    if self._committed and room > 0:
                        self._committed = False
                        rows = await self._fetch(conn, list(inflight), room, confirmed)
                    elif confirmed:
                        await self._mark(conn, confirmed)
                    self._marked(inflight, confirmed)
                    if confirmed:  # the broker confirms again (a fetch alone proves nothing about it)
                        backoff = 0.2
                except _BrokerDown as exc:
                    log.warning("outbox relay for %s: broker not confirming (%s); retrying in %.1fs",
                                self._schema, exc, backoff)
                    self._committed = True  # what failed is pending again
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
                    continue
                # frames leave in this order on one channel; the broker keeps it
                for run in runs(rows, max_events=self._batch_max_events, max_bytes=self._batch_max_bytes):
                    task = asyncio.create_task(self._publish(run))
                    task.add_done_callback(self._on_confirm)  # a confirm (or failure) wakes the loop to mark it
                    sent_at = asyncio.get_running_loop().time()
                    for row in run:  # every row of a batch waits for the batch's one confirm
                        inflight[row.id] = task
                        self._sent_at[row.id] = sent_at
                if rows and len(rows) == room:
                    self._committed = True
                    continue  # more may be waiting
                overdue_in = self._overdue_in(inflight)
                try:
                    await asyncio.wait_for(self._wakeup.wait(), min(self._poll_interval, overdue_in))
                except TimeoutError:
                    if overdue_in >= self._poll_interval:
                        self._committed = True  # a quiet period: look anyway (rows another leader left behind)
                else:
                    await self._gather_confirms()
        finally:
            for task in inflight.values():
                task.cancel()  # unmarked: the next leader publishes them again (consumers drop duplicates)
            self._sent_at.clear()

    async def _publish(self, run: list[PendingEvent]) -> None:
        """One message: the event alone, or the run as an event batch."""
        self.messages += 1
        first = run[0]
        if len(run) == 1:
            body, message_id, message_type = first.body, str(first.event_id), first.event_type
        else:
            body = pack_event_bodies([row.body for row in run])
            message_id, message_type = f"batch-{first.event_id}-{len(run)}", EVENT_BATCH_TYPE
        await self._sink.publish(first.exchange, first.routing_key, body, message_id=message_id,
                                 message_type=message_type, timeout=None, routed_after_reconnect=True)

    def _overdue_in(self, inflight: dict[int, asyncio.Task[None]]) -> float:
        """Seconds until the oldest unconfirmed publish is overdue (0 if it is; infinity if none is pending)."""
        for outbox_id, task in inflight.items():
            if not task.done():
                waited = asyncio.get_running_loop().time() - self._sent_at[outbox_id]
                return max(0.0, self._publish_timeout - waited)
        return float("inf")

    async def _gather_confirms(self) -> None:
        """Woken by a confirm alone: wait `mark_delay` for more before marking (one UPDATE for many confirms instead
        of one per confirm), unless rows commit meanwhile."""
        if self._committed or self._mark_delay <= 0:
            return
        self._notified.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._notified.wait(), self._mark_delay)

    async def _fetch(
        self, conn: asyncpg.Connection, inflight: list[int], limit: int, confirmed: list[int],
    ) -> list[PendingEvent]:
        """The oldest pending rows not already on their way (a row that committed late, below ids already
        published, is found too: rows are picked by `published_at IS NULL`, never by a cursor), and the rows in
        `confirmed` marked published by the same statement: one round trip and one transaction for both. The
        SELECT reads the snapshot before the UPDATE, so confirmed rows still look pending to it: they are in
        `inflight`, which it skips."""
        self.fetches += 1
        if confirmed:
            self.marks += 1
        rows = await conn.fetch(
            f'WITH marked AS (UPDATE "{self._schema}".outbox SET published_at = now() WHERE id = ANY($3::bigint[])) '
            f'SELECT id, event_id, event_type, exchange, routing_key, body FROM "{self._schema}".outbox '
            "WHERE published_at IS NULL AND NOT (id = ANY($2::bigint[])) ORDER BY id LIMIT $1",
            limit, inflight, confirmed,
        )
        return [
            PendingEvent(id=r["id"], event_id=r["event_id"], event_type=r["event_type"], exchange=r["exchange"],
                         routing_key=r["routing_key"], body=bytes(r["body"]))
            for r in rows
        ]

    async def _mark(self, conn: asyncpg.Connection, confirmed: list[int]) -> None:
        """Mark `confirmed` published, alone (nothing to fetch this turn, or a failure to report)."""
        self.marks += 1
        await conn.execute(
            f'UPDATE "{self._schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])', confirmed
        )

    def _marked(self, inflight: dict[int, asyncio.Task[None]], confirmed: list[int]) -> None:
        self.published += len(confirmed)
        for outbox_id in confirmed:
            inflight.pop(outbox_id, None)
            self._sent_at.pop(outbox_id, None)

    async def _settle(self, conn: asyncpg.Connection, inflight: dict[int, asyncio.Task[None]]) -> list[int]:
        """The confirmed prefix of what is in flight, for the caller to mark (with its next fetch, or alone). On a
        failure, give up the publishes still running, mark what was confirmed before it, and raise: nothing after a
        failed event is marked, so it goes out again after it."""
        overdue: BaseException | None = None
        if self._overdue_in(inflight) == 0:
            # All at once, in this turn of the loop: the channel takes publishes in the order they asked for it, so
            # none behind the oldest unsent one goes out; it and all after it are published again, in order.
            overdue = TimeoutError(f"no confirm within {self._publish_timeout:g}s")
            for task in inflight.values():
                task.cancel()
            await asyncio.gather(*inflight.values(), return_exceptions=True)
        confirmed: list[int] = []
        failure: BaseException | None = None
        for outbox_id, task in inflight.items():
            if not task.done():
                break
            failure = asyncio.CancelledError() if task.cancelled() else task.exception()
            if failure is not None:
                failure = overdue or failure
                break
            confirmed.append(outbox_id)
        if failure is not None:
            # Everything after the failed event goes out again after it: the publishes still running are given up
            # now, never waited for (one that never finishes, on a channel being restored, would stop the relay).
            for task in inflight.values():
                task.cancel()
            await asyncio.gather(*inflight.values(), return_exceptions=True)
            if confirmed:
                await self._mark(conn, confirmed)
                self._marked(inflight, confirmed)
            inflight.clear()
            self._sent_at.clear()
            raise _BrokerDown(str(failure)) from failure
        return confirmed


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """One outbox row the relay has still to publish."""

    id: int
    event_id: UUID
    event_type: str
    exchange: str
    routing_key: str
    body: bytes


class _BrokerDown(Exception):
    pass
