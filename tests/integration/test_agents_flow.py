"""Issue 17 over the whole running stack: roles in real tokens, supervisors alone reprioritise, and an agent's
availability change reaches supervisors and that agent live (`chat:agent_update`), no other agent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import jwt
import pytest

from tests.integration.conftest import AUTH, CHAT, GATEWAY
from tests.integration.sockets import Person, connect_person, login
from tests.integration.stack import Stack

AGENTS = "/api/v4/customer-service/agents"
SETTLE = 1.0


@pytest.fixture
async def people(stack: Stack) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    opened: list[Person] = []

    async def person(username: str) -> Person:
        opened.append(await connect_person(stack.url(AUTH), stack.url(GATEWAY), username))
        return opened[-1]

    yield person
    await asyncio.gather(*(p.sio.disconnect() for p in opened), return_exceptions=True)


async def test_the_seeded_admins_tokens_carry_their_roles(stack):
    roles = {}
    for name in ("admin1", "admin2", "admin3", "user1"):
        token = (await login(stack.url(AUTH), name))["access_token"]
        roles[name] = jwt.decode(token, options={"verify_signature": False}).get("role")
    assert roles == {"admin1": "supervisor", "admin2": "agent", "admin3": "agent", "user1": None}


async def test_only_a_supervisor_changes_a_sessions_priority(stack, people):
    user, agent, supervisor = await people("user5"), await people("admin3"), await people("admin1")
    async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as client:
        opened = await client.post("/api/v4/customer-service/sessions", json={"content": "priority?"},
                                   headers=user.headers)
        sid = opened.json()["session_id"]
        url = f"/api/v4/customer-service/sessions/{sid}"
        refused = await client.patch(url, json={"priority": 5}, headers=agent.headers)
        changed = await client.patch(url, json={"priority": 5}, headers=supervisor.headers)
        session = (await client.get(url, headers=supervisor.headers)).json()
        if session["admin_id"] is not None:  # leave nothing open for the other tests
            owner = supervisor if session["admin_id"] == supervisor.user_id else agent
            await client.post(f"{url}/close", headers=owner.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "supervisors_only"
    assert changed.status_code == 200 and changed.json()["priority"] == 5


async def test_an_agents_availability_reaches_supervisors_and_that_agent_live_and_no_other_agent(stack, people):
    supervisor, agent, other = await people("admin1"), await people("admin2"), await people("admin3")
    is_agent = lambda d: d["admin_id"] == agent.user_id
    async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as client:
        try:
            response = await client.put(f"{AGENTS}/me/availability", json={"availability": "busy"},
                                        headers=agent.headers)
            assert response.status_code == 200, response.text
            busy = lambda d: is_agent(d) and d["availability"] == "busy"
            [seen] = await supervisor.wait_for("chat:agent_update", busy)
            assert (seen["status"], seen["online"], seen["changed_by"]) == ("busy", True, "self")
            await agent.wait_for("chat:agent_update", busy)
            listed = (await client.get(AGENTS, headers=supervisor.headers)).json()["items"]
            assert [a["status"] for a in listed if a["admin_id"] == agent.user_id] == ["busy"]
        finally:
            await client.put(f"{AGENTS}/me/availability", json={"availability": "online"}, headers=agent.headers)
    await supervisor.wait_for("chat:agent_update", lambda d: is_agent(d) and d["availability"] == "online")
    await asyncio.sleep(SETTLE)
    assert other.events("chat:agent_update", is_agent) == []
