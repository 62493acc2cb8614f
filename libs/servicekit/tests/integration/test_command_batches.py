"""Several commands in one AMQP message and their replies in one (servicekit.command_batch), over a real RabbitMQ:
what goes on the wire, and that ack, retry, dead-letter and expiry stay per command."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from uuid import uuid4

import aio_pika
import pytest
import pytest_asyncio
from contracts.events.commands import (
    ACCEPTS_REPLY_BATCH_HEADER,
    CHAT_SEND_MESSAGE,
    COMMAND_BATCH_TYPE,
    REPLY_BATCH_TYPE,
    CommandBatch,
    CommandReply,
    CommandReplyBatch,
    new_command,
)
from contracts.events.topology import COMMAND_CHAT_SEND_MESSAGE, COMMANDS_EXCHANGE
from contracts.identity import Principal
from contracts.socketio.client import SendMessagePayload
from contracts.time import now_beijing
from servicekit.amqp import Publisher, connect, declare_exchanges
from servicekit.commands import CommandClient, serve_commands

pytestmark = pytest.mark.integration
ADMIN = Principal(user_id=1, user_type="admin", username="admin1")
DLQ = "chat-svc.commands.classic.dlq"


def _send(session_id: int):
    return new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=session_id, content="x"))


@pytest_asyncio.fixture(loop_scope="session")
async def connection(make_vhost):
    connection = await connect(await make_vhost(), name="batch-test")
    yield connection
    await connection.close()


async def _echo_session(principal, payload: SendMessagePayload, command):
    return {"session_id": payload.session_id}


async def _serve(connection, handler) -> None:
    publisher = Publisher(connection)
    await publisher.start()
    await serve_commands(connection, publisher, service="chat-svc", handlers={CHAT_SEND_MESSAGE: handler})


async def _client(connection, *, batch_max: int = 64, timeout: float = 5.0) -> CommandClient:
    client = CommandClient(connection, client_id="gw-test", timeout=timeout, batch_max=batch_max)
    await client.start()
    return client


async def _observer(connection) -> aio_pika.abc.AbstractQueue:
    """A queue that gets a copy of every chat.send_message command message (the topic exchange copies it)."""
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(COMMANDS_EXCHANGE, routing_key=COMMAND_CHAT_SEND_MESSAGE)
    return queue


async def _drain(queue: aio_pika.abc.AbstractQueue, settle: float = 0.3) -> list[aio_pika.abc.AbstractIncomingMessage]:
    await asyncio.sleep(settle)
    messages = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        messages.append(message)
    return messages


async def _reply_queue(connection):
    channel = await connection.channel()
    await declare_exchanges(channel)
    return channel, await channel.declare_queue(exclusive=True)


async def test_commands_called_in_one_pass_of_the_loop_go_to_the_service_as_one_batch_message(connection):
    await _serve(connection, _echo_session)
    observed = await _observer(connection)
    client = await _client(connection)
    commands = [_send(n) for n in range(1, 11)]
    replies = await asyncio.gather(*(client.call(command) for command in commands))

    assert [r.result for r in replies] == [{"session_id": n} for n in range(1, 11)]
    assert [r.command_id for r in replies] == [c.command_id for c in commands]
    sent = await _drain(observed)
    assert [m.type for m in sent] == [COMMAND_BATCH_TYPE]
    batch = CommandBatch.model_validate_json(sent[0].body)
    assert [c.command_id for c in batch.commands] == [c.command_id for c in commands]
    assert sent[0].expiration == 5.0 and batch.ttl_ms == 5000
    assert (client.messages_sent, client.commands_sent) == (1, 10)


async def test_with_batching_off_every_command_goes_in_a_message_of_its_own(connection):
    """GATEWAY_COMMAND_BATCH=false: for a service of an earlier version, which reads single commands only."""
    await _serve(connection, _echo_session)
    observed = await _observer(connection)
    client = await _client(connection, batch_max=1)
    replies = await asyncio.gather(*(client.call(_send(n)) for n in range(1, 6)))
    assert all(r.ok for r in replies)
    assert [m.type for m in await _drain(observed)] == ["command.chat.send_message"] * 5


async def test_batches_are_cut_at_their_size_cap(connection):
    await _serve(connection, _echo_session)
    observed = await _observer(connection)
    client = await _client(connection, batch_max=4)
    assert all(r.ok for r in await asyncio.gather(*(client.call(_send(n)) for n in range(1, 11))))
    sizes = [len(CommandBatch.model_validate_json(m.body).commands) if m.type == COMMAND_BATCH_TYPE else 1
             for m in await _drain(observed)]
    assert sizes == [4, 4, 2]


async def test_commands_with_different_timeouts_go_in_separate_messages_each_with_its_own_expiration(connection):
    await _serve(connection, _echo_session)
    observed = await _observer(connection)
    client = await _client(connection)
    replies = await asyncio.gather(client.call(_send(1), timeout=2), client.call(_send(2), timeout=3),
                                   client.call(_send(3), timeout=2), client.call(_send(4), timeout=3))
    assert all(r.ok for r in replies)
    sent = {m.expiration: CommandBatch.model_validate_json(m.body) for m in await _drain(observed)}
    assert sorted(sent) == [2.0, 3.0]
    assert [c.payload["session_id"] for c in sent[2.0].commands] == [1, 3] and sent[2.0].ttl_ms == 2000
    assert [c.payload["session_id"] for c in sent[3.0].commands] == [2, 4] and sent[3.0].ttl_ms == 3000


async def test_a_batch_of_commands_is_answered_in_one_reply_message(connection):
    release = asyncio.Event()

    async def send_message(principal, payload: SendMessagePayload, command):
        await release.wait()  # all finish together, as chat-svc's group commit finishes them
        return {"session_id": payload.session_id}

    await _serve(connection, send_message)
    channel, replies = await _reply_queue(connection)
    commands = [_send(n) for n in range(1, 9)]
    batch = CommandBatch(commands=commands, ttl_ms=5000)
    await channel.get_exchange(COMMANDS_EXCHANGE)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    await exchange.publish(aio_pika.Message(batch.to_bytes(), type=COMMAND_BATCH_TYPE, reply_to=replies.name,
                                            expiration=5), routing_key=COMMAND_CHAT_SEND_MESSAGE)
    await asyncio.sleep(0.3)
    release.set()
    got = await _drain(replies, settle=0.5)
    assert [m.type for m in got] == [REPLY_BATCH_TYPE]
    answered = CommandReplyBatch.model_validate_json(got[0].body).replies
    assert sorted(r.result["session_id"] for r in answered) == list(range(1, 9))
    assert {r.command_id for r in answered} == {c.command_id for c in commands}


async def test_a_caller_that_does_not_accept_reply_batches_gets_one_reply_message_per_command(connection):
    """An old gateway (no ACCEPTS_REPLY_BATCH_HEADER) sending old-style single commands: served as before."""
    release = asyncio.Event()

    async def send_message(principal, payload: SendMessagePayload, command):
        await release.wait()
        return {"session_id": payload.session_id}

    await _serve(connection, send_message)
    channel, replies = await _reply_queue(connection)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    commands = [_send(n) for n in range(1, 5)]
    for command in commands:
        await exchange.publish(aio_pika.Message(command.to_bytes(), type="command.chat.send_message",
                                                correlation_id=str(command.command_id), reply_to=replies.name),
                               routing_key=COMMAND_CHAT_SEND_MESSAGE)
    await asyncio.sleep(0.3)
    release.set()
    got = await _drain(replies, settle=0.5)
    assert [m.type for m in got] == ["command.reply"] * 4
    assert sorted(m.correlation_id for m in got) == sorted(str(c.command_id) for c in commands)
    assert all(CommandReply.model_validate_json(m.body).ok for m in got)


async def test_the_client_gives_each_reply_of_a_reply_batch_to_its_own_caller(connection):
    """The gateway's reply consumer unpacks a reply batch, whatever order its replies come in."""
    observed = await _observer(connection)
    client = await _client(connection, batch_max=1)  # single commands, replies batched by the service
    commands = [_send(n) for n in range(1, 5)]
    calls = [asyncio.create_task(client.call(command)) for command in commands]
    sent = await _drain(observed)
    assert all(m.headers.get(ACCEPTS_REPLY_BATCH_HEADER) for m in sent)
    answers = CommandReplyBatch(replies=[CommandReply.success(c.command_id, {"n": c.payload["session_id"]})
                                         for c in reversed(commands)])
    channel = await connection.channel()
    await channel.default_exchange.publish(
        aio_pika.Message(answers.to_bytes(), type=REPLY_BATCH_TYPE), routing_key=sent[0].reply_to)
    replies = await asyncio.gather(*calls)
    assert [r.result for r in replies] == [{"n": n} for n in range(1, 5)]


