"""`chat:send_message` with the sender's own `client_msg_id`: a message sent again after a lost ack (a new command
as the gateway makes it: the id derived from the sender and the client's id) is stored once and answered with the
first answer; another message under the same id is refused; the REST send's `Idempotency-Key` is the same key."""

import pytest
from chat_svc.message_batch import Pending
from contracts.events.commands import CHAT_SEND_MESSAGE, CommandReply, client_command_id, new_command
from contracts.events.registry import CHAT_MESSAGE_CREATED
from contracts.identity import Principal
from contracts.socketio.client import SendMessagePayload
from sqlalchemy import text

from .conftest import BASE, claimed_session, new_id, user, user_headers

pytestmark = pytest.mark.integration


async def send(stack, principal: Principal, session_id: int, content: str, client_msg_id: str) -> CommandReply:
    """One `chat:send_message` as the gateway turns it into a command."""
    payload = SendMessagePayload(session_id=session_id, content=content, client_msg_id=client_msg_id)
    command_id = client_command_id(CHAT_SEND_MESSAGE, principal, client_msg_id)
    return await stack.commands.call(new_command(CHAT_SEND_MESSAGE, principal, payload, command_id=command_id))


async def stored(stack, session_id: int) -> list[str]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT content FROM chat.messages WHERE session_id = :s "
                                       "AND sender_type = 'user' ORDER BY id"), {"s": session_id})
        return list(rows.scalars())


async def created_events(stack, session_id: int) -> list[str]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT event_type FROM chat.outbox WHERE aggregate_id = :s ORDER BY id"),
                                  {"s": str(session_id)})
        return [t for t in rows.scalars() if t == CHAT_MESSAGE_CREATED]


async def test_a_message_sent_again_under_its_client_msg_id_is_stored_once_and_both_sends_get_the_first_answer(stack):
    owner, admin_id = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    events_before = len(await created_events(stack, session_id))

    first = await send(stack, user(owner), session_id, "are you there?", "c-2f6d0b7e-1")
    again = await send(stack, user(owner), session_id, "are you there?", "c-2f6d0b7e-1")

    assert first.ok and again.ok, (first.error, again.error)
    assert again.result == first.result
    assert await stored(stack, session_id) == ["hello", "are you there?"]
    assert len(await created_events(stack, session_id)) == events_before + 1  # delivered once: one event


async def test_another_message_under_a_used_client_msg_id_is_refused_with_idempotency_key_reused(stack):
    owner, admin_id = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)

    first = await send(stack, user(owner), session_id, "first words", "reused-id")
    other = await send(stack, user(owner), session_id, "other words", "reused-id")

    assert first.ok, first.error
    assert (other.ok, other.error.code) == (False, "idempotency_key_reused")
    assert await stored(stack, session_id) == ["hello", "first words"]


async def test_two_messages_under_one_client_msg_id_in_one_batch_store_the_first_and_refuse_the_second(stack):
    owner, admin_id = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    first = Pending(user(owner), session_id, "mine", "text", None, None, "same-batch-id")
    other = Pending(user(owner), session_id, "not mine", "text", None, None, "same-batch-id")
    await stack.app.state.message_batcher._commit([first, other])

    assert first.done.result()["message_content"] == "mine"
    assert other.done.exception().code == "idempotency_key_reused"
    assert await stored(stack, session_id) == ["hello", "mine"]


async def test_the_same_client_msg_id_from_two_users_is_two_messages(stack):
    admin_id, one, two = new_id(), new_id(), new_id()
    first_session = await claimed_session(stack, one, admin_id)
    second_session = await claimed_session(stack, two, admin_id)

    mine = await send(stack, user(one), first_session, "same id", "shared-client-id")
    theirs = await send(stack, user(two), second_session, "same id", "shared-client-id")

    assert mine.ok and theirs.ok, (mine.error, theirs.error)
    assert mine.result["message_id"] != theirs.result["message_id"]
    assert await stored(stack, second_session) == ["hello", "same id"]


async def test_a_socket_send_and_a_rest_send_with_the_same_id_are_one_message(stack):
    """The page falls back to REST after a socket send whose ack was lost: its Idempotency-Key is the same id."""
    owner, admin_id = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)

    by_socket = await send(stack, user(owner), session_id, "one message", "both-paths-id")
    by_rest = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers={
        **user_headers(owner), "Idempotency-Key": "both-paths-id"}, json={"content": "one message"})

    assert by_socket.ok, by_socket.error
    assert by_rest.status_code == 201, by_rest.text
    assert by_rest.json()["message_id"] == by_socket.result["message_id"]
    assert await stored(stack, session_id) == ["hello", "one message"]


async def test_a_picture_message_sent_again_under_its_client_msg_id_is_stored_once(stack):
    """Pictures go through the single use case (not the batch): the same key, the same answer."""
    from .test_attachments import picture, upload

    owner, admin_id = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    attachment = (await upload(stack, session_id, picture("PNG", (64, 48)), user_headers(owner))).json()
    payload = SendMessagePayload(session_id=session_id, content=attachment["attachment_id"], message_type="image",
                                 client_msg_id="picture-once")
    command_id = client_command_id(CHAT_SEND_MESSAGE, user(owner), "picture-once")

    first = await stack.commands.call(new_command(CHAT_SEND_MESSAGE, user(owner), payload, command_id=command_id))
    again = await stack.commands.call(new_command(CHAT_SEND_MESSAGE, user(owner), payload, command_id=command_id))

    assert first.ok and again.ok, (first.error, again.error)
    assert again.result == first.result
    assert await stored(stack, session_id) == ["hello", attachment["attachment_id"]]
