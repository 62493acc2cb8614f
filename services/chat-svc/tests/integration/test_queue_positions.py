"""Waiting users' places in the queue (chat_svc.queue): what is published on `chat.queue_updated`, when, and the
REST read; VIP customers' priority. Each test has a chat-svc of its own (the queue is global state)."""

import asyncio
from datetime import datetime, timedelta

import pytest
from chat_svc.queue import EstimateSettings, QueueBoard
from chat_svc.service import Chat
from contracts.events.payloads import ChatQueueUpdated
from contracts.events.registry import CHAT_QUEUE_UPDATED
from contracts.time import now_beijing
from sqlalchemy import text

from .conftest import BASE, Stack, admin_headers, new_id, supervisor_headers, user_headers

pytestmark = pytest.mark.integration
A, B = 11, 22
FAST = {"queue_update_interval_seconds": 0.05, "queue_poll_seconds": 0.02}
ESTIMATE = EstimateSettings(window_seconds=1800, samples=20, min_samples=3)


def published(stack: Stack) -> list[ChatQueueUpdated]:
    return [payload for _, envelope, payload in stack.tap.received
            if envelope.event_type == CHAT_QUEUE_UPDATED and isinstance(payload, ChatQueueUpdated)]


def positions_told(stack: Stack) -> dict[int, list[int]]:
    """session_id -> every position published for it, in order."""
    told: dict[int, list[int]] = {}
    for event in published(stack):
        for s in event.sessions:
            told.setdefault(s.update.session_id, []).append(s.update.position)
    return told


async def until_told(stack: Stack, expected_last: dict[int, int], timeout: float = 10) -> None:
    """Until the last position published for each session is the expected one."""
    async with asyncio.timeout(timeout):
        while {sid: (positions_told(stack).get(sid) or [None])[-1] for sid in expected_last} != expected_last:
            await asyncio.sleep(0.02)


async def test_five_waiting_users_are_told_each_new_position_as_two_admins_come_online(make_stack):
    """Each step waits until its positions were published before the next step starts, so no two steps fall
    into one interval: every user's sequence is exactly their position after each step that moved them, once."""
    stack = await make_stack(admin_capacity=2, **FAST)
    users = [new_id() for _ in range(5)]
    sessions = [(await stack.open_session(u))["session_id"] for u in users]
    await until_told(stack, {sid: n for n, sid in enumerate(sessions, start=1)})

    await stack.connections("gw-1", A, 1)  # A takes the first two
    await until_told(stack, {sessions[2]: 1, sessions[3]: 2, sessions[4]: 3})
    await stack.connections("gw-1", B, 1)  # B the next two
    await until_told(stack, {sessions[4]: 1})
    await asyncio.sleep(0.3)  # several more publisher runs: they must add nothing

    told = positions_told(stack)
    assert [told[sid] for sid in sessions] == [[1], [2], [3, 1], [4, 2], [5, 3, 1]]
    recipients = {s.update.session_id: s.user_id for event in published(stack) for s in event.sessions}
    assert recipients == dict(zip(sessions, users, strict=True))
    # four sessions left the queue after waiting: enough history (3) for an estimate on the last publication
    [last] = [s.update for s in published(stack)[-1].sessions]
    assert last.session_id == sessions[4] and last.estimated_wait_seconds is not None


async def test_queue_changes_within_one_interval_coalesce_and_the_last_value_is_always_published(make_stack):
    stack = await make_stack(queue_poll_seconds=60)  # the app's own publisher stays asleep: the test drives it
    now = now_beijing()

    def board(clock_at: list[datetime]) -> QueueBoard:
        chat = Chat(stack.app.state.work, capacity=5, clock=lambda: clock_at[0])
        return QueueBoard(chat, interval_seconds=1.0, estimate=ESTIMATE)

    clock = [now]
    first, second_process = board(clock), board(clock)
    u1, u2, u3 = (new_id() for _ in range(3))
    s1, s2, s3 = [(await stack.open_session(u))["session_id"] for u in (u1, u2, u3)]
    assert await first.publish() == 3

    admin = supervisor_headers(new_id())  # only supervisors change a session's priority
    await stack.client.patch(f"{BASE}/sessions/{s3}", json={"priority": 5}, headers=admin)  # s3, s1, s2
    clock[0] = now + timedelta(seconds=0.4)
    assert await second_process.publish() is None  # another process, same interval: throttled
    await stack.client.patch(f"{BASE}/sessions/{s2}", json={"priority": 4}, headers=admin)  # s3, s2, s1
    clock[0] = now + timedelta(seconds=0.9)
    assert await first.publish() is None
    clock[0] = now + timedelta(seconds=1.0)
    assert await second_process.publish() == 2  # only the final order counts: s3 3 -> 1, s1 1 -> 3, s2 stays 2
    assert await first.publish() is None

    await until_count(stack, 2)
    [before, after] = published(stack)
    assert {(s.update.session_id, s.update.position) for s in before.sessions} == {(s1, 1), (s2, 2), (s3, 3)}
    assert {(s.update.session_id, s.update.position) for s in after.sessions} == {(s3, 1), (s1, 3)}
    clock[0] = now + timedelta(seconds=5)
    assert await first.publish() == 0  # nothing changed since: nothing sent


