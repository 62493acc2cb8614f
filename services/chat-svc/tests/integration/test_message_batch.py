"""Group commit of `chat.send_message` (chat_svc.message_batch): many messages per transaction, each with the rules,
the order and the events of the single use case."""

import asyncio

import pytest
from chat_svc.message_batch import MessageBatcher, Pending
from contracts.events.commands import CHAT_SEND_MESSAGE, new_command
from contracts.events.registry import CHAT_MESSAGE_CREATED, CHAT_SESSION_UPDATED
from contracts.socketio.client import SendMessagePayload
from sqlalchemy import text

from .conftest import BASE, admin, admin_headers, claimed_session, new_id, supervisor_headers, user
from .test_reply_deadlines import waiting_since

pytestmark = pytest.mark.integration


async def stored(stack, session_id: int) -> list[tuple[str, str]]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT sender_type, content FROM chat.messages WHERE session_id = :s "
                                       "AND sender_type <> 'system' ORDER BY id"), {"s": session_id})
        return [(r.sender_type, r.content) for r in rows]


async def test_concurrent_socket_messages_share_transactions_and_keep_each_sessions_order_and_events(stack):
    """40 messages into 4 sessions at once: fewer transactions than messages; each session's messages stored and
    announced in the order sent, its unread count and report figures counted once each; each session's state
    rides on its last message of each transaction (no `chat.session_updated` of its own), the last one final."""
    admin_id = new_id()
    users = [new_id() for _ in range(4)]
    sessions = [await claimed_session(stack, u, admin_id) for u in users]
    batcher = stack.app.state.message_batcher
    before = (batcher.batches, batcher.messages)
    commands = [new_command(CHAT_SEND_MESSAGE, user(users[i % 4]), SendMessagePayload(
        session_id=sessions[i % 4], content=f"m{i}")) for i in range(40)]
    replies = await asyncio.gather(*(stack.commands.call(c) for c in commands))

    assert all(r.ok for r in replies), [r.error for r in replies if not r.ok]
    assert batcher.messages - before[1] == 40
    assert batcher.batches - before[0] < 40
    for k, session_id in enumerate(sessions):
        sent = [f"m{i}" for i in range(k, 40, 4)]
        assert await stored(stack, session_id) == [("user", "hello"), *(("user", c) for c in sent)]
        created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=12)
        assert [m.message.message_content for m in created][-10:] == sent
        row = await stack.session(session_id)
        assert (row["admin_unread_count"], row["message_count"], row["last_message"]) == (11, 11, sent[-1])
        assert created[-1].session is not None
        assert (created[-1].session.unread_count, created[-1].session.last_message) == (11, sent[-1])
        carrying = [m for m in created[-10:] if m.session is not None]
        assert 1 <= len(carrying) <= batcher.batches - before[0]  # at most one per session per transaction
        assert [m.session.last_message for m in carrying] == [m.message.message_content for m in carrying]
        first = _index_of(stack.tap.of(session_id), sent[0])
        assert [e.event_type for _, e, _ in stack.tap.of(session_id)[first:]] == [CHAT_MESSAGE_CREATED] * 10


def _index_of(events: list, content: str) -> int:
    return next(i for i, (_, e, _) in enumerate(events)
                if e.event_type == CHAT_MESSAGE_CREATED and e.payload["message"]["message_content"] == content)


async def test_a_batch_of_messages_to_one_session_is_one_event_each_the_last_carrying_the_final_session_state(stack):
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    await stack.tap.wait(session_id, CHAT_SESSION_UPDATED)  # the claim's
    batcher = stack.app.state.message_batcher
    await batcher._commit([Pending(user(owner), session_id, c, "text", None, None) for c in ("a", "b", "c")])

    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=6)  # hello, 2 system, a, b, c
    assert [(m.message.message_content, m.session is None) for m in created[-3:]] == [
        ("a", True), ("b", True), ("c", False)]
    row = await stack.session(session_id)
    final = created[-1].session
    assert (final.unread_count, final.last_message, final.admin_id) == (row["admin_unread_count"], "c", admin_id)
    assert final.unread_count == 4
    events = stack.tap.of(session_id)
    assert [e.event_type for _, e, _ in events[_index_of(events, "a"):]] == [CHAT_MESSAGE_CREATED] * 3


