"""Issue 17 over the whole running stack: with no agent online, a user's message is left (they are told at once,
in a system message with a code), the supervisor gets `notification:new` about it (chat-svc names the supervisors
it has seen, notification-svc creates the notification, the gateway delivers it), and the session is assigned to
the first agent who logs in, with the greeting.

A stack of its own: who is online is global state, and the session-wide stack's other tests connect the seeded
admins.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import AUTH, CHAT, GATEWAY, NOTIFICATION, start_stack
from tests.integration.sockets import PASSWORD, Person, connect_person
from tests.integration.stack import Stack

CS = "/api/v4/customer-service"


@pytest_asyncio.fixture(loop_scope="session")
async def own_stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: Callable[[], Awaitable[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    stack = await start_stack(make_database, make_vhost, Path(tmp_path_factory.mktemp("left-messages-stack")),
                              start_timeout=240)
    try:
        yield stack
    finally:
        await stack.stop()


async def fresh_user(stack: Stack) -> Person:
    name = f"lm{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=10) as http:
        response = await http.post("/api/v4/auth/register", json={"username": name, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return await connect_person(stack.url(AUTH), stack.url(GATEWAY), name)


def coded(person: Person, code: str) -> list[dict]:
    return person.events("chat:new_message", lambda m: m.get("system_code") == code)


async def test_no_agent_online_message_left_supervisor_notified_and_assigned_on_first_agent_login(own_stack):
    stack = own_stack
    supervisor = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin1")
    people = [supervisor]
    try:
        async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as chat:
            # the supervisor is at the console but busy: online, taking no session (and chat-svc sees the role)
            busy = await chat.put(f"{CS}/agents/me/availability", json={"availability": "busy"},
                                  headers=supervisor.headers)
            assert busy.status_code == 200, busy.text
            user = await fresh_user(stack)
            people.append(user)
            opened = await chat.post(f"{CS}/sessions", json={"content": "有人吗？"}, headers=user.headers)
            assert opened.status_code == 201, opened.text
            session_id = opened.json()["session_id"]
            assert opened.json()["status"] == "waiting"

            [notice] = await user.wait_for("chat:new_message", lambda m: m.get("system_code") == "no_agent_online")
            assert notice["message_content"] == "暂时没有客服在线，您的留言已收到，客服上线后会尽快回复"
            [told] = await supervisor.wait_for("notification:new", lambda n: f"#{session_id}" in n["title"])
            assert told["target_user_id"] == supervisor.user_id and "有人吗？" in told["content"]

            agent = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin2")
            people.append(agent)
            [greeting] = await user.wait_for("chat:new_message", lambda m: m.get("system_code") == "greeting")
            assert greeting["system_params"] == {"text_zh_cn": "您好，有什么可以帮助您的？",
                                                 "text_en": "Hello, how can I help you?"}
            session = (await chat.get(f"{CS}/sessions/{session_id}", headers=agent.headers)).json()
            assert (session["status"], session["admin_id"]) == ("active", agent.user_id)
            assert [m["system_code"] for m in user.events("chat:new_message") if m.get("system_code")] == [
                "no_agent_online", "agent_joined", "greeting"]
        async with httpx.AsyncClient(base_url=stack.url(NOTIFICATION), timeout=10) as notifications:
            mine = (await notifications.get("/api/v4/notifications", headers=agent.headers)).json()["items"]
        assert [n for n in mine if f"#{session_id}" in n["title"]] == []  # agents are not told (the setting)
        assert coded(user, "outside_working_hours") == []
    finally:
        await asyncio.gather(*(p.sio.disconnect() for p in people), return_exceptions=True)
