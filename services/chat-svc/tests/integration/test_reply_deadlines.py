"""Issue 17, reply deadlines: a user's message the agent leaves unanswered brings that agent a reminder, then moves
the session to another agent online with room; the deadlines pause outside working hours, survive a restart of
chat-svc and fire once with two processes sweeping.

Most tests move time by calling the sweep with a `now` of their choice (the deadlines are rows; the sweep compares
them with its `now`); the restart and two-process tests run the app's own sweep with short settings."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import datetime, timedelta

import pytest
from chat_svc.reply_deadlines import DeadlineSettings, ReplyDeadlines
from chat_svc.working_time import WorkingTime
from contracts.events.payloads import ChatAgentAlerted
from contracts.events.registry import CHAT_AGENT_ALERTED, CHAT_MESSAGE_CREATED
from sqlalchemy import text

from .conftest import BASE, _start_stack, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration
A, B = 11, 12


async def alerts(stack, session_id: int) -> list[tuple[int, str]]:
    """(agent, code) of every alert raised about the session, in order."""
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT admin_id, code FROM chat.agent_alerts WHERE session_id = :s "
                                       "ORDER BY id"), {"s": session_id})
        return [(r.admin_id, r.code) for r in rows]


async def waiting_since(stack, session_id: int) -> datetime | None:
    async with stack.app.state.engine.connect() as conn:
        return (await conn.execute(text("SELECT since FROM chat.reply_deadlines WHERE session_id = :s"),
                                   {"s": session_id})).scalar()


async def system_codes(stack, session_id: int) -> list[str]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT system_code FROM chat.messages WHERE session_id = :s AND "
                                       "sender_type = 'system' ORDER BY id"), {"s": session_id})
        return list(rows.scalars())


async def post(stack, session_id: int, headers: dict[str, str], content: str) -> None:
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": content},
                                       headers=headers)
    assert response.status_code == 201, response.text


async def assigned_session(stack, agent: int) -> tuple[int, datetime]:
    """A new session of a new user, assigned to `agent`, and when its wait for the agent's reply started."""
    session_id = (await stack.open_session(new_id(), "anyone there?"))["session_id"]
    assert (await stack.session(session_id))["admin_id"] == agent
    since = await waiting_since(stack, session_id)
    assert since is not None
    return session_id, since


async def test_the_first_deadline_reminds_only_the_sessions_agent_and_only_once(make_stack):
    stack = await make_stack()  # the defaults: 60 s, then 180 s
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    session_id, since = await assigned_session(stack, A)
    deadlines = stack.app.state.reply_deadlines

    await deadlines.sweep(since + timedelta(seconds=59))
    assert await alerts(stack, session_id) == []
    await deadlines.sweep(since + timedelta(seconds=61))
    await deadlines.sweep(since + timedelta(seconds=62))
    assert await alerts(stack, session_id) == [(A, "reply_reminder")]

    [event] = await stack.tap.wait(A, CHAT_AGENT_ALERTED)
    assert isinstance(event, ChatAgentAlerted) and event.admin_id == A
    assert (event.alert.code, event.alert.params) == ("reply_reminder", {"session_id": session_id, "seconds": 60})
    assert event.alert.message == f"会话 #{session_id} 的用户已等待回复超过 60 秒，请尽快回复"
    assert stack.tap.of(B, CHAT_AGENT_ALERTED) == []
    assert (await stack.session(session_id))["admin_id"] == A  # a reminder moves nothing


async def test_further_user_messages_do_not_push_the_deadline_and_a_reply_clears_it(make_stack):
    stack = await make_stack()
    await stack.connections("gw-1", A, 1)
    session_id, since = await assigned_session(stack, A)
    user_id = (await stack.session(session_id))["user_id"]
    deadlines = stack.app.state.reply_deadlines

    await post(stack, session_id, user_headers(user_id), "hello?")
    await stack.open_session(user_id, "still there?")
    assert await waiting_since(stack, session_id) == since  # from the oldest unanswered message

    await post(stack, session_id, admin_headers(A), "Here, how can I help?")
    assert await waiting_since(stack, session_id) is None
    await deadlines.sweep(since + timedelta(seconds=1000))
    assert await alerts(stack, session_id) == []

    await post(stack, session_id, user_headers(user_id), "my order is late")
    assert (await waiting_since(stack, session_id) or since) > since  # a new wait, from the new message


async def test_the_second_deadline_moves_the_session_to_another_online_agent_with_room(make_stack):
    stack = await make_stack(admin_capacity=2)
    await stack.heartbeat("gw-1", {A: 1, B: 1}, ttl_seconds=3600)  # still online at the sweeps' later `now`
    session_id, since = await assigned_session(stack, A)
    answered, _ = await assigned_session(stack, B)  # B holds a session too (answered), and has room for one more
    await post(stack, answered, admin_headers(B), "Hello!")
    deadlines = stack.app.state.reply_deadlines

    assert await deadlines.sweep(since + timedelta(seconds=181)) == 1
    row = await stack.session(session_id)
    assert (row["status"], row["admin_id"]) == ("active", B)
    assert await system_codes(stack, session_id) == ["agent_joined", "greeting", "session_reassigned"]
    assert await alerts(stack, session_id) == [(A, "reply_reminder"), (A, "reply_reassigned_away"),
                                               (B, "reply_reassigned_to_you")]
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3)
    assert (created[-1].user_id, created[-1].admin_id) == (row["user_id"], B)  # the user and the new agent see it
    assert created[-1].message.system_params == {"from_agent_id": A, "to_agent_id": B}
    [to_a, _] = await stack.tap.wait(A, CHAT_AGENT_ALERTED, count=2)
    assert to_a.alert.code == "reply_reminder"
    # the wait starts over for B, from the reassignment
    assert await waiting_since(stack, session_id) == since + timedelta(seconds=181)


