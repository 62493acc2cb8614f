"""What the outbox relay's integration tests share: an event to enqueue, a database with an outbox table, the rows
still to publish, and a queue that gets every chat event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from contracts.events.envelope import EventEnvelope
from contracts.events.payloads import ChatSessionUpdated
from contracts.events.registry import CHAT_SESSION_UPDATED, new_envelope
from contracts.events.topology import CHAT_EVENTS_EXCHANGE
from contracts.payloads import SessionData
from contracts.time import now_beijing
from servicekit.amqp import QueueSpec, connect, declare_exchanges, declare_queue
from servicekit.db import create_engine
from servicekit.outbox import EventSink, OutboxRelay, outbox_table
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine


def session_event(session_id: int, n: int) -> EventEnvelope:
    """A `chat.session_updated` of session `session_id` whose content says `n` (its place in a test's order)."""
    now = now_beijing()
    session = SessionData(
        session_id=session_id, user_id=7, admin_id=None, status="waiting", priority=3, unread_count=n,
        last_message=f"m{n}", created_at=now, updated_at=now,
    )
    return new_envelope(CHAT_SESSION_UPDATED, "test", ChatSessionUpdated(session=session), aggregate_id=session_id)


@contextlib.asynccontextmanager
async def outbox_database(
    make_database: Callable[[], Awaitable[str]], schema: str,
) -> AsyncIterator[tuple[AsyncEngine, Table, str]]:
    """A fresh database with `schema`.outbox: (engine, the outbox table, its URL)."""
    url = await make_database()
    engine = create_engine(url)
    metadata = MetaData()
    table = outbox_table(metadata, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(metadata.create_all)
    try:
        yield engine, table, url
    finally:
        await engine.dispose()


async def pending_rows(engine: AsyncEngine, schema: str) -> int:
    """Rows of `schema`.outbox not yet marked published."""
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")))
                   .scalar_one())


async def all_published(engine: AsyncEngine, schema: str, timeout: float) -> None:
    """Wait until every row of `schema`.outbox is marked published (TimeoutError after `timeout` seconds)."""
    async with asyncio.timeout(timeout):
        while await pending_rows(engine, schema):
            await asyncio.sleep(0.02)


async def another_relay_leads(database_url: str, schema: str, sink: EventSink, timeout: float = 5.0) -> None:
    """A new relay of `schema` takes the lead within `timeout` seconds (TimeoutError otherwise): the one before it
    let go of its advisory lock."""
    relay = OutboxRelay(database_url, schema, sink, poll_interval=0.1)
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(timeout):
            while not relay.is_leader:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def chat_events_queue(
    make_vhost: Callable[[], Awaitable[str]], name: str,
) -> AsyncIterator[tuple[str, AbstractRobustConnection, AbstractQueue]]:
    """A fresh vhost with the exchanges and a queue `test.sessions` bound to every chat event: (its URL, a
    connection, the queue)."""
    url = await make_vhost()
    connection = await connect(url, name=name)
    try:
        channel = await connection.channel()
        await declare_exchanges(channel)
        queue = await declare_queue(channel, QueueSpec("test.sessions", ((CHAT_EVENTS_EXCHANGE, "chat.#"),)))
        yield url, connection, queue
    finally:
        await connection.close()
