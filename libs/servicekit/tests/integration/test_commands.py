"""Commands over a real RabbitMQ: replies, refusals, bad payloads, and a caller that waits for nobody."""

from __future__ import annotations

import pytest
from contracts.events.commands import CHAT_SEND_MESSAGE, NOTIFICATION_MARK_READ, CommandMessage, new_command
from contracts.identity import Principal
from contracts.socketio.client import MarkReadPayload, SendMessagePayload
from servicekit.amqp import Publisher, PublishFailed, connect
from servicekit.commands import CommandClient, CommandFailed, serve_commands

pytestmark = pytest.mark.integration
ADMIN = Principal(user_id=1, user_type="admin", username="admin1")


class NotFound(Exception):
    pass


async def _setup(make_vhost, handlers, timeout=2.0):
    connection = await connect(await make_vhost(), name="commands-test")
    publisher = Publisher(connection)
    await publisher.start()
    if handlers:
        def map_error(exc: Exception):
            return CommandFailed("not_found", str(exc)) if isinstance(exc, NotFound) else None
        await serve_commands(connection, publisher, service="chat-svc", handlers=handlers, map_error=map_error)
    client = CommandClient(connection, client_id="gw-test", timeout=timeout)
    await client.start()
    return connection, client


async def test_a_command_is_answered_with_the_handlers_result_or_its_refusal(make_vhost):
    seen = []

    async def send_message(principal, payload: SendMessagePayload, command):
        seen.append((principal, payload))
        if payload.session_id == 404:
            raise NotFound("session 404 does not exist")
        if payload.session_id == 403:
            raise CommandFailed("forbidden", "not your session")
        return {"message_id": 9, "session_id": payload.session_id}

    connection, client = await _setup(make_vhost, {CHAT_SEND_MESSAGE: send_message})
    try:
        ok = await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="hi")))
        assert ok.ok and ok.result == {"message_id": 9, "session_id": 5}
        assert seen == [(ADMIN, SendMessagePayload(session_id=5, content="hi"))]

        missing = await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=404, content="x")))
        assert not missing.ok and missing.error.code == "not_found"
        refused = await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=403, content="x")))
        assert not refused.ok and refused.error.code == "forbidden"

        bad = CommandMessage(command=CHAT_SEND_MESSAGE, principal=ADMIN, payload={"session_id": "5", "content": ""})
        invalid = await client.call(bad)
        assert not invalid.ok and invalid.error.code == "invalid_payload"
        assert "content" in invalid.error.message
    finally:
        await connection.close()


async def test_a_command_nobody_serves_times_out_with_a_clear_reply(make_vhost):
    connection, client = await _setup(make_vhost, {}, timeout=0.3)
    try:
        reply = await client.call(new_command(NOTIFICATION_MARK_READ, ADMIN, MarkReadPayload(notification_id=1)))
        assert not reply.ok and reply.error.code == "timeout"
        assert "0.3" in reply.error.message
    finally:
        await connection.close()


async def test_the_request_id_bound_by_the_caller_is_bound_where_the_command_is_carried_out(make_vhost):
    from servicekit.logcontext import bind, bound

    seen = []

    async def send_message(principal, payload: SendMessagePayload, command):
        seen.append(dict(bound()))
        return {"message_id": 1, "session_id": payload.session_id}

    connection, client = await _setup(make_vhost, {CHAT_SEND_MESSAGE: send_message})
    try:
        command = new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="hi"))
        with bind(request_id="gw-cmd-1"):
            assert (await client.call(command)).ok
        assert (await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=6, content="x")))).ok
    finally:
        await connection.close()
    assert seen[0] == {"request_id": "gw-cmd-1", "correlation_id": str(command.command_id), "user_id": 1}
    assert "request_id" not in seen[1]  # none was sent: none is made up on the way


class _ConfirmsRefused(Publisher):
    """A publisher whose confirming channel never gets a confirm (a broker too busy to confirm in time)."""

    async def publish(self, *args, confirm: bool = True, **kwargs) -> None:
        if confirm:
            raise PublishFailed("no confirm within 5s")
        await super().publish(*args, confirm=False, **kwargs)


