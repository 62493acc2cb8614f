"""Agents' availability and capacity: who gets new sessions, who may change what, what supervisors are told.
Each test on a chat-svc of its own (who is online is global state)."""

from collections import Counter

import pytest
from contracts.events.registry import CHAT_AGENT_UPDATED
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id, supervisor_headers

pytestmark = pytest.mark.integration
A, B, SUPERVISOR = 11, 22, 33
AGENTS = f"{BASE}/agents"


async def set_availability(stack, admin_id: int, availability: str) -> dict:
    response = await stack.client.put(f"{AGENTS}/me/availability", json={"availability": availability},
                                      headers=admin_headers(admin_id))
    assert response.status_code == 200, response.text
    return response.json()


async def holder(stack, session_id: int) -> int | None:
    return (await stack.session(session_id))["admin_id"]


async def test_busy_and_away_agents_get_no_new_sessions_and_coming_back_online_takes_the_queue(make_stack):
    stack = await make_stack(admin_capacity=5)
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    await set_availability(stack, A, "busy")
    assert [await holder(stack, (await stack.open_session(new_id()))["session_id"]) for _ in range(2)] == [B, B]

    await set_availability(stack, B, "away")
    waiting = (await stack.open_session(new_id()))["session_id"]
    assert (await stack.session(waiting))["status"] == "waiting"  # nobody online takes it

    me = await set_availability(stack, A, "online")  # back: the queue is offered to A at once
    assert (me["availability"], me["status"], me["active_sessions"]) == ("online", "online", 1)
    assert await holder(stack, waiting) == A


async def test_an_agent_without_a_socket_is_offline_whatever_the_setting(make_stack):
    stack = await make_stack()
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", A, 0)
    me = await set_availability(stack, A, "online")
    assert (me["availability"], me["online"], me["status"]) == ("online", False, "offline")
    session_id = (await stack.open_session(new_id()))["session_id"]
    assert (await stack.session(session_id))["status"] == "waiting"


async def test_capacity_is_per_agent_and_set_by_a_supervisor(make_stack):
    stack = await make_stack(admin_capacity=1)
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    raised = await stack.client.put(f"{AGENTS}/{A}/capacity", json={"capacity": 3},
                                    headers=supervisor_headers(SUPERVISOR))
    assert raised.status_code == 200 and raised.json()["capacity"] == 3
    sessions = [(await stack.open_session(new_id()))["session_id"] for _ in range(5)]
    held = Counter([await holder(stack, sid) for sid in sessions])
    assert held == {A: 3, B: 1, None: 1}

    reset = await stack.client.put(f"{AGENTS}/{B}/capacity", json={"capacity": 2},
                                   headers=supervisor_headers(SUPERVISOR))
    assert reset.json()["active_sessions"] == 2  # the raise offered the queue to B at once
    default = await stack.client.put(f"{AGENTS}/{A}/capacity", json={"capacity": None},
                                     headers=supervisor_headers(SUPERVISOR))
    assert default.json()["capacity"] == 1 and default.json()["active_sessions"] == 3  # nothing taken away


async def test_only_supervisors_set_capacity_or_another_agents_availability(make_stack):
    stack = await make_stack()
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    by_agent = await stack.client.put(f"{AGENTS}/{B}/capacity", json={"capacity": 9}, headers=admin_headers(A))
    assert by_agent.status_code == 403 and by_agent.json()["error"]["code"] == "supervisors_only"
    other = await stack.client.put(f"{AGENTS}/{B}/availability", json={"availability": "away"},
                                   headers=admin_headers(A))
    assert other.status_code == 403 and other.json()["error"]["code"] == "supervisors_only"
    own = await stack.client.put(f"{AGENTS}/{A}/availability", json={"availability": "busy"}, headers=admin_headers(A))
    assert own.status_code == 200

    by_supervisor = await stack.client.put(f"{AGENTS}/{B}/availability", json={"availability": "away"},
                                           headers=supervisor_headers(SUPERVISOR))
    assert by_supervisor.status_code == 200
    assert (by_supervisor.json()["availability"], by_supervisor.json()["changed_by"]) == ("away", "supervisor")
    unknown = await stack.client.put(f"{AGENTS}/{new_id()}/capacity", json={"capacity": 2},
                                     headers=supervisor_headers(SUPERVISOR))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_agent"
    bad = await stack.client.put(f"{AGENTS}/me/availability", json={"availability": "sleeping"},
                                 headers=admin_headers(A))
    assert bad.status_code == 422
    users = await stack.client.get(AGENTS, headers={"Authorization": "Bearer x"})
    assert users.status_code == 401


async def test_a_busy_agent_cannot_claim_and_an_away_agent_is_no_transfer_target(make_stack):
    stack = await make_stack(admin_capacity=5)
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    mine = (await stack.open_session(new_id()))["session_id"]
    owner, other = (A, B) if await holder(stack, mine) == A else (B, A)
    await set_availability(stack, other, "away")
    moved = await stack.client.post(f"{BASE}/sessions/{mine}/transfer", json={"admin_id": other},
                                    headers=admin_headers(owner))
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "agent_not_available"

    await set_availability(stack, owner, "busy")
    waiting = (await stack.open_session(new_id()))["session_id"]
    claim = await stack.client.post(f"{BASE}/sessions/{waiting}/claim", headers=admin_headers(owner))
    assert claim.status_code == 409 and claim.json()["error"]["code"] == "agent_not_available"


