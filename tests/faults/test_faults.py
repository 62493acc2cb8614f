"""The issue's five faults under steady traffic: several senders (2 admins sending notifications, every end user
sending chat messages) to ~33 sockets spread over two gateways, each socket counting by id what it received.

Pass, per scenario: every item a service accepted reaches every socket it is for (0 lost: sockets either stayed
connected or came back and recovered), 0 duplicates shown (the client dedups by id; raw repeats are printed),
every reconnect recovered, and every service healthy again after the broken thing is back (the killed processes
restarted, or RabbitMQ / PostgreSQL running again). How long that took is printed (a few seconds on a quiet machine);
the test only bounds it (HEALTHY_WITHIN) so that a service that never comes back fails instead of hanging: speed
is measured, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults.conftest import ADMINS, CHAT, GW1, GW2, NOTIFICATION, Account
from tests.faults.traffic import RecoveringSocket, Sender, SocketSender, tally, wait_delivered
from tests.integration.stack import Stack

HEALTHY_WITHIN = 60.0  # a bound for "never came back", not a speed target (a loaded CI box imports slowly)
TABS = 3  # sockets per account


def _local_servers() -> str | None:
    """Why the shared-server faults cannot run here, or None when they can."""
    urls = (os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_AMQP_URL"))
    if not all(urls):
        return "the servers are testcontainers (Docker): stopping shared local servers does not apply"
    if any(urlsplit(u).hostname not in ("127.0.0.1", "localhost") for u in urls):  # type: ignore[arg-type]
        return "TEST_* servers are not local"
    return None


async def _all_healthy(stack: Stack, timeout: float) -> float:
    """Seconds until every service answers /health 200 (fails after `timeout`)."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=1) as http:
        for service in stack.services.values():
            while True:
                try:
                    if (await http.get(f"{service.base_url}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"{service.name} not healthy {timeout}s after the fault:\n{service.log_tail()}")
                await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _open_sockets(stack: Stack, accounts: dict[str, Account]) -> dict[str, RecoveringSocket]:
    urls = [stack.url(GW1), stack.url(GW2)]
    sockets: dict[str, RecoveringSocket] = {}
    for account in accounts.values():
        for tab in range(TABS):
            sockets[f"{account.username}#{tab}"] = RecoveringSocket(f"{account.username}#{tab}", account.token, urls)
    for index, socket in enumerate(sockets.values()):
        await socket.open(index)
    return sockets


def _tabs(username: str) -> list[str]:
    return [f"{username}#{tab}" for tab in range(TABS)]


async def _senders(
    stack: Stack, accounts: dict[str, Account], sockets: dict[str, RecoveringSocket], scenario: str
) -> list[Sender | SocketSender]:
    admins = [accounts[a] for a in ADMINS]
    users = [a for a in accounts.values() if a.user_type == "user"]
    by_id = {a.user_id: a.username for a in accounts.values()}
    every_admin = [name for a in admins for name in _tabs(a.username)]
    senders: list[Sender | SocketSender] = []
    for sender_admin, targets in ((admins[0], admins[1:]), (admins[1], [admins[0], admins[2]])):
        def body(n: int, targets=targets, who=sender_admin.username) -> dict:
            item = {"type": "order", "title": f"{scenario} {who} {n}", "content": "steady"}
            if n % 3:
                item["target_user_id"] = targets[n % len(targets)].user_id
            return item

        def recipients(answer: dict) -> list[str]:
            target = answer.get("target_user_id")
            return _tabs(by_id[target]) if target else every_admin

        senders.append(Sender(f"notify-{sender_admin.username}", stack.url(NOTIFICATION), sender_admin.token,
                              "/api/v4/notifications/send", body, "n", recipients, interval=0.1))
    async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as http:
        for user in users:
            response = await http.post("/api/v4/customer-service/sessions", json={"content": f"{scenario} hello"},
                                       headers={"Authorization": f"Bearer {user.token}"})
            assert response.status_code in (200, 201), response.text
            session_id = response.json()["session_id"]
            senders.append(Sender(
                f"chat-{user.username}", stack.url(CHAT), user.token,
                f"/api/v4/customer-service/sessions/{session_id}/messages",
                lambda n, s=scenario: {"content": f"{s} message {n}"}, "m",
                lambda answer, u=user.username: _tabs(u), interval=0.4,
            ))
            senders.append(SocketSender(  # the same user's messages over their socket, as the pages send them
                f"socket-{user.username}", sockets[_tabs(user.username)[0]], session_id,
                lambda n, s=scenario, u=user.username: f"{s} {u} over the socket {n}", _tabs(user.username),
            ))
    return senders


async def run_scenario(
    name: str, stack: Stack, accounts: dict[str, Account], fault: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]],
) -> None:
    sockets = await _open_sockets(stack, accounts)
    senders = await _senders(stack, accounts, sockets, name)
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        await asyncio.sleep(2)
        try:
            await fault()
        finally:
            await restore()  # the killed process / stopped server is back (restarted, started)
        healthy_in = await _all_healthy(stack, HEALTHY_WITHIN)
        await asyncio.sleep(2)
        for sender in senders:
            sender.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 40)
        await wait_delivered(senders, sockets, 25)
        result = tally(senders, sockets)
        print(f"\n{result.line(name)}; healthy again in {healthy_in:.1f}s; "
              f"failed attempts retried {sum(s.attempts_failed for s in senders)}")
        assert result.sent > 0
        assert result.lost == 0, result.lost_examples
        assert result.duplicates_shown == 0
        assert result.stored_twice == 0
        assert result.not_recovered == 0, {s.name: s.not_recovered for s in sockets.values() if s.not_recovered}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(s.close() for s in sockets.values()), return_exceptions=True)