async def test_with_session_state_in_message_events_off_a_batch_announces_each_session_with_its_own_update(stack):
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    old_style = MessageBatcher(stack.app.state.chat, stack.app.state.engine, max_batch=64, session_in_messages=False)
    try:
        await old_style._commit([Pending(user(owner), session_id, c, "text", None, None) for c in ("a", "b")])
    finally:
        await old_style.close()

    await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=2)  # the claim's, the batch's
    events = stack.tap.of(session_id)
    tail = events[_index_of(events, "a"):]
    assert [e.event_type for _, e, _ in tail] == [CHAT_MESSAGE_CREATED, CHAT_MESSAGE_CREATED, CHAT_SESSION_UPDATED]
    assert all(m.session is None for _, _, m in tail[:2]) and tail[2][2].session.last_message == "b"


async def test_a_session_change_that_is_not_a_message_still_emits_session_updated(stack):
    """A claim (an assignment and its system messages) and a priority change: the session's own update, last."""
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    updates = await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=2)  # the opening's, the claim's
    assert updates[-1].session.admin_id == admin_id
    assert stack.tap.of(session_id)[-1][1].event_type == CHAT_SESSION_UPDATED
    assert all(m.session is None for m in await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3))

    response = await stack.client.patch(f"{BASE}/sessions/{session_id}", headers=supervisor_headers(new_id()),
                                        json={"priority": 1})
    assert response.status_code == 200, response.text
    updates = await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=3)
    assert updates[-1].session.priority == 1


async def test_a_message_by_rest_carries_the_sessions_final_state_instead_of_a_session_update(stack):
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers=admin_headers(admin_id),
                                       json={"content": "from the agent"})
    assert response.status_code == 201, response.text

    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=4)
    assert created[-1].session is not None and created[-1].session.last_message == "from the agent"
    events = stack.tap.of(session_id)
    assert [e.event_type for _, e, _ in events[_index_of(events, "from the agent"):]] == [CHAT_MESSAGE_CREATED]


async def test_a_refused_message_in_a_batch_is_refused_alone_and_the_others_commit(stack):
    admin_id, owner, stranger = new_id(), new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    batch = [Pending(user(owner), session_id, "first", "text", None, None),
             Pending(user(stranger), session_id, "not mine", "text", None, None),
             Pending(user(owner), 999_999_999_999, "nowhere", "text", None, None),
             Pending(admin(new_id()), session_id, "not my session", "text", None, None),
             Pending(user(owner), session_id, "second", "text", None, None)]
    await stack.app.state.message_batcher._commit(batch)

    outcomes = [p.done.exception().code if p.done.exception() else p.done.result()["message_content"]
                for p in batch]
    assert outcomes == ["first", "forbidden", "not_found", "forbidden", "second"]
    assert await stored(stack, session_id) == [("user", "hello"), ("user", "first"), ("user", "second")]


async def test_in_one_batch_the_agents_last_word_ends_the_reply_wait_and_a_users_later_one_restarts_it(stack):
    """The net effect of the single use case's reply deadlines over a session's messages of one batch."""
    admin_id = new_id()
    answered, restarted, waiting = [await claimed_session(stack, new_id(), admin_id) for _ in range(3)]
    rows = {s: await stack.session(s) for s in (answered, restarted, waiting)}
    started = {s: await waiting_since(stack, s) for s in rows}
    assert all(started.values())  # the user's first message waits for the agent since the claim
    batcher = stack.app.state.message_batcher
    await batcher._commit([
        Pending(user(rows[answered]["user_id"]), answered, "u", "text", None, None),
        Pending(admin(admin_id), answered, "a", "text", None, None),
        Pending(admin(admin_id), restarted, "a", "text", None, None),
        Pending(user(rows[restarted]["user_id"]), restarted, "u", "text", None, None),
        Pending(user(rows[waiting]["user_id"]), waiting, "u", "text", None, None),
    ])

    assert await waiting_since(stack, answered) is None
    assert await waiting_since(stack, restarted) > started[restarted]
    assert await waiting_since(stack, waiting) == started[waiting]  # a further message never moves it later


