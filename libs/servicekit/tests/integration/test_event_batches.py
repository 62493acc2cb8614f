"""Event batches against real PostgreSQL and RabbitMQ: the relay publishes a round's events of one routing key as
one message; the shared consumer policy hands them over one by one, in order, and dead-letters a bad one alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aio_pika
import pytest
import pytest_asyncio
from contracts.events.batch import EVENT_BATCH_TYPE, pack_event_bodies, unpack_events
from contracts.events.registry import CHAT_SESSION_UPDATED, parse_domain_event
from contracts.events.topology import CHAT_EVENTS_EXCHANGE
from servicekit.amqp import (
    Publisher,
    PublishFailed,
    QueueSpec,
    connect,
    declare_exchanges,
    declare_queue,
    start_consumer,
)
from servicekit.outbox import OutboxRelay, enqueue
from sqlalchemy.ext.asyncio import AsyncEngine

from .outbox_support import all_published, outbox_database, pending_rows, session_event

pytestmark = pytest.mark.integration
SCHEMA = "batchtest"


_event = session_event


@pytest_asyncio.fixture(loop_scope="session")
async def db(make_database) -> AsyncIterator[tuple[AsyncEngine, object]]:
    async with outbox_database(make_database, SCHEMA) as (engine, table, _url):
        yield engine, table


async def _enqueued(engine: AsyncEngine, table: object, count: int) -> list[str]:
    ids = []
    for n in range(count):
        async with engine.begin() as conn:
            envelope = _event(5, n)
            await enqueue(conn, table, envelope)  # type: ignore[arg-type]
            ids.append(str(envelope.event_id))
    return ids




async def test_a_relay_round_of_events_with_one_routing_key_is_published_as_one_message_and_every_row_marked(
    db, make_vhost,
):
    engine, table = db
    expected = await _enqueued(engine, table, 12)
    connection = await connect(await make_vhost(), name="batch-test")
    try:
        channel = await connection.channel()
        await declare_exchanges(channel)
        queue = await declare_queue(channel, QueueSpec("test.batches", ((CHAT_EVENTS_EXCHANGE, "chat.#"),)))
        publisher = Publisher(connection)
        await publisher.start()
        relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, publisher, batch_events=True)
        task = asyncio.create_task(relay.run())
        try:
            await all_published(engine, SCHEMA, timeout=10)
        finally:
            task.cancel()
        message = await queue.get(fail=False)
        assert message is not None and message.type == EVENT_BATCH_TYPE
        assert [event["event_id"] for event in unpack_events(message.body)] == expected  # all, in commit order
        assert await queue.get(fail=False) is None  # one message for the round
        assert (relay.published, relay.messages) == (12, 1)
    finally:
        await connection.close()


class FlakySink:
    """Refuses every publish while ``down``; records the messages it accepted."""

    def __init__(self) -> None:
        self.down = True
        self.accepted: list[tuple[str, bytes]] = []

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        await asyncio.sleep(0)
        if self.down:
            raise PublishFailed("broker unreachable")
        self.accepted.append((message_type, body))


async def test_a_batch_the_broker_refuses_stays_pending_and_goes_out_once_whole_after_it_recovers(db):
    engine, table = db
    expected = await _enqueued(engine, table, 30)
    sink = FlakySink()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, max_backoff=0.2,
                        batch_events=True, batch_max_events=8)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)
        assert sink.accepted == [] and await pending_rows(engine, SCHEMA) == 30  # nothing marked without a confirm
        sink.down = False
        await all_published(engine, SCHEMA, timeout=10)
    finally:
        task.cancel()
    assert [t for t, _ in sink.accepted] == [EVENT_BATCH_TYPE] * 4  # 8 + 8 + 8 + 6
    assert [e["event_id"] for _, body in sink.accepted for e in unpack_events(body)] == expected  # once, in order


def _batch(*bodies: bytes) -> aio_pika.Message:
    return aio_pika.Message(pack_event_bodies(bodies), type=EVENT_BATCH_TYPE, message_id="batch-1",
                            content_type="application/json")


async def _dead_letters(connection, queue: str, count: int) -> list[aio_pika.abc.AbstractIncomingMessage]:
    channel = await connection.channel()
    dlq = await channel.declare_queue(f"{queue}.dlq", durable=True, passive=True)
    dead = []
    async with asyncio.timeout(5):
        while len(dead) < count:
            if (message := await dlq.get(fail=False)) is not None:
                dead.append(message)
            else:
                await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert await dlq.get(fail=False) is None
    return dead


@pytest.mark.parametrize("quorum", [True, False])
async def test_the_consumer_receives_a_batchs_events_in_order_and_a_poison_event_dead_letters_only_itself(
    make_vhost, quorum,
):
    connection = await connect(await make_vhost(), name="batch-consumer-test")
    try:
        handled: list[str] = []

        async def handler(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            envelope, _ = parse_domain_event(message.body)  # the poison raises a ContractError
            assert message.message_id == str(envelope.event_id) and message.type == envelope.event_type
            handled.append(message.message_id)

        spec = QueueSpec("test.batch-consumer", ((CHAT_EVENTS_EXCHANGE, "chat.#"),), quorum=quorum)
        await start_consumer(connection, spec, handler)
        events = [_event(1, n) for n in range(5)]
        poison = json.dumps({**json.loads(events[2].to_bytes()), "payload": {"session": "not a session"}}).encode()
        bodies = [e.to_bytes() for e in events]
        bodies[2] = poison
        channel = await connection.channel()
        exchange = await channel.get_exchange(CHAT_EVENTS_EXCHANGE)
        await exchange.publish(_batch(*bodies), routing_key=CHAT_SESSION_UPDATED)
        single = _event(1, 9)  # a message of one event, as before batches: still consumed
        await exchange.publish(aio_pika.Message(single.to_bytes(), type=single.event_type,
                                                message_id=str(single.event_id)), routing_key=CHAT_SESSION_UPDATED)

        wanted = [str(events[n].event_id) for n in (0, 1, 3, 4)] + [str(single.event_id)]
        async with asyncio.timeout(10):
            while len(handled) < len(wanted):
                await asyncio.sleep(0.05)
        # the neighbours of the poison, in order (the single message runs beside the batch: deliveries are concurrent)
        assert [h for h in handled if h != str(single.event_id)] == wanted[:4] and len(handled) == 5
        [dead] = await _dead_letters(connection, spec.name, 1)
        assert dead.body == json.dumps(json.loads(poison), separators=(",", ":")).encode()  # that event alone
        assert dead.message_id == str(events[2].event_id)
        queue = await channel.declare_queue(spec.name, passive=True)
        assert queue.declaration_result.message_count == 0  # the batch was acked
    finally:
        await connection.close()


async def test_a_batch_redelivered_after_a_transient_failure_brings_its_events_again_under_their_event_ids(make_vhost):
    connection = await connect(await make_vhost(), name="batch-consumer-test")
    try:
        seen: set[str] = set()
        applied: list[str] = []
        failures = {"left": 1}

        async def handler(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            envelope, _ = parse_domain_event(message.body)
            if message.message_id in seen:  # the handlers' dedup by event_id (an inbox table in the services)
                return
            if envelope.payload["session"]["unread_count"] == 2 and failures["left"]:
                failures["left"] -= 1
                raise ConnectionError("database restarting")
            seen.add(str(message.message_id))
            applied.append(str(message.message_id))

        spec = QueueSpec("test.batch-retry", ((CHAT_EVENTS_EXCHANGE, "chat.#"),), quorum=True)
        await start_consumer(connection, spec, handler)
        events = [_event(1, n) for n in range(4)]
        channel = await connection.channel()
        exchange = await channel.get_exchange(CHAT_EVENTS_EXCHANGE)
        await exchange.publish(_batch(*(e.to_bytes() for e in events)), routing_key=CHAT_SESSION_UPDATED)
        async with asyncio.timeout(10):
            while len(applied) < 4:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert applied == [str(e.event_id) for e in events]  # each applied once, in order, across the redelivery
        dlq = await channel.declare_queue(f"{spec.name}.dlq", durable=True, passive=True)
        assert await dlq.get(fail=False) is None
    finally:
        await connection.close()