async def test_supervisors_are_told_of_availability_presence_and_load_changes(make_stack):
    stack = await make_stack(admin_capacity=4)
    await stack.connections("gw-1", A, 1)
    await stack.tap.wait(A, CHAT_AGENT_UPDATED)
    await stack.open_session(new_id())
    await set_availability(stack, A, "busy")
    await stack.connections("gw-1", A, 0)
    updates = await stack.tap.wait(A, CHAT_AGENT_UPDATED, count=4)
    seen = [(u.agent.status, u.agent.active_sessions) for u in updates]
    assert seen == [("online", 0), ("online", 1), ("busy", 1), ("offline", 1)]

    listed = await stack.client.get(AGENTS, headers=admin_headers(B))
    [agent] = [a for a in listed.json()["items"] if a["admin_id"] == A]
    assert agent == {**agent, "availability": "busy", "online": False, "status": "offline", "active_sessions": 1,
                     "capacity": 4, "changed_by": "self"}


async def test_an_expired_gateway_is_announced_by_the_agents_sweep(make_stack):
    stack = await make_stack(agent_sweep_seconds=600)  # the test runs the sweep itself
    await stack.heartbeat("gw-1", {A: 1}, ttl_seconds=30)
    await stack.app.state.agents.sweep()
    [online] = await stack.tap.wait(A, CHAT_AGENT_UPDATED)
    assert online.agent.status == "online"
    async with stack.app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE chat.gateways SET expires_at = now() - interval '1 second'"))
    await stack.app.state.agents.sweep()
    updates = await stack.tap.wait(A, CHAT_AGENT_UPDATED, count=2)
    assert updates[-1].agent.status == "offline"


# --- idle and the away policy (the tests run the sweep themselves and age the rows instead of sleeping) ------


async def age(stack, admin_id: int, column: str, seconds: int) -> None:
    async with stack.app.state.engine.begin() as conn:
        await conn.execute(text(f"UPDATE chat.admins SET {column} = now() - make_interval(secs => :s) "
                                "WHERE admin_id = :a"), {"s": seconds, "a": admin_id})


async def test_an_idle_agent_becomes_away_by_itself_and_is_told(make_stack):
    stack = await make_stack(agent_idle_away_seconds=60, agent_sweep_seconds=600)
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    await age(stack, A, "last_active_at", 61)
    await age(stack, B, "last_active_at", 61)
    ping = await stack.client.post(f"{AGENTS}/me/activity", headers=admin_headers(B))  # B is at the console
    assert ping.status_code == 204
    await stack.app.state.agents.sweep()

    updates = await stack.tap.wait(A, CHAT_AGENT_UPDATED, count=2)
    assert (updates[-1].agent.availability, updates[-1].agent.changed_by) == ("away", "idle")
    me = (await stack.client.get(f"{AGENTS}/me", headers=admin_headers(B))).json()
    assert me["availability"] == "online"
    session_id = (await stack.open_session(new_id()))["session_id"]
    assert await holder(stack, session_id) == B


async def send(stack, session_id: int, headers: dict, content: str = "hi") -> None:
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": content},
                                       headers=headers)
    assert response.status_code == 201, response.text


async def test_requeue_policy_returns_an_away_agents_sessions_awaiting_a_reply_after_the_grace(make_stack):
    from .conftest import user_headers

    stack = await make_stack(agent_away_policy="requeue", agent_away_grace_seconds=60, agent_sweep_seconds=600)
    await stack.connections("gw-1", A, 1)
    users = [new_id(), new_id()]
    unanswered = (await stack.open_session(users[0]))["session_id"]
    answered = (await stack.open_session(users[1]))["session_id"]
    await send(stack, answered, admin_headers(A))
    await set_availability(stack, A, "away")
    await stack.connections("gw-1", B, 1)
    await stack.app.state.agents.sweep()
    assert (await holder(stack, unanswered), await holder(stack, answered)) == (A, A)  # within the grace

    await age(stack, A, "availability_changed_at", 61)
    await stack.app.state.agents.sweep()
    assert (await holder(stack, unanswered), await holder(stack, answered)) == (B, A)
    await send(stack, unanswered, user_headers(users[0]), "still there?")  # the user goes on with B


async def test_stay_policy_leaves_an_offline_agents_sessions_with_them(make_stack):
    stack = await make_stack(agent_away_grace_seconds=0, agent_sweep_seconds=600)
    await stack.connections("gw-1", A, 1)
    session_id = (await stack.open_session(new_id()))["session_id"]
    await stack.connections("gw-1", A, 0)
    await stack.connections("gw-1", B, 1)
    await stack.app.state.agents.sweep()
    assert await holder(stack, session_id) == A


async def test_requeue_policy_returns_an_offline_agents_sessions_awaiting_a_reply(make_stack):
    stack = await make_stack(agent_away_policy="requeue", agent_away_grace_seconds=60, agent_sweep_seconds=600)
    await stack.connections("gw-1", A, 1)
    session_id = (await stack.open_session(new_id()))["session_id"]
    await stack.app.state.agents.sweep()
    await stack.connections("gw-1", A, 0)
    await stack.app.state.agents.sweep()
    assert await holder(stack, session_id) == A  # seen online a moment ago
    await age(stack, A, "seen_online_at", 61)
    await stack.app.state.agents.sweep()
    assert (await stack.session(session_id))["status"] == "waiting"
