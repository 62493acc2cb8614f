"""The shared consumer policy against a real RabbitMQ: poison is dead-lettered, transient failures retried."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from contracts.events.registry import parse_domain_event
from contracts.events.topology import CHAT_EVENTS_EXCHANGE
from servicekit.amqp import Publisher, QueueSpec, connect, start_consumer

pytestmark = pytest.mark.integration


async def test_poison_goes_to_the_dead_letter_queue_and_transient_failures_are_retried(make_vhost):
    connection = await connect(await make_vhost(), name="consumer-test")
    try:
        handled: list[str] = []
        failures = {"transient": 1}

        async def handler(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            if message.message_id == "transient" and failures["transient"]:
                failures["transient"] -= 1
                raise ConnectionError("database restarting")
            if message.message_id == "poison":
                parse_domain_event(message.body)  # raises a ContractError
            handled.append(message.message_id)

        spec = QueueSpec("test.consumer", ((CHAT_EVENTS_EXCHANGE, "chat.#"),), quorum=True)
        await start_consumer(connection, spec, handler)
        publisher = Publisher(connection)
        await publisher.start()
        for message_id, body in (("poison", b"{not json"), ("transient", b"{}"), ("fine", b"{}")):
            await publisher.publish(CHAT_EVENTS_EXCHANGE, "chat.x", body, message_id=message_id, message_type="chat.x")

        async with asyncio.timeout(10):
            while sorted(handled) != ["fine", "transient"]:
                await asyncio.sleep(0.05)
        channel = await connection.channel()
        dlq = await channel.declare_queue("test.consumer.dlq", durable=True, passive=True)
        async with asyncio.timeout(5):
            while (dead := await dlq.get(fail=False)) is None:
                await asyncio.sleep(0.05)
        assert dead.message_id == "poison"
        assert "poison" not in handled
    finally:
        await connection.close()


async def test_throwaway_queues_share_one_dead_letter_queue_through_dead_letter_key(make_vhost):
    connection = await connect(await make_vhost(), name="consumer-test")
    try:

        async def handler(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            parse_domain_event(message.body)  # every message here is poison

        for name in ("test.a.events", "test.b.events"):
            spec = QueueSpec(name, ((CHAT_EVENTS_EXCHANGE, "chat.#"),), durable=False, exclusive=True,
                             auto_delete=True, dead_letter_key="test.shared")
            await start_consumer(connection, spec, handler)
        publisher = Publisher(connection)
        await publisher.start()
        await publisher.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{not json", message_id="p", message_type="chat.x")

        channel = await connection.channel()
        dlq = await channel.declare_queue("test.shared.dlq", durable=True, passive=True)
        dead: list[str] = []
        async with asyncio.timeout(5):
            while len(dead) < 2:
                if (message := await dlq.get(fail=False)) is not None:
                    dead.append(message.message_id)
                else:
                    await asyncio.sleep(0.05)
        assert dead == ["p", "p"]  # one copy per queue, both in the shared DLQ
        for name in ("test.a.events.dlq", "test.b.events.dlq"):
            with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
                await (await connection.channel()).declare_queue(name, passive=True)
    finally:
        await connection.close()