async def until_count(stack: Stack, count: int, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while len(published(stack)) < count:
            await asyncio.sleep(0.02)


async def test_a_vip_customers_new_session_goes_ahead_of_earlier_ones(make_stack):
    stack = await make_stack(vip_priority=5, default_priority=3)
    vip, early1, early2 = new_id(), new_id(), new_id()
    refused = await stack.client.put(f"{BASE}/customers/{vip}", json={"tier": "vip"}, headers=user_headers(vip))
    assert refused.status_code == 403
    by_agent = await stack.client.put(f"{BASE}/customers/{vip}", json={"tier": "vip"}, headers=admin_headers(A))
    assert by_agent.status_code == 403 and by_agent.json()["error"]["code"] == "supervisors_only"
    marked = await stack.client.put(f"{BASE}/customers/{vip}", json={"tier": "vip"}, headers=supervisor_headers(A))
    assert marked.status_code == 200 and marked.json()["tier"] == "vip"
    read = await stack.client.get(f"{BASE}/customers/{vip}", headers=admin_headers(B))
    never = await stack.client.get(f"{BASE}/customers/{early1}", headers=admin_headers(B))
    assert (read.json()["tier"], never.json()["tier"], never.json()["updated_at"]) == ("vip", "standard", None)
    s1 = (await stack.open_session(early1))["session_id"]
    s2 = (await stack.open_session(early2))["session_id"]
    opened = await stack.client.post(f"{BASE}/sessions", json={"content": "hi", "priority": 1},
                                     headers=user_headers(vip))
    assert opened.json()["priority"] == 5  # the tier decides; what the user sends does not

    places = {}
    for user, sid in ((vip, opened.json()["session_id"]), (early1, s1), (early2, s2)):
        response = await stack.client.get(f"{BASE}/my/sessions/{sid}/queue", headers=user_headers(user))
        assert response.status_code == 200, response.text
        places[user] = response.json()["position"]
    assert places == {vip: 1, early1: 2, early2: 3}

    await stack.connections("gw-1", A, 1)  # capacity 5: A takes all three, the VIP first
    first = await stack.tap.wait(opened.json()["session_id"], "chat.session_assigned")
    assert first[0].assignment.admin_id == A
    async with stack.app.state.engine.connect() as conn:
        order = (await conn.execute(text("SELECT id FROM chat.sessions WHERE id = ANY(:ids) ORDER BY assigned_at"),
                                    {"ids": [s1, s2, opened.json()["session_id"]]})).scalars().all()
    assert order == [opened.json()["session_id"], s1, s2]


async def test_the_queue_place_is_read_by_the_sessions_user_only_and_only_while_waiting(make_stack):
    stack = await make_stack(admin_capacity=1)
    user, other = new_id(), new_id()
    sid = (await stack.open_session(user))["session_id"]
    place = await stack.client.get(f"{BASE}/my/sessions/{sid}/queue", headers=user_headers(user))
    assert place.json() == {"session_id": sid, "position": 1, "estimated_wait_seconds": None}  # no history yet
    assert (await stack.client.get(f"{BASE}/my/sessions/{sid}/queue", headers=user_headers(other))).status_code == 403
    assert (await stack.client.get(f"{BASE}/my/sessions/{sid}/queue", headers=admin_headers(A))).status_code == 403
    await stack.connections("gw-1", A, 1)
    gone = await stack.client.get(f"{BASE}/my/sessions/{sid}/queue", headers=user_headers(user))
    assert (gone.status_code, gone.json()["error"]["code"]) == (409, "not_waiting")


async def test_only_sessions_that_waited_are_measured_for_the_estimate(make_stack):
    stack = await make_stack(admin_capacity=1)
    await stack.connections("gw-1", A, 1)
    instant = (await stack.open_session(new_id()))["session_id"]  # assigned in the transaction that opened it
    waited = (await stack.open_session(new_id()))["session_id"]  # A is full: it waits
    await stack.client.post(f"{BASE}/sessions/{instant}/close", headers=admin_headers(A))  # then goes to A
    async with stack.app.state.engine.connect() as conn:
        measured = (await conn.execute(text("SELECT session_id FROM chat.queue_departures"))).scalars().all()
    assert measured == [waited]
