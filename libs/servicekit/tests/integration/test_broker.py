"""The background broker link against a real RabbitMQ."""

from __future__ import annotations

import asyncio
import socket

import pytest
from contracts.events.topology import CHAT_EVENTS_EXCHANGE

from servicekit.amqp import PublishFailed, QueueSpec, declare_queue
from servicekit.broker import Broker

pytestmark = pytest.mark.integration


async def test_connects_in_the_background_runs_its_hooks_and_publishes(make_vhost):
    declared = []

    async def hook(connection, publisher):
        channel = await connection.channel()
        declared.append(await declare_queue(channel, QueueSpec("test.broker", ((CHAT_EVENTS_EXCHANGE, "#"),))))

    broker = Broker(await make_vhost(), name="broker-test", on_connect=[hook])
    await broker.start()
    try:
        await broker.wait_ready(10)
        assert broker.connected
        await broker.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{}", message_id="1", message_type="chat.x")
        async with asyncio.timeout(5):
            while (message := await declared[0].get(fail=False)) is None:
                await asyncio.sleep(0.05)
        assert message.message_id == "1"
    finally:
        await broker.close()


async def test_an_unreachable_broker_does_not_block_start_and_publishing_fails_clearly():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    broker = Broker(f"amqp://guest:guest@127.0.0.1:{port}/", name="nowhere", max_backoff=0.1)
    await asyncio.wait_for(broker.start(), 1)
    try:
        assert not broker.connected
        with pytest.raises(PublishFailed):
            await broker.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{}", message_id="1", message_type="chat.x")
    finally:
        await broker.close()
