"""Issue 17 over the whole running stack: waiting users watch their place in the queue over their own sockets as
admins come online (chat-svc publishes, the gateway delivers `chat:queue_update` to each session's user only).

A stack of its own (admin capacity 2, nobody online until the test connects an admin): who is online and what
is waiting is global state, and the session-wide stack's other tests connect the seeded admins.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import AUTH, CHAT, GATEWAY, start_stack
from tests.integration.sockets import PASSWORD, Person, connect_person
from tests.integration.stack import Stack

QUEUE = "chat:queue_update"


@pytest_asyncio.fixture(loop_scope="session")
async def queue_stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: Callable[[], Awaitable[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    stack = await start_stack(make_database, make_vhost, Path(tmp_path_factory.mktemp("queue-stack")),
                              chat_env={"CHAT_ADMIN_CAPACITY": "2"}, start_timeout=120)
    try:
        yield stack
    finally:
        await stack.stop()


async def fresh_user(stack: Stack) -> Person:
    name = f"q{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=10) as http:
        response = await http.post("/api/v4/auth/register", json={"username": name, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return await connect_person(stack.url(AUTH), stack.url(GATEWAY), name)


async def open_session(stack: Stack, person: Person) -> int:
    async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as http:
        response = await http.post("/api/v4/customer-service/sessions", json={"content": "你好"},
                                   headers=person.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["session_id"])


def positions(person: Person) -> list[int]:
    return [data["position"] for data in person.events(QUEUE)]


async def until_positions(expected: list[tuple[Person, int]], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while any((positions(p) or [None])[-1] != n for p, n in expected):
            await asyncio.sleep(0.05)


async def test_five_waiting_users_watch_their_positions_fall_as_two_admins_come_online(queue_stack):
    """Asserted: every user's received positions are EXACTLY their position after each step that moved them (each
    step waits until the previous step's final positions arrived, so the 1 s coalescing never merges two steps),
    every update names that user's own session, and the last value each still-waiting user holds is exact."""
    stack = queue_stack
    users = [await fresh_user(stack) for _ in range(5)]
    opened: list[Person] = list(users)
    try:
        sessions = [await open_session(stack, u) for u in users]
        await until_positions([(u, n) for n, u in enumerate(users, start=1)])

        opened.append(await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin2"))  # takes the first two
        await until_positions([(users[2], 1), (users[3], 2), (users[4], 3)])
        opened.append(await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin3"))  # the next two
        await until_positions([(users[4], 1)])
        await asyncio.sleep(2.5)  # two more publication intervals: nothing else may arrive

        assert [positions(u) for u in users] == [[1], [2], [3, 1], [4, 2], [5, 3, 1]]
        for user, session_id in zip(users, sessions, strict=True):
            assert {data["session_id"] for data in user.events(QUEUE)} == {session_id}
        for admin in opened[5:]:
            assert admin.events(QUEUE) == []
        assert users[4].events(QUEUE)[-1]["estimated_wait_seconds"] is not None  # 4 measured departures >= 3
    finally:
        await asyncio.gather(*(p.sio.disconnect() for p in opened), return_exceptions=True)
