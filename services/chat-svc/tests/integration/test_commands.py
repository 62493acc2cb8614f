"""`chat.send_message` from the gateway, through a real CommandClient: the same rules as the REST route."""

import pytest
from contracts.events.commands import (
    CHAT_SEND_MESSAGE,
    CHAT_SESSION_PARTICIPANTS,
    CommandMessage,
    SessionParticipants,
    SessionRef,
    new_command,
)
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import CHAT_MESSAGE_CREATED
from contracts.identity import Principal
from contracts.payloads import ChatMessageData
from contracts.socketio.client import SendMessagePayload
from sqlalchemy import text

from .conftest import BASE, admin, admin_headers, new_id, user

pytestmark = pytest.mark.integration


async def send(stack, principal: Principal, session_id: int, content: str = "via socket"):
    return await stack.commands.call(new_command(CHAT_SEND_MESSAGE, principal, SendMessagePayload(
        session_id=session_id, content=content)))


async def test_send_message_command_posts_as_the_principal_and_replies_with_the_message(stack, user_id, admin_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=admin_headers(admin_id))

    from_user = await send(stack, user(user_id), session_id, "from my phone")
    assert from_user.ok, from_user.error
    message = ChatMessageData.model_validate(from_user.result)
    assert (message.sender_type, message.sender_id, message.message_content) == ("user", user_id, "from my phone")
    from_admin = await send(stack, admin(admin_id), session_id)
    assert from_admin.ok and from_admin.result["sender_type"] == "admin"
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=4)  # user, system, 2 via commands
    assert [m.message.message_id for m in created[-2:]] == [message.message_id, from_admin.result["message_id"]]


async def test_send_message_command_refusals_are_error_replies(stack, user_id, admin_id):
    session_id = (await stack.open_session(user_id))["session_id"]

    forbidden = await send(stack, user(new_id()), session_id)
    assert (forbidden.ok, forbidden.error.code) == (False, "forbidden")
    unassigned = await send(stack, admin(admin_id), session_id)  # waiting: not theirs until claimed
    assert unassigned.error.code == "forbidden"
    missing = await send(stack, user(user_id), 999999999999)
    assert missing.error.code == "not_found"
    too_big = await send(stack, user(user_id), 2**64)
    assert too_big.error.code == "not_found"
    bad = await stack.commands.call(CommandMessage(command=CHAT_SEND_MESSAGE, principal=user(user_id),
                                                   payload={"session_id": session_id, "content": " "}))
    assert bad.error.code == "invalid_payload" and "content" in bad.error.message

    await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=admin_headers(admin_id))
    await stack.client.post(f"{BASE}/sessions/{session_id}/close", headers=admin_headers(admin_id))
    closed = await send(stack, user(user_id), session_id)
    assert closed.error.code == "session_closed"


async def test_session_participants_query_tells_the_gateway_who_is_in_a_session(stack, user_id, admin_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=admin_headers(admin_id))

    reply = await stack.commands.call(new_command(CHAT_SESSION_PARTICIPANTS, user(user_id), SessionRef(session_id=session_id)))
    assert reply.ok, reply.error
    assert SessionParticipants.model_validate(reply.result) == SessionParticipants(
        session_id=session_id, user_id=user_id, admin_id=admin_id, status="active")
    missing = await stack.commands.call(new_command(CHAT_SESSION_PARTICIPANTS, user(user_id), SessionRef(session_id=999999999999)))
    assert missing.error.code == "not_found"


async def test_a_message_sent_by_socket_command_carries_the_command_id_as_its_events_correlation_id(
    stack, user_id, admin_id
):
    session_id = (await stack.open_session(user_id))["session_id"]
    command = new_command(CHAT_SEND_MESSAGE, user(user_id), SendMessagePayload(session_id=session_id, content="hi"))
    reply = await stack.commands.call(command)
    assert reply.ok, reply.error
    async with stack.app.state.engine.connect() as conn:
        bodies = (await conn.execute(text(
            "SELECT body FROM chat.outbox WHERE aggregate_id = :s ORDER BY id"), {"s": str(session_id)})).scalars().all()
    envelopes = [EventEnvelope.model_validate_json(body) for body in bodies]
    by_command = [e for e in envelopes if e.correlation_id == str(command.command_id)]
    assert [e.event_type for e in by_command] == [CHAT_MESSAGE_CREATED]  # carrying the session's state
    assert by_command[0].payload["session"]["last_message"] == "hi"
