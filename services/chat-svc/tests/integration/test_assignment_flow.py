"""Assignment driven by presence events, each test on a chat-svc of its own (who is online is global state)."""

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from contracts.events.payloads import AdminConnectionsChanged
from contracts.events.registry import (
    CHAT_MESSAGE_CREATED,
    CHAT_SESSION_ASSIGNED,
    CHAT_SESSION_UPDATED,
    PRESENCE_ADMIN_CONNECTIONS_CHANGED,
    new_envelope,
)
from contracts.time import now_beijing
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id

pytestmark = pytest.mark.integration
A, B = 11, 22


async def holders(stack, session_ids) -> dict[int, int | None]:
    return {sid: (await stack.session(sid))["admin_id"] for sid in session_ids}


async def test_two_admins_with_capacity_two_take_two_each_and_a_close_hands_the_waiting_one_over(make_stack):
    stack = await make_stack(admin_capacity=2)
    await stack.connections("gw-1", A, 1)
    await stack.heartbeat("gw-2", {B: 2})
    sessions = [(await stack.open_session(new_id()))["session_id"] for _ in range(5)]

    held = await holders(stack, sessions)
    assert Counter(held.values()) == {A: 2, B: 2, None: 1}
    [waiting] = [sid for sid, admin in held.items() if admin is None]
    assert waiting == sessions[-1]  # the last one found both admins full
    await stack.tap.wait(sessions[-2], CHAT_SESSION_UPDATED)  # events go out in commit order: all are there
    for sid in sessions:
        assigned = await stack.tap.wait(sid, CHAT_SESSION_ASSIGNED, count=0, settle=0)
        created = await stack.tap.wait(sid, CHAT_MESSAGE_CREATED, settle=0)
        [updated] = await stack.tap.wait(sid, CHAT_SESSION_UPDATED, settle=0)
        assert (updated.session.admin_id, updated.session.status) == (held[sid], "waiting" if sid == waiting else "active")
        if sid == waiting:
            assert assigned == [] and [m.message.message_type for m in created] == ["text"]
        else:
            # exactly one assignment; the user's message, then the "joined" system message and the greeting
            assert [(a.assignment.reason, a.assignment.admin_id) for a in assigned] == [("auto", held[sid])]
            assert [m.message.system_code for m in created] == [None, "agent_joined", "greeting"]

    closing = next(sid for sid, admin in held.items() if admin == B)
    response = await stack.client.post(f"{BASE}/sessions/{closing}/close", headers=admin_headers(B))
    assert response.status_code == 200
    [assigned] = await stack.tap.wait(waiting, CHAT_SESSION_ASSIGNED)
    assert (assigned.assignment.admin_id, assigned.assignment.reason) == (B, "auto")
    assert (await stack.session(waiting))["status"] == "active"


async def test_sessions_queued_while_nobody_is_online_go_out_by_priority_then_age(make_stack):
    stack = await make_stack(admin_capacity=2)
    priorities = [1, 3, 5, 3, 2, 4]
    sessions = [(await stack.open_session(new_id(), priority=p))["session_id"] for p in priorities]
    assert set((await holders(stack, sessions)).values()) == {None}

    await stack.connections("gw-1", A, 1)  # A takes the two most urgent: priority 5, then 4
    assert {sid for sid, admin in (await holders(stack, sessions)).items() if admin == A} == {sessions[2], sessions[5]}
    await stack.connections("gw-1", B, 1)  # B: the two priority-3 ones
    held = await holders(stack, sessions)
    assert {sid for sid, admin in held.items() if admin == B} == {sessions[1], sessions[3]}
    assert [sid for sid, admin in held.items() if admin is None] == [sessions[0], sessions[4]]

    await stack.client.post(f"{BASE}/sessions/{sessions[2]}/close", headers=admin_headers(A))
    held = await holders(stack, sessions)
    assert (held[sessions[4]], held[sessions[0]]) == (A, None)  # priority 2 before priority 1


async def test_an_admin_who_went_offline_gets_no_new_sessions(make_stack):
    stack = await make_stack(admin_capacity=3)
    await stack.connections("gw-1", A, 2)
    await stack.connections("gw-1", B, 1)
    await stack.connections("gw-1", B, 0)
    sessions = [(await stack.open_session(new_id()))["session_id"] for _ in range(4)]
    assert list((await holders(stack, sessions)).values()) == [A, A, A, None]

    await stack.connections("gw-1", A, 1)  # one of A's two tabs closed: still online, still full
    await stack.connections("gw-2", B, 1)  # B is back on another gateway
    assert (await stack.session(sessions[3]))["admin_id"] == B


async def test_an_expired_gateway_takes_its_admins_offline(make_stack):
    stack = await make_stack(admin_capacity=5, presence_sweep_seconds=0.2)
    # 3 s: the first assignment must happen inside it even on a loaded machine (1 s was flaky at load 12)
    await stack.heartbeat("gw-dying", {A: 1}, ttl_seconds=3)
    await stack.heartbeat("gw-stale", {B: 1}, ttl_seconds=5, at=now_beijing() - timedelta(seconds=10))
    first = (await stack.open_session(new_id()))["session_id"]
    assert (await stack.session(first))["admin_id"] == A  # B's gateway was already dead

    await asyncio.sleep(3.3)
    second = (await stack.open_session(new_id()))["session_id"]
    assert (await stack.session(second))["status"] == "waiting"

    await stack.heartbeat("gw-alive", {B: 1}, ttl_seconds=30)
    assert (await stack.session(second))["admin_id"] == B
    async with stack.app.state.engine.connect() as conn:
        gateways = set((await conn.execute(text("SELECT gateway_id FROM chat.gateways"))).scalars())
    assert gateways == {"gw-alive"}  # the sweep forgot the dead ones


