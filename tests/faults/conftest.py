"""Fault tests: the whole platform with TWO gateways as real processes (own database and vhost), under a steady
stream of notifications and chat messages, while things break for real.

They run after every other test of the session (collection order is changed here): two of them stop the
shared local RabbitMQ / restart the shared local PostgreSQL, which nothing else of this session may be using
at that moment. Each test is bounded; the servers are restored even when a test fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from servicekit_testing.plugin import VhostFactory

from tests.integration.stack import ServiceSpec, Stack, uvicorn_factory

AUTH, NOTIFICATION, CHAT, GW1, GW2 = "auth-svc", "notification-svc", "chat-svc", "gateway-1", "gateway-2"
PASSWORD = "Passw0rd!"
ADMINS = ("admin1", "admin2", "admin3")
USERS = 8


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    mine = [item for item in items if here in Path(item.path).parents]
    for item in mine:
        item.add_marker(pytest.mark.integration)
        item.add_marker(pytest.mark.faults)
    if mine:  # last: they stop shared servers
        items[:] = [item for item in items if item not in mine] + mine


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: breaks services or shared servers on purpose (runs last)")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fault_stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: VhostFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    # Two of these tests stop RabbitMQ: on start_app it recovers every vhost with its quorum queues and streams.
    # The vhosts of the suites already done would make that minutes in a full run, so they go first.
    await make_vhost.drop_unused()
    database_url, amqp_url = await make_database(), await make_vhost()
    workdir = tmp_path_factory.mktemp("fault-stack")
    stack = Stack(workdir)
    auth = stack.add(ServiceSpec(AUTH, uvicorn_factory("auth_svc.main:create_app"), {
        "AUTH_DATABASE_URL": database_url, "AUTH_AMQP_URL": amqp_url,  # its heartbeat (platform status)
        "AUTH_SIGNING_KEY_FILE": str(workdir / "key.pem"),
        "AUTH_DEV_SEED": "true",
        # every account registers from 127.0.0.1, and the module's tokens outlive the default 15 min
        "AUTH_REGISTER_MAX_PER_ADDRESS": "100000", "AUTH_TOKEN_TTL_SECONDS": "28800",
    }))
    jwks_url = f"{auth.base_url}/.well-known/jwks.json"
    # The steady senders write faster than the per-user REST limits allow (an admin 10 notifications/s), and
    # retry after each fault: these tests measure delivery, not limits, so the limits are out of their way.
    unlimited = '{"requests": 100000, "per_seconds": 1}'
    limits = {NOTIFICATION: {"NOTIFICATION_SEND_RATE_LIMIT": unlimited},
              CHAT: {"CHAT_MESSAGE_RATE_LIMIT": unlimited, "CHAT_SESSION_RATE_LIMIT": unlimited}}
    for name, prefix, package in ((NOTIFICATION, "NOTIFICATION", "notification_svc"), (CHAT, "CHAT", "chat_svc")):
        stack.add(ServiceSpec(name, uvicorn_factory(f"{package}.main:create_app"), {
            f"{prefix}_DATABASE_URL": database_url, f"{prefix}_AMQP_URL": amqp_url, f"{prefix}_JWKS_URL": jwks_url,
            **limits[name],
        }))
    secret = uuid.uuid4().hex
    for name in (GW1, GW2):
        stack.add(ServiceSpec(name, ["-m", "realtime_gateway", "--host", "{host}", "--port", "{port}"], {
            "GATEWAY_AMQP_URL": amqp_url, "GATEWAY_JWKS_URL": jwks_url, "GATEWAY_RECOVERY_SECRET": secret,
            "GATEWAY_DRAIN_SECONDS": "3", "GATEWAY_GATEWAY_ID": name,
        }))
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()


@dataclass(frozen=True)
class Account:
    username: str
    user_id: int
    user_type: str
    token: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def accounts(fault_stack: Stack) -> dict[str, Account]:
    """The seeded admins and USERS freshly registered end users, logged in."""
    found: dict[str, Account] = {}
    async with httpx.AsyncClient(base_url=fault_stack.url(AUTH), timeout=10) as http:
        for username in ADMINS:
            found[username] = _account((await http.post("/api/v4/auth/login", json={
                "username": username, "password": PASSWORD})).json())
        for n in range(USERS):
            username = f"f{uuid.uuid4().hex[:10]}{n}"
            response = await http.post("/api/v4/auth/register", json={"username": username, "password": PASSWORD})
            assert response.status_code == 201, response.text
            found[username] = _account(response.json())
    return found


def _account(body: dict[str, Any]) -> Account:
    user = body["user"]
    return Account(user["username"], user["user_id"], user["user_type"], body["access_token"])