async def test_a_transient_failure_of_one_command_in_a_batch_retries_only_it(make_vhost):
    vhost = await make_vhost()
    connection = await connect(vhost, name="batch-test")
    attempts: list[int] = []
    try:
        async def send_message(principal, payload: SendMessagePayload, command):
            attempts.append(payload.session_id)
            if payload.session_id == 2 and attempts.count(2) == 1:
                raise ConnectionError("database restarting")
            return {"session_id": payload.session_id}

        await _serve(connection, send_message)
        client = await _client(connection)
        replies = await asyncio.gather(*(client.call(_send(n)) for n in (1, 2, 3)))
        assert [r.result for r in replies] == [{"session_id": n} for n in (1, 2, 3)]
        assert sorted(attempts) == [1, 2, 2, 3]
        assert client.messages_sent == 1
        await asyncio.sleep(0.3)  # the batch's ack is written
    finally:
        await connection.close()
    again: list[int] = []

    async def counts(principal, payload: SendMessagePayload, command):
        again.append(payload.session_id)
        return {}

    second = await connect(vhost, name="batch-test-2")
    try:
        await _serve(second, counts)
        await asyncio.sleep(1.0)  # an unacked batch would be redelivered to this consumer at once
        assert again == []
    finally:
        await second.close()


async def test_a_command_of_a_batch_that_keeps_failing_is_dead_lettered_alone_after_five_attempts(connection):
    attempts: list[int] = []
    async def send_message(principal, payload: SendMessagePayload, command):
        attempts.append(payload.session_id)
        if payload.session_id == 7:
            raise ConnectionError("database restarting, for ever")
        return {"session_id": payload.session_id}

    await _serve(connection, send_message)
    client = await _client(connection, timeout=5)
    one, seven, eight = await asyncio.gather(client.call(_send(1)), client.call(_send(7)), client.call(_send(8)))
    assert one.ok and eight.ok
    assert not seven.ok and seven.error.code == "timeout"
    channel = await connection.channel()
    dlq = await channel.declare_queue(DLQ, durable=True, passive=True)
    dead = await dlq.get(fail=False)
    assert dead is not None and json.loads(dead.body)["payload"]["session_id"] == 7
    assert dead.headers["x-dead-letter-reason"] == "max_failures"
    assert await dlq.get(fail=False) is None  # its neighbours are not dead-lettered with it
    await asyncio.sleep(0.5)
    assert sorted(attempts) == [1, 7, 7, 7, 7, 7, 8]


