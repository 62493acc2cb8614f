"""Transactional outbox: a state change and its event commit together; a relay publishes them afterwards.

Writing side: ``enqueue(session, table, envelope)`` inserts the event in the caller's transaction and asks
PostgreSQL to NOTIFY the relay at commit. Nothing is published if the transaction rolls back.

Relay side: ``OutboxRelay`` holds a dedicated asyncpg connection. Only one relay per schema works at a time
(a session advisory lock elects it; the lock dies with its connection, so another instance takes over), which
keeps events in commit order, hence in order per aggregate. It publishes a batch on a confirming channel and
marks rows sent only after the broker confirmed them; on a failure it marks the confirmed prefix, backs off,
and retries the rest. Delivery is at-least-once: consumers drop duplicates by ``event_id``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Protocol

import asyncpg
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import DOMAIN_EVENTS
from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, LargeBinary, MetaData, Table, Text, Uuid, func
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

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


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def enqueue(session: AsyncSession, table: Table, envelope: EventEnvelope) -> None:
    """Add ``envelope`` to the outbox within the caller's (still open) transaction."""
    spec = DOMAIN_EVENTS[envelope.event_type]
    await session.execute(
        table.insert().values(
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            exchange=spec.exchange,
            routing_key=spec.routing_key,
            aggregate_id=envelope.aggregate_id,
            body=envelope.to_bytes(),
        )
    )
    # NOTIFY is transactional: the relay hears it only if and when this transaction commits.
    await session.execute(sql("SELECT pg_notify(:channel, '')"), {"channel": notify_channel(table.schema or "public")})


class EventSink(Protocol):
    """What the relay publishes to (servicekit.amqp.Publisher in production)."""

    async def publish(
        self, exchange: str, routing_key: str, body: bytes, *, message_id: str, message_type: str
    ) -> None: ...


def asyncpg_dsn(url: str) -> str:
    """asyncpg takes ``postgresql://``; SQLAlchemy URLs say ``postgresql+asyncpg://``."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


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
        poll_interval: float = 1.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._schema = schema
        self._sink = sink
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._wakeup = asyncio.Event()
        self.published = 0
        self.is_leader = False

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.is_leader = False
                log.warning("outbox relay for %s lost the database (%s); retrying in %.1fs", self._schema, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _lead(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
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
        self._wakeup.set()

    async def _pump(self, conn: asyncpg.Connection) -> None:
        backoff = 0.2
        while True:
            self._wakeup.clear()
            try:
                while await self.drain_once(conn) == self._batch_size:
                    pass
                backoff = 0.2
            except _BrokerDown as exc:
                log.warning("outbox relay for %s: broker not confirming (%s); retrying in %.1fs",
                            self._schema, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)
            except asyncio.TimeoutError:
                pass

    async def drain_once(self, conn: asyncpg.Connection) -> int:
        """Publish the oldest pending batch; return how many rows were marked sent."""
        rows = await conn.fetch(
            f'SELECT id, event_id, event_type, exchange, routing_key, body FROM "{self._schema}".outbox '
            "WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        # Published concurrently on one channel: frames leave in this order, the broker keeps it.
        results = await asyncio.gather(
            *(
                self._sink.publish(
                    row["exchange"], row["routing_key"], bytes(row["body"]),
                    message_id=str(row["event_id"]), message_type=row["event_type"],
                )
                for row in rows
            ),
            return_exceptions=True,
        )
        confirmed: list[int] = []
        failure: BaseException | None = None
        for row, result in zip(rows, results):
            if isinstance(result, BaseException):
                failure = result
                break  # keep order: nothing after a failed event is marked, it will be sent again after it
            confirmed.append(row["id"])
        if confirmed:
            await conn.execute(
                f'UPDATE "{self._schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])', confirmed
            )
            self.published += len(confirmed)
        if failure is not None:
            raise _BrokerDown(str(failure)) from failure
        return len(confirmed)


class _BrokerDown(Exception):
    pass
