"""The background broker link against a real RabbitMQ."""

from __future__ import annotations

import asyncio
import socket

import pytest
from contracts.events.topology import CHAT_EVENTS_EXCHANGE
from servicekit.amqp import PublishFailed, QueueSpec, connect, declare_queue
from servicekit.broker import Broker
from servicekit_testing.plugin import open_robust_connections

pytestmark = pytest.mark.integration


def opened_since(before: list) -> list:
    """RabbitMQ connections opened and still open since `before` (compared rather than tasks: other tests'
    session-wide apps run tasks on the same loop)."""
    return [c for c in open_robust_connections() if all(c is not b for b in before)]


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


async def test_a_cancelled_first_connection_attempt_leaves_no_reconnect_loop_behind():
    """A service stopping while RabbitMQ hangs (or is down) must not keep a reconnect loop alive for ever."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accepts TCP, never speaks AMQP: the attempt hangs until cancelled

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    before = open_robust_connections()
    attempt = asyncio.create_task(connect(f"amqp://guest:guest@127.0.0.1:{port}/", name="hangs"))
    async with asyncio.timeout(5):
        while not accepted:
            await asyncio.sleep(0.01)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    await asyncio.sleep(0.2)
    left = opened_since(before)
    server.close()
    for writer in accepted:
        writer.close()
    assert not left


async def test_a_failed_set_up_closes_its_connection_and_is_tried_again(make_vhost):
    """A hook that fails (a declare refused, the link dropped mid-setup) must not leave the broker never ready,
    nor its connection open behind it."""
    seen = []

    async def flaky(connection, publisher):
        seen.append(connection)
        if len(seen) == 1:
            raise RuntimeError("queue declare refused")

    broker = Broker(await make_vhost(), name="broker-retry", on_connect=[flaky], max_backoff=0.1)
    await broker.start()
    try:
        await broker.wait_ready(10)
        assert broker.connected and len(seen) == 2
        assert seen[0].is_closed and seen[1] is broker.connection and not seen[1].is_closed
    finally:
        await broker.close()
    assert seen[1].is_closed


async def test_closing_during_set_up_closes_the_new_connection(make_vhost):
    """A service stopped while its broker runs the on_connect hooks (shutdown during startup)."""
    seen = []
    entered = asyncio.Event()

    async def slow(connection, publisher):
        seen.append(connection)
        entered.set()
        await asyncio.Event().wait()  # never done: the broker is closed meanwhile

    broker = Broker(await make_vhost(), name="broker-stop", on_connect=[slow])
    before = open_robust_connections()
    await broker.start()
    await asyncio.wait_for(entered.wait(), 10)
    await broker.close()
    assert seen[0].is_closed and not broker.connected
    assert not opened_since(before)


async def test_just_after_a_reconnect_an_event_the_broker_cannot_route_is_not_sent_for_the_relay_only(
    make_vhost, monkeypatch
):
    """RabbitMQ, just after it accepts connections again, routes nothing to queues it has not recovered yet and
    confirms those messages all the same (measured: 75 of 400 confirmed publishes lost). The relay asks for such an
    event to fail instead, so it sends it again; everyone else, the relay after a first connect, and the relay
    later on keep "an event nobody is bound to is not the producer's failure"."""
    from servicekit import amqp

    broker = Broker(await make_vhost(), name="routing-test")  # no queue bound: every event is unroutable
    await broker.start()
    try:
        await broker.wait_ready(10)
        await broker.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{}", message_id="0", message_type="chat.x",
                             routed_after_reconnect=True)  # a first connect: nothing to recover
        broker.publisher.reconnected()  # what the connection's reconnect callbacks call
        with pytest.raises(PublishFailed, match="could not route"):
            await broker.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{}", message_id="1", message_type="chat.x",
                                 routed_after_reconnect=True)
        await broker.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{}", message_id="2", message_type="chat.x")
        monkeypatch.setattr(amqp, "RECOVERING_SECONDS", 0.0)  # long after the connection opened
        await broker.publish(CHAT_EVENTS_EXCHANGE, "chat.x", b"{}", message_id="3", message_type="chat.x",
                             routed_after_reconnect=True)
    finally:
        await broker.close()


async def test_a_connection_attempt_whose_handshake_never_comes_gives_up_after_the_connect_timeout(monkeypatch):
    """A broker that accepts the TCP connection but never speaks AMQP (RabbitMQ still booting): the attempt ends
    after `CONNECT_TIMEOUT` instead of waiting for ever, so the next attempt can find the broker up."""
    from servicekit import amqp

    monkeypatch.setattr(amqp, "CONNECT_TIMEOUT", 0.5)
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    attempt = asyncio.create_task(connect(f"amqp://guest:guest@127.0.0.1:{port}/", name="silent"))
    try:
        done, _ = await asyncio.wait({attempt}, timeout=5)
        assert attempt in done, "the attempt is still waiting for the handshake"
        assert isinstance(attempt.exception(), (TimeoutError, ConnectionError, OSError)), attempt.exception()
    finally:
        attempt.cancel()
        silent.close()