async def test_a_malformed_batch_is_dead_lettered_and_a_malformed_command_in_a_batch_gets_an_error_reply(connection):
    await _serve(connection, _echo_session)
    channel, replies = await _reply_queue(connection)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    good = _send(3)
    broken_id = uuid4()
    body = json.dumps({"ttl_ms": 5000, "commands": [
        json.loads(good.to_bytes()),
        {"command_id": str(broken_id), "command": "chat.send_message", "payload": {}},  # no principal
    ]}).encode()
    await exchange.publish(aio_pika.Message(body, type=COMMAND_BATCH_TYPE, reply_to=replies.name),
                           routing_key=COMMAND_CHAT_SEND_MESSAGE)
    got = await _drain(replies, settle=0.5)
    answered = {r.command_id: r for m in got for r in (
        CommandReplyBatch.model_validate_json(m.body).replies if m.type == REPLY_BATCH_TYPE
        else [CommandReply.model_validate_json(m.body)])}
    assert answered[good.command_id].ok
    assert answered[broken_id].error.code == "invalid_payload"
    assert "principal" in answered[broken_id].error.message

    await exchange.publish(aio_pika.Message(b'{"commands": "none"}', type=COMMAND_BATCH_TYPE,
                                            reply_to=replies.name), routing_key=COMMAND_CHAT_SEND_MESSAGE)
    dlq = await channel.declare_queue(DLQ, durable=True, passive=True)
    async with asyncio.timeout(5):
        while (dead := await dlq.get(fail=False)) is None:
            await asyncio.sleep(0.05)
    assert dead.body == b'{"commands": "none"}'


