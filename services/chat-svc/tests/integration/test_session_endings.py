"""Issue 17, sessions end properly: a user ends their own session (waiting: it leaves the queue; active: the agent
is told), and the platform closes a waiting session whose user has gone (`abandoned`) and an active one with no
message from either side (`inactive`), each once, even with two chat-svc processes sweeping the same database."""

import asyncio
from contextlib import AsyncExitStack

import pytest
from contracts.events.registry import CHAT_MESSAGE_CREATED, CHAT_SESSION_UPDATED
from sqlalchemy import text

from .conftest import BASE, _start_stack, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration
A = 11


async def queue(stack) -> list[int]:
    response = await stack.client.get(f"{BASE}/sessions", params={"scope": "waiting", "page_size": 100},
                                      headers=admin_headers(new_id()))
    return [s["session_id"] for s in response.json()["items"]]


async def wait_closed(stack, session_id: int, timeout: float = 15.0) -> dict:
    async with asyncio.timeout(timeout):
        while (row := await stack.session(session_id))["status"] != "closed":
            await asyncio.sleep(0.1)
    return row


async def system_codes(stack, session_id: int) -> list[str]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT system_code FROM chat.messages WHERE session_id = :s AND "
                                       "sender_type = 'system' ORDER BY id"), {"s": session_id})
        return list(rows.scalars())


async def test_a_user_ends_their_own_waiting_session_and_it_leaves_the_queue(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    assert session_id in await queue(stack)

    response = await stack.client.post(f"{BASE}/my/sessions/{session_id}/close", headers=user_headers(user_id))
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["close_reason"]) == ("closed", "user")
    assert session_id not in await queue(stack)
    [*_, created] = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=2)
    assert (created.message.system_code, created.message.system_params) == ("session_closed_by_user",
                                                                            {"user_id": user_id})
    again = await stack.client.post(f"{BASE}/my/sessions/{session_id}/close", headers=user_headers(user_id))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "session_closed")


async def test_only_the_sessions_own_user_may_end_it_here(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    other = await stack.client.post(f"{BASE}/my/sessions/{session_id}/close", headers=user_headers(new_id()))
    admin = await stack.client.post(f"{BASE}/my/sessions/{session_id}/close", headers=admin_headers(new_id()))
    assert (other.status_code, admin.status_code) == (403, 403)
    assert (await stack.session(session_id))["status"] == "waiting"


async def test_a_user_ending_an_active_session_tells_its_agent_and_frees_the_seat(make_stack):
    stack = await make_stack(admin_capacity=1)
    await stack.connections("gw-1", A, 1)
    user, next_user = new_id(), new_id()
    session_id = (await stack.open_session(user))["session_id"]
    waiting = (await stack.open_session(next_user))["session_id"]
    assert (await stack.session(session_id))["admin_id"] == A

    response = await stack.client.post(f"{BASE}/my/sessions/{session_id}/close", headers=user_headers(user))
    assert response.status_code == 200, response.text
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3)
    assert (created[-1].admin_id, created[-1].message.system_code) == (A, "session_closed_by_user")
    updated = await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=2)
    assert (updated[-1].session.status, updated[-1].session.admin_id, updated[-1].session.close_reason) == (
        "closed", A, "user")
    assert (await stack.session(waiting))["admin_id"] == A  # the seat went to the queue


async def test_an_abandoned_waiting_session_and_an_idle_active_one_are_closed_by_the_platform(make_stack):
    stack = await make_stack(admin_capacity=1, presence_sweep_seconds=0.1, abandon_waiting_after_seconds=1,
                             close_inactive_after_seconds=2.5)
    await stack.connections("gw-1", A, 1)
    active = (await stack.open_session(new_id()))["session_id"]
    waiting = (await stack.open_session(new_id()))["session_id"]
    assert (await stack.session(active))["status"] == "active"

    abandoned = await wait_closed(stack, waiting)
    assert abandoned["close_reason"] == "abandoned"
    assert await system_codes(stack, waiting) == ["session_abandoned"]
    inactive = await wait_closed(stack, active)
    assert inactive["close_reason"] == "inactive"
    assert await system_codes(stack, active) == ["agent_joined", "greeting", "session_inactive"]
    [*_, update] = await stack.tap.wait(active, CHAT_SESSION_UPDATED, count=2)
    assert update.session.close_reason == "inactive"


async def test_a_message_keeps_a_session_open_past_the_idle_deadline(make_stack):
    stack = await make_stack(admin_capacity=1, presence_sweep_seconds=0.1, abandon_waiting_after_seconds=1.5)
    await stack.connections("gw-1", A, 1)  # someone serves (left_messages), with no room: the others wait
    await stack.open_session(new_id())
    user = new_id()
    kept = (await stack.open_session(user))["session_id"]
    left = (await stack.open_session(new_id()))["session_id"]
    for _ in range(4):  # the user keeps writing, every 0.5 s, for 2 s
        await asyncio.sleep(0.5)
        await stack.open_session(user, "still here")
    await wait_closed(stack, left)
    assert (await stack.session(kept))["status"] == "waiting"


async def test_two_chat_svc_processes_sweeping_one_database_close_each_idle_session_once(
        make_database, make_vhost):
    database, vhost = await make_database(), await make_vhost()
    settings = {"presence_sweep_seconds": 0.05, "abandon_waiting_after_seconds": 1}
    async with AsyncExitStack() as exit_stack:
        first = await _start_stack(exit_stack, database, vhost, admin_capacity=1, **settings)
        await _start_stack(exit_stack, database, vhost, admin_capacity=1, **settings)
        await first.connections("gw-1", A, 1)  # someone serves (left_messages), with no room: the others wait
        await first.open_session(new_id())
        sessions = [(await first.open_session(new_id()))["session_id"] for _ in range(20)]
        for session_id in sessions:
            await wait_closed(first, session_id)
        await asyncio.sleep(0.5)  # more sweeps of both processes over the closed sessions
        assert [await system_codes(first, s) for s in sessions] == [["session_abandoned"]] * len(sessions)