async def test_a_commands_reply_is_sent_without_waiting_for_the_brokers_confirm(make_vhost):
    connection = await connect(await make_vhost(), name="commands-test")
    try:
        serving = _ConfirmsRefused(connection)
        await serving.start()

        async def send_message(principal, payload: SendMessagePayload, command):
            return {"session_id": payload.session_id}

        await serve_commands(connection, serving, service="chat-svc", handlers={CHAT_SEND_MESSAGE: send_message})
        client = CommandClient(connection, client_id="gw-test", timeout=2.0)
        await client.start()

        reply = await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="hi")))
        assert reply.ok and reply.result == {"session_id": 5}
    finally:
        await connection.close()


async def test_replies_come_by_direct_reply_to_without_a_reply_queue(make_vhost):
    import aio_pika

    async def send_message(principal, payload: SendMessagePayload, command):
        return {"message_id": 1, "session_id": payload.session_id}

    connection, client = await _setup(make_vhost, {CHAT_SEND_MESSAGE: send_message})
    try:
        assert (await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="hi")))).ok
        channel = await connection.channel()
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await channel.declare_queue("gw-test.replies", passive=True)
    finally:
        await connection.close()


async def test_a_call_waiting_when_its_channel_closes_is_answered_unavailable_and_later_calls_work(make_vhost):
    import asyncio

    arrived, release = asyncio.Event(), asyncio.Event()

    async def send_message(principal, payload: SendMessagePayload, command):
        if payload.session_id == 1:
            arrived.set()
            await release.wait()  # no answer before the channel is gone
        return {"message_id": payload.session_id, "session_id": payload.session_id}

    connection, client = await _setup(make_vhost, {CHAT_SEND_MESSAGE: send_message}, timeout=60)
    try:
        waiting = asyncio.create_task(
            client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=1, content="x"))))
        await asyncio.wait_for(arrived.wait(), 10)
        # A channel error: the broker closes the client's channel (404, no such exchange).
        await client._raw.basic_publish(b"{}", exchange="no.such.exchange", routing_key="x")
        reply = await asyncio.wait_for(waiting, 10)
        assert not reply.ok and reply.error.code == "unavailable"
        release.set()

        later = None
        for attempt in range(100):  # the robust connection reopens the channel; replies are consumed again on it
            later = await client.call(
                new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=2 + attempt, content="y")),
                timeout=5)
            if later.ok:
                break
            await asyncio.sleep(0.1)
        assert later is not None and later.ok, later
    finally:
        await connection.close()


async def test_commands_are_answered_again_after_the_broker_closed_the_connection(make_vhost, amqp_management_url):
    import asyncio
    from urllib.parse import quote, urlsplit

    import httpx

    async def send_message(principal, payload: SendMessagePayload, command):
        return {"message_id": payload.session_id, "session_id": payload.session_id}

    vhost_url = await make_vhost()
    vhost = urlsplit(vhost_url).path.lstrip("/")

    async def the_same_vhost():
        return vhost_url

    connection, client = await _setup(the_same_vhost, {CHAT_SEND_MESSAGE: send_message})
    try:
        assert (await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=1, content="x")))).ok
        first_channel = client._raw
        parts = urlsplit(amqp_management_url)
        async with httpx.AsyncClient(base_url=f"{parts.scheme}://{parts.hostname}:{parts.port}",
                                     auth=(parts.username or "guest", parts.password or "guest"), timeout=5) as api:
            names: list[str] = []
            for _ in range(200):  # the management API lists a new connection a few seconds late
                listed = (await api.get(f"/api/vhosts/{quote(vhost, safe='')}/connections")).json()
                names = [c["name"] for c in listed]
                if names:
                    break
                await asyncio.sleep(0.1)
            assert names, "the connection never showed up in the management API"
            for name in names:  # what a broker restart does to its clients: the connection is closed under them
                await api.delete(f"/api/connections/{quote(name, safe='')}")
        later = None
        for attempt in range(200):  # the robust connection comes back; replies are consumed on the new channel
            later = await client.call(
                new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=2 + attempt, content="y")),
                timeout=2)
            if later.ok:
                break
            await asyncio.sleep(0.1)
        assert later is not None and later.ok, later
        assert client._raw is not first_channel  # answered on the reopened channel, not before the close
    finally:
        await connection.close()