async def test_with_nobody_else_free_the_session_stays_the_agent_is_told_once_and_it_moves_when_someone_is(
        make_stack):
    stack = await make_stack(admin_capacity=1)
    await stack.heartbeat("gw-1", {A: 1}, ttl_seconds=3600)
    session_id, since = await assigned_session(stack, A)
    deadlines = stack.app.state.reply_deadlines

    assert await deadlines.sweep(since + timedelta(seconds=181)) == 0
    assert await deadlines.sweep(since + timedelta(seconds=200)) == 0
    assert (await stack.session(session_id))["admin_id"] == A
    assert await alerts(stack, session_id) == [(A, "reply_reminder"), (A, "reply_overdue")]

    await stack.heartbeat("gw-1", {A: 1, B: 1}, ttl_seconds=3600)
    assert await deadlines.sweep(since + timedelta(seconds=210)) == 1
    assert (await stack.session(session_id))["admin_id"] == B


class ClosedFor:
    """Working hours closed from `start` for `seconds`, open otherwise."""

    def __init__(self, start: datetime, seconds: float) -> None:
        self.start, self.end = start, start + timedelta(seconds=seconds)

    def is_open(self, at: datetime) -> bool:
        return not self.start <= at < self.end

    def add(self, start: datetime, seconds: float) -> datetime:
        if start >= self.end:
            return start + timedelta(seconds=seconds)
        before = max((self.start - start).total_seconds(), 0.0)
        if seconds <= before:
            return start + timedelta(seconds=seconds)
        return self.end + timedelta(seconds=seconds - before)


async def test_reply_deadlines_pause_outside_working_hours(make_stack):
    stack = await make_stack()
    await stack.connections("gw-1", A, 1)
    session_id, since = await assigned_session(stack, A)
    closed: WorkingTime = ClosedFor(since + timedelta(seconds=10), 3600)

    async def hours(db: object) -> WorkingTime:
        return closed

    deadlines = ReplyDeadlines(stack.app.state.chat, DeadlineSettings(60, 180), working_time=hours)
    await deadlines.sweep(since + timedelta(seconds=61))  # 10 s of it open
    await deadlines.sweep(since + timedelta(seconds=3600 + 59))  # 59 s
    assert await alerts(stack, session_id) == []
    await deadlines.sweep(since + timedelta(seconds=3600 + 61))  # 61 s
    assert await alerts(stack, session_id) == [(A, "reply_reminder")]


async def test_pending_deadlines_fire_once_after_chat_svc_restarts(make_database, make_vhost):
    database, vhost = await make_database(), await make_vhost()
    short = {"reply_remind_after_seconds": 1.0, "reply_reassign_after_seconds": 2.0}
    async with AsyncExitStack() as first_run:  # this one never sweeps within the test
        first = await _start_stack(first_run, database, vhost, reply_deadline_sweep_seconds=600, **short)
        await first.connections("gw-1", A, 1)
        await first.connections("gw-1", B, 1)
        session_id, _ = await assigned_session(first, A)
    async with AsyncExitStack() as second_run:
        second = await _start_stack(second_run, database, vhost, reply_deadline_sweep_seconds=0.1, **short)
        async with asyncio.timeout(20):
            while (await second.session(session_id))["admin_id"] != B:
                await asyncio.sleep(0.1)
        await post(second, session_id, admin_headers(B), "Sorry for the wait")
        await asyncio.sleep(0.5)  # more sweeps
        found = await alerts(second, session_id)
        assert found[:3] == [(A, "reply_reminder"), (A, "reply_reassigned_away"), (B, "reply_reassigned_to_you")]
        assert [a for a in found if a[0] == A] == found[:2]
        assert (await system_codes(second, session_id)).count("session_reassigned") == 1


async def test_two_chat_svc_processes_sweeping_fire_each_deadline_once(make_database, make_vhost):
    database, vhost = await make_database(), await make_vhost()
    settings = {"admin_capacity": 20, "reply_deadline_sweep_seconds": 0.05, "reply_remind_after_seconds": 0.5,
                "reply_reassign_after_seconds": 1.0}
    async with AsyncExitStack() as exit_stack:
        first = await _start_stack(exit_stack, database, vhost, **settings)
        await _start_stack(exit_stack, database, vhost, **settings)
        await first.connections("gw-1", A, 1)  # nobody else: past the second deadline, A is told
        sessions = [(await assigned_session(first, A))[0] for _ in range(10)]
        async with asyncio.timeout(20):
            while [len(await alerts(first, s)) for s in sessions] != [2] * len(sessions):
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # more sweeps of both processes
        assert [await alerts(first, s) for s in sessions] == [[(A, "reply_reminder"), (A, "reply_overdue")]] * 10
        assert len(await first.tap.wait(A, CHAT_AGENT_ALERTED, count=20)) == 20
