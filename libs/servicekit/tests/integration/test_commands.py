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
    client = CommandClient(connection, publisher, client_id="gw-test", timeout=timeout)
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
        calling = Publisher(connection)
        await calling.start()
        client = CommandClient(connection, calling, client_id="gw-test", timeout=2.0)
        await client.start()

        reply = await client.call(new_command(CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=5, content="hi")))
        assert reply.ok and reply.result == {"session_id": 5}
    finally:
        await connection.close()