async def _management(amqp_management_url):
    from urllib.parse import urlsplit

    import httpx

    parts = urlsplit(amqp_management_url)
    return httpx.AsyncClient(base_url=f"{parts.scheme}://{parts.hostname}:{parts.port}",
                             auth=(parts.username or "guest", parts.password or "guest"), timeout=5)


async def test_commands_go_through_a_durable_classic_queue_not_a_quorum_queue(make_vhost, amqp_management_url):
    from urllib.parse import quote, urlsplit

    async def send_message(principal, payload: SendMessagePayload, command):
        return {"session_id": payload.session_id}

    vhost_url = await make_vhost()
    connection, client = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: send_message})
    try:
        assert (await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="x")))).ok
        vhost = quote(urlsplit(vhost_url).path.lstrip("/"), safe="")
        async with await _management(amqp_management_url) as api:
            queue = (await api.get(f"/api/queues/{vhost}/chat-svc.commands.classic")).json()
        assert queue["type"] == "classic" and queue["durable"] is True
        assert queue["arguments"]["x-queue-version"] == 2
    finally:
        await connection.close()


async def _same(url):
    return url


async def _old_quorum_queue(url: str):
    """What a previous version left: the quorum queue `chat-svc.commands` bound to the commands, and its DLQ."""
    import aio_pika
    from contracts.events.commands import COMMAND_ROUTING_KEYS
    from contracts.events.topology import COMMANDS_EXCHANGE
    from servicekit.amqp import QueueSpec, declare_exchanges, declare_queue

    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    await declare_exchanges(channel)
    spec = QueueSpec("chat-svc.commands", ((COMMANDS_EXCHANGE, COMMAND_ROUTING_KEYS[CHAT_SEND_MESSAGE]),), quorum=True,
                     delivery_limit=5)
    queue = await declare_queue(channel, spec)
    return connection, channel, queue


async def _exists(connection, name: str) -> bool:
    import aio_pika

    channel = await connection.channel()
    try:
        await channel.declare_queue(name, passive=True)
    except aio_pika.exceptions.ChannelNotFoundEntity:
        return False
    await channel.close()
    return True


async def test_an_empty_unused_quorum_command_queue_of_a_previous_version_is_deleted_at_start(make_vhost, caplog):
    import logging

    vhost_url = await make_vhost()
    old, _, _ = await _old_quorum_queue(vhost_url)
    await old.close()

    async def send_message(principal, payload: SendMessagePayload, command):
        return {"session_id": payload.session_id}

    with caplog.at_level(logging.INFO, logger="servicekit.commands"):
        connection, client = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: send_message})
    try:
        assert (await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="x")))).ok
        assert not await _exists(connection, "chat-svc.commands")
        assert not await _exists(connection, "chat-svc.commands.dlq")
        assert "deleted the quorum queue chat-svc.commands" in caplog.text
    finally:
        await connection.close()


async def test_a_quorum_command_queue_still_consumed_is_unbound_and_kept_and_each_command_served_once(
    make_vhost, caplog,
):
    import asyncio
    import logging

    vhost_url = await make_vhost()
    old, _, old_queue = await _old_quorum_queue(vhost_url)
    reached_old: list[bytes] = []

    async def old_process(message) -> None:  # a process of the previous version, still serving its queue
        reached_old.append(message.body)
        await message.ack()

    await old_queue.consume(old_process)
    served: list[int] = []

    async def send_message(principal, payload: SendMessagePayload, command):
        served.append(payload.session_id)
        return {"session_id": payload.session_id}

    try:
        with caplog.at_level(logging.INFO, logger="servicekit.commands"):
            connection, client = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: send_message})
        try:
            for session_id in range(1, 6):
                reply = await client.call(
                    new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=session_id, content="x")))
                assert reply.ok
            await asyncio.sleep(0.3)  # a command that also went to the old queue would have reached it by now
            assert served == [1, 2, 3, 4, 5]
            assert reached_old == []
            assert await _exists(connection, "chat-svc.commands")  # consumed: kept for its process to drain
            assert "kept the quorum queue chat-svc.commands" in caplog.text
        finally:
            await connection.close()
    finally:
        await old.close()