async def test_a_send_message_command_delivered_again_is_answered_with_its_first_answer_and_stored_once(stack):
    """chat-svc died after the commit, before the ack: the broker delivers the command again (same command id)."""
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    batcher = stack.app.state.message_batcher
    first = Pending(user(owner), session_id, "once", "text", "6f1c0b1e-6d0e-4b8e-9a55-3a6f0f1e2d01", None)
    await batcher._commit([first])
    again = Pending(user(owner), session_id, "once", "text", "6f1c0b1e-6d0e-4b8e-9a55-3a6f0f1e2d01", None)
    other = Pending(user(owner), session_id, "next", "text", "0b7d3c6a-5e4f-4a1b-8c2d-9e8f7a6b5c4d", None)
    await batcher._commit([again, other])

    assert again.done.result() == first.done.result()
    assert other.done.result()["message_id"] > first.done.result()["message_id"]
    assert await stored(stack, session_id) == [("user", "hello"), ("user", "once"), ("user", "next")]


def change_once_after_read(monkeypatch, batcher, change) -> None:
    """The next batch's first read is followed by `change` (another writer), before the batch writes."""
    read, changed = batcher._read, []

    async def read_then_change(conn, batch):
        found = await read(conn, batch)
        if not changed:
            changed.append(True)
            await change()
        return found

    monkeypatch.setattr(batcher, "_read", read_then_change)


async def test_a_session_closed_between_a_batchs_read_and_write_is_checked_again_and_its_message_refused(
        stack, monkeypatch):
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    batcher = stack.app.state.message_batcher

    async def close() -> None:
        response = await stack.client.post(f"{BASE}/sessions/{session_id}/close", headers=admin_headers(admin_id))
        assert response.status_code == 200, response.text

    change_once_after_read(monkeypatch, batcher, close)
    late = Pending(user(owner), session_id, "too late", "text", None, None)
    rereads = batcher.rereads
    await batcher._commit([late])

    assert late.done.exception().code == "session_closed"
    assert batcher.rereads == rereads + 1
    assert await stored(stack, session_id) == [("user", "hello")]


async def test_a_message_stored_elsewhere_between_a_batchs_read_and_write_keeps_the_sessions_order_and_counts(
        stack, monkeypatch):
    """Another writer's message commits after the batch took its ids: the batch takes new ones, after it."""
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    batcher = stack.app.state.message_batcher

    async def agent_replies() -> None:
        response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers=admin_headers(admin_id),
                                           json={"content": "from the agent"})
        assert response.status_code == 201, response.text

    change_once_after_read(monkeypatch, batcher, agent_replies)
    await batcher._commit([Pending(user(owner), session_id, "from the user", "text", None, None)])

    assert await stored(stack, session_id) == [("user", "hello"), ("admin", "from the agent"), ("user", "from the user")]
    row = await stack.session(session_id)
    assert (row["message_count"], row["last_message"]) == (3, "from the user")
    assert row["first_reply_at"] is not None
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=5)  # hello, 2 system, agent, user
    assert [m.session.last_message for m in created[-2:] if m.session] == ["from the agent", "from the user"]


async def test_one_command_twice_in_a_batch_is_stored_once_and_both_get_its_answer(stack):
    """A command delivered again while its first delivery still waits in the same batch."""
    admin_id, owner = new_id(), new_id()
    session_id = await claimed_session(stack, owner, admin_id)
    command_id = "2a7c1f0e-3b4d-4c5e-8f9a-0b1c2d3e4f50"
    first = Pending(user(owner), session_id, "twice", "text", command_id, None)
    again = Pending(user(owner), session_id, "twice", "text", command_id, None)
    await stack.app.state.message_batcher._commit([first, again])

    assert again.done.result() == first.done.result()
    assert await stored(stack, session_id) == [("user", "hello"), ("user", "twice")]