async def test_a_presence_event_is_applied_once_and_an_older_one_never_overrides_a_newer(make_stack):
    stack = await make_stack()
    now = now_beijing()
    online = new_envelope(PRESENCE_ADMIN_CONNECTIONS_CHANGED, "gw",
                          AdminConnectionsChanged(gateway_id="gw-1", admin_id=A, connections=1, at=now), "gw-1")
    await stack.publish_presence(online)
    stale = AdminConnectionsChanged(gateway_id="gw-1", admin_id=A, connections=0, at=now - timedelta(seconds=5))
    await stack.publish_presence(new_envelope(PRESENCE_ADMIN_CONNECTIONS_CHANGED, "gw", stale, "gw-1"))
    await stack.connections("gw-1", A, 0)  # a newer "left" ...
    await stack.publish_presence(online, wait=False)  # ... is not undone by a redelivered older "joined"
    await asyncio.sleep(0.3)
    session_id = (await stack.open_session(new_id()))["session_id"]
    assert (await stack.session(session_id))["status"] == "waiting"


async def test_transfer_moves_a_session_to_an_online_admin_with_room_and_frees_a_seat(make_stack):
    stack = await make_stack(admin_capacity=1)
    await stack.connections("gw-1", A, 1)
    mine = (await stack.open_session(new_id()))["session_id"]
    queued = (await stack.open_session(new_id()))["session_id"]
    full = await stack.client.post(f"{BASE}/sessions/{mine}/transfer", json={"admin_id": B}, headers=admin_headers(A))
    assert full.status_code == 409 and full.json()["error"]["code"] == "admin_offline"

    await stack.connections("gw-2", B, 1)  # B comes online and takes the queued session at once
    assert (await stack.session(queued))["admin_id"] == B
    full = await stack.client.post(f"{BASE}/sessions/{mine}/transfer", json={"admin_id": B}, headers=admin_headers(A))
    assert full.status_code == 409 and full.json()["error"]["code"] == "admin_at_capacity"

    await stack.client.post(f"{BASE}/sessions/{queued}/close", headers=admin_headers(B))
    moved = await stack.client.post(f"{BASE}/sessions/{mine}/transfer", json={"admin_id": B}, headers=admin_headers(A))
    assert moved.status_code == 200 and moved.json()["admin_id"] == B
    reasons = [e.assignment.reason for e in await stack.tap.wait(mine, CHAT_SESSION_ASSIGNED, count=2)]
    assert reasons == ["auto", "transfer"]
    note = (await stack.tap.wait(mine, CHAT_MESSAGE_CREATED, count=3))[-1]
    assert note.message.message_type == "system" and note.admin_id == B


async def test_concurrent_new_sessions_never_overfill_an_admin(make_stack):
    stack = await make_stack(admin_capacity=2)
    await stack.connections("gw-1", A, 1)
    opened = await asyncio.gather(*(stack.open_session(new_id()) for _ in range(8)))
    held = await holders(stack, [s["session_id"] for s in opened])
    assert Counter(held.values()) == {A: 2, None: 6}


async def test_presence_is_recorded_while_the_assignment_lock_is_held_and_the_queue_offered_after(make_stack):
    """A heartbeat must not wait behind a long assignment decision to record who is online; the waiting
    session still goes to the admin once the decision that held the lock has ended."""
    from chat_svc import store

    stack = await make_stack()
    session_id = (await stack.open_session(new_id()))["session_id"]  # waits: nobody online
    engine = stack.app.state.engine
    async with engine.connect() as holder:
        transaction = await holder.begin()
        await holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": store._lock_key(store.ASSIGNMENT_LOCK)})
        await stack.heartbeat("gw-1", {A: 1}, ttl_seconds=30, wait=False)
        async with asyncio.timeout(10):  # recorded although the lock is held elsewhere
            while True:
                async with engine.connect() as conn:
                    online = (await conn.execute(
                        text("SELECT connections FROM chat.admin_presence WHERE admin_id = :a"), {"a": A})).scalar()
                if online == 1:
                    break
                await asyncio.sleep(0.05)
        assert (await stack.session(session_id))["status"] == "waiting"  # the offer waits for the lock
        await transaction.rollback()
    async with asyncio.timeout(10):
        while (await stack.session(session_id))["admin_id"] != A:
            await asyncio.sleep(0.05)


async def test_an_event_whose_offer_failed_is_applied_again_on_redelivery_not_skipped(make_stack, monkeypatch):
    """The offer after a presence event is what assigns the queue; if it fails (database blip), the redelivered
    event must run it again rather than be dropped as already processed."""
    from chat_svc.presence import apply_presence

    stack = await make_stack()
    chat = stack.app.state.chat
    session_id = (await stack.open_session(new_id()))["session_id"]  # waits: nobody online
    payload = AdminConnectionsChanged(gateway_id="gw-1", admin_id=A, connections=1, at=now_beijing())
    envelope = new_envelope(PRESENCE_ADMIN_CONNECTIONS_CHANGED, "gw", payload, "gw-1")
    offer = chat.assign_waiting

    async def failing_offer(tx):
        raise ConnectionResetError("database went away")

    monkeypatch.setattr(chat, "assign_waiting", failing_offer)
    with pytest.raises(ConnectionResetError):
        await apply_presence(chat, envelope, payload)
    assert (await stack.session(session_id))["status"] == "waiting"

    monkeypatch.setattr(chat, "assign_waiting", offer)
    assert await apply_presence(chat, envelope, payload) is True  # the redelivery
    assert (await stack.session(session_id))["admin_id"] == A
    assert await apply_presence(chat, envelope, payload) is False  # now it is a duplicate