async def test_a_command_whose_handler_keeps_failing_is_dead_lettered_after_five_attempts(make_vhost):
    import asyncio

    attempts: list[int] = []

    async def send_message(principal, payload: SendMessagePayload, command):
        attempts.append(payload.session_id)
        raise ConnectionError("database restarting, for ever")

    connection, client = await _setup(make_vhost, {CHAT_SEND_MESSAGE: send_message}, timeout=60)
    try:
        reply = await client.call(
            new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=7, content="x")), timeout=10)
        assert not reply.ok and reply.error.code == "timeout"
        channel = await connection.channel()
        dlq = await channel.declare_queue("chat-svc.commands.classic.dlq", durable=True, passive=True)
        async with asyncio.timeout(10):
            while (dead := await dlq.get(fail=False)) is None:
                await asyncio.sleep(0.05)
        assert b'"session_id":7' in dead.body.replace(b" ", b"")
        await asyncio.sleep(0.5)  # no further attempt after it was dead-lettered
        assert attempts == [7, 7, 7, 7, 7]
    finally:
        await connection.close()


async def test_a_command_whose_process_dies_is_not_delivered_again_after_its_callers_timeout(make_vhost):
    """What bounds a command that kills the process carrying it out (no count survives the process): the broker
    drops it once its TTL, the caller's timeout, is past, counted from its publication, not from its requeue."""
    import asyncio

    vhost_url = await make_vhost()
    arrived, released = asyncio.Event(), asyncio.Event()

    async def dies_in_it(principal, payload: SendMessagePayload, command):
        arrived.set()
        await released.wait()  # no answer: the process dies first
        return {}

    dying, _ = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: dies_in_it}, timeout=1.0)
    caller = await connect(vhost_url, name="caller")
    try:
        client = CommandClient(caller, client_id="gw-test", timeout=1.0)
        await client.start()
        reply = asyncio.create_task(
            client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=3, content="x"))))
        await asyncio.wait_for(arrived.wait(), 10)
        assert (await reply).error.code == "timeout"
        await dying.close()  # the process dies with the command unacked: the broker requeues it

        carried_out: list[int] = []

        async def send_message(principal, payload: SendMessagePayload, command):
            carried_out.append(payload.session_id)
            return {"session_id": payload.session_id}

        serving, _ = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: send_message})
        try:
            channel = await serving.channel()
            dlq = await channel.declare_queue("chat-svc.commands.classic.dlq", durable=True, passive=True)
            async with asyncio.timeout(10):
                while (dead := await dlq.get(fail=False)) is None:
                    await asyncio.sleep(0.05)
            assert dead.headers["x-death"][0]["reason"] == "expired"
            assert carried_out == []
        finally:
            await serving.close()
    finally:
        released.set()
        await asyncio.sleep(0.05)
        await caller.close()


async def test_commands_answered_together_are_each_acked_once(make_vhost):
    """Their acks go out together (servicekit.ackbatch): none is left unacked to come back after a reconnect."""
    import asyncio

    vhost_url = await make_vhost()
    release = asyncio.Event()

    async def send_message(principal, payload: SendMessagePayload, command):
        await release.wait()  # all answered in one pass, as a group commit does
        return {"session_id": payload.session_id}

    first, client = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: send_message})
    try:
        calls = [asyncio.create_task(client.call(
            new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=n, content="x")))) for n in range(1, 21)]
        await asyncio.sleep(0.5)
        release.set()
        assert all(reply.ok for reply in await asyncio.gather(*calls))
        await asyncio.sleep(0.2)  # the acks are written
    finally:
        await first.close()
    again: list[int] = []

    async def counts(principal, payload: SendMessagePayload, command):
        again.append(payload.session_id)
        return {}

    second, _ = await _setup(lambda: _same(vhost_url), {CHAT_SEND_MESSAGE: counts})
    try:
        await asyncio.sleep(1.0)  # an unacked command would be redelivered to this consumer at once
        assert again == []
    finally:
        await second.close()