async def _nothing() -> None:
    return None


async def test_kill_9_of_the_publishing_services_loses_nothing(fault_stack: Stack, accounts):
    async def fault() -> None:
        await asyncio.gather(fault_stack[NOTIFICATION].kill(), fault_stack[CHAT].kill())
        await asyncio.sleep(1)

    async def restore() -> None:  # the processes are started; the clock for "healthy in" starts now
        for name in (NOTIFICATION, CHAT):
            fault_stack[name].start()

    await run_scenario("kill -9 services", fault_stack, accounts, fault, restore)


async def test_kill_9_of_one_gateway_moves_its_clients_to_the_other_without_loss(fault_stack: Stack, accounts):
    async def fault() -> None:
        await fault_stack[GW1].kill()
        await asyncio.sleep(2)

    async def restore() -> None:
        fault_stack[GW1].start()

    await run_scenario("kill -9 gateway", fault_stack, accounts, fault, restore)


async def test_a_rolling_restart_of_both_gateways_loses_nothing(fault_stack: Stack, accounts):
    async def fault() -> None:
        for name in (GW1, GW2):
            started = time.monotonic()
            code = await fault_stack[name].stop(timeout=15)  # SIGTERM: drain, then exit
            # exit 0: it drained and left on its own (stop() kills it after 15 s, which exits non-zero)
            assert code == 0, f"{name} drained in {time.monotonic() - started:.1f}s, exit {code}"
            fault_stack[name].start()
            await fault_stack[name].wait_healthy(HEALTHY_WITHIN)

    await run_scenario("rolling restart", fault_stack, accounts, fault, _nothing)


async def test_rabbitmq_down_for_10_seconds_loses_nothing(fault_stack: Stack, accounts):
    if reason := _local_servers():
        pytest.skip(reason)
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        pytest.fail("rabbitmqctl not found: the local RabbitMQ cannot be stopped", pytrace=False)

    async def fault() -> None:
        await _run([rabbitmqctl, "stop_app"])
        await asyncio.sleep(10)

    async def restore() -> None:
        await _run([rabbitmqctl, "start_app"])
        await _run([rabbitmqctl, "await_startup"])

    await run_scenario("rabbitmq stopped 10s", fault_stack, accounts, fault, restore)


async def test_a_postgresql_restart_loses_nothing(fault_stack: Stack, accounts):
    if reason := _local_servers():
        pytest.skip(reason)
    if shutil.which("pg_ctlcluster") is None:
        pytest.fail("pg_ctlcluster not found: the local PostgreSQL cannot be restarted", pytrace=False)

    async def fault() -> None:
        await _run(["pg_ctlcluster", "15", "main", "restart"])

    async def restore() -> None:
        await _run(["pg_ctlcluster", "15", "main", "start"], check=False)  # running already after a restart

    await run_scenario("postgresql restart", fault_stack, accounts, fault, restore)


async def _run(args: list[str], check: bool = True) -> None:
    proc = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {out.decode(errors='replace')}")
