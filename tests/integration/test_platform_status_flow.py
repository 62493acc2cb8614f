"""Issue 19 over the whole running stack: a platform service that stops (or freezes, or flaps) is reported to the
admins' consoles as `system:status_change` by the gateways, from the services' own heartbeats
(servicekit.heartbeat -> realtime_gateway/ops/service_status.py), once each way, by each gateway to its own
sockets; a console connecting during the outage is told right after it connects; end users hear nothing.

A stack of its own with short heartbeats and thresholds, and two gateways: stopping chat-svc would break the
session-wide stack's other tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import AUTH, CHAT, GATEWAY, start_stack
from tests.integration.sockets import Person, connect_person
from tests.integration.stack import ServiceSpec, Stack

STATUS = "system:status_change"
GATEWAY_2 = "realtime-gateway-2"
BEAT = "0.25"  # every service beats 4 times a second: a heartbeat counts for 0.75 s
SETTINGS = {"GATEWAY_SERVICE_DEGRADED_AFTER_SECONDS": "1", "GATEWAY_SERVICE_OPERATIONAL_AFTER_SECONDS": "3",
            "GATEWAY_STATUS_CHECK_SECONDS": "0.1"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def status_stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: Callable[[], Awaitable[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    stack = await start_stack(
        make_database, make_vhost, Path(tmp_path_factory.mktemp("status-stack")), start_timeout=120,
        auth_env={"AUTH_HEARTBEAT_SECONDS": BEAT}, notification_env={"NOTIFICATION_HEARTBEAT_SECONDS": BEAT},
        chat_env={"CHAT_HEARTBEAT_SECONDS": BEAT}, gateway_env=SETTINGS,
    )
    first = stack[GATEWAY].spec
    stack.add(ServiceSpec(GATEWAY_2, first.args, first.env))
    try:
        await stack.start(timeout=60)
        await all_operational(stack)
        yield stack
    finally:
        await stack.stop()


async def all_operational(stack: Stack, timeout: float = 30) -> None:
    """Until both gateways report every service operational (a gateway up before chat-svc's first heartbeat may
    have reported it missing at start, and then back)."""
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(timeout):
        while True:
            bodies = [(await http.get(f"{stack.url(g)}/health")).json() for g in (GATEWAY, GATEWAY_2)]
            if all(set(b["services"].values()) == {"operational"} for b in bodies):
                return
            await asyncio.sleep(0.2)


def changes(person: Person, component: str = CHAT) -> list[tuple[str, str]]:
    return [(d["status"], d["code"]) for d in person.events(STATUS, lambda d: d["component"] == component)]


async def test_a_stopped_service_is_reported_once_to_the_admins_of_each_gateway_and_again_once_it_is_back(
    status_stack: Stack,
):
    stack = status_stack
    on_first = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin1")
    on_second = await connect_person(stack.url(AUTH), stack.url(GATEWAY_2), "admin2")
    user = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "user1")
    people = [on_first, on_second, user]
    try:
        stopped_at = time.monotonic()
        await stack[CHAT].stop()
        await on_first.wait_for(STATUS, lambda d: d["component"] == CHAT, timeout=30)
        print(f"chat-svc stopped -> degraded after {time.monotonic() - stopped_at:.2f} s")  # the report's number
        await on_second.wait_for(STATUS, lambda d: d["component"] == CHAT, timeout=30)

        # a console opened during the outage is told at once, without waiting for a change
        late = await connect_person(stack.url(AUTH), stack.url(GATEWAY_2), "admin3")
        people.append(late)
        (told,) = await late.wait_for(STATUS, lambda d: d["component"] == CHAT, timeout=10)

        stack[CHAT].start()
        await stack[CHAT].wait_healthy(60)
        for admin in (on_first, on_second, late):
            await admin.wait_for(STATUS, lambda d: d["component"] == CHAT and d["status"] == "operational",
                                 timeout=30)
    finally:
        await asyncio.gather(*(p.sio.disconnect() for p in people), return_exceptions=True)

    expected = [("degraded", "service_unavailable"), ("operational", "service_restored")]
    assert changes(on_first) == expected and changes(on_second) == expected
    assert (told["status"], told["code"], told["params"]) == ("degraded", "service_unavailable", {"service": CHAT})
    assert changes(late) == expected
    assert user.events(STATUS) == []
    assert [d["component"] for d in on_first.events(STATUS)] == [CHAT, CHAT]  # the other services: nothing


async def test_a_flapping_service_gives_one_degraded_and_one_operational(status_stack: Stack):
    stack = status_stack
    await all_operational(stack)
    admin = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin1")
    process = stack[CHAT].process
    assert process is not None
    try:
        for _ in range(3):  # frozen 4 s (silent: down, reported), then 1 s alive (shorter than the 3 s to recover)
            os.kill(process.pid, signal.SIGSTOP)
            await asyncio.sleep(4)
            os.kill(process.pid, signal.SIGCONT)
            await asyncio.sleep(1)
        await admin.wait_for(STATUS, lambda d: d["component"] == CHAT and d["status"] == "operational", timeout=30)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
        await admin.sio.disconnect()

    assert changes(admin) == [("degraded", "service_unavailable"), ("operational", "service_restored")]