async def test_a_command_of_a_batch_past_its_ttl_is_dead_lettered_as_expired_not_retried_again(connection):
    """As the broker dead-letters an expired single command instead of delivering it again after its caller gave
    up."""
    attempts: list[int] = []
    async def send_message(principal, payload: SendMessagePayload, command):
        attempts.append(payload.session_id)
        if payload.session_id == 5:
            raise ConnectionError("database restarting")
        return {"session_id": payload.session_id}

    await _serve(connection, send_message)
    client = await _client(connection, timeout=0.5)  # expired after the 2nd backoff (0.2 s, then 0.4 s)
    five, six = await asyncio.gather(client.call(_send(5)), client.call(_send(6)))
    assert six.ok and five.error.code == "timeout"
    await asyncio.sleep(2.5)
    assert attempts.count(5) == 2 and attempts.count(6) == 1
    channel = await connection.channel()
    dlq = await channel.declare_queue(DLQ, durable=True, passive=True)
    dead = await dlq.get(fail=False)
    assert dead is not None and dead.headers["x-dead-letter-reason"] == "expired"
    assert json.loads(dead.body)["payload"]["session_id"] == 5
    assert await dlq.get(fail=False) is None


async def test_a_command_of_a_batch_issued_longer_ago_than_its_ttl_is_dead_lettered_not_carried_out(connection):
    """A batch delivered just before its expiry can wait in the consumer's prefetch: each command is checked against
    its own issued_at + TTL, as the broker checks a single command's age; its fresh neighbours are carried out."""
    carried_out: list[int] = []
    async def send_message(principal, payload: SendMessagePayload, command):
        carried_out.append(payload.session_id)
        return {"session_id": payload.session_id}

    await _serve(connection, send_message)
    channel, replies = await _reply_queue(connection)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    stale = _send(1).model_copy(update={"issued_at": now_beijing() - timedelta(seconds=6)})
    fresh = _send(2)
    batch = CommandBatch(commands=[stale, fresh], ttl_ms=5000)
    await exchange.publish(aio_pika.Message(batch.to_bytes(), type=COMMAND_BATCH_TYPE, reply_to=replies.name),
                           routing_key=COMMAND_CHAT_SEND_MESSAGE)
    got = await _drain(replies, settle=0.5)
    assert [CommandReply.model_validate_json(m.body).command_id for m in got] == [fresh.command_id]
    assert carried_out == [2]
    dlq = await channel.declare_queue(DLQ, durable=True, passive=True)
    dead = await dlq.get(fail=False)
    assert dead is not None and dead.headers["x-dead-letter-reason"] == "expired"
    assert dead.message_id == str(stale.command_id)
