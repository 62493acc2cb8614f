"""Whole-stack fixtures: every service as a real process against a database and a vhost of their own.

The servers come from the `servicekit_testing` plugin (`make_database`, `make_vhost`); see its docstring for
how to provide them (`./scripts/test` does).
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.stack import ServiceSpec, Stack, uvicorn_factory

AUTH, NOTIFICATION, CHAT, GATEWAY = "auth-svc", "notification-svc", "chat-svc", "realtime-gateway"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: Callable[[], Awaitable[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """auth-svc, notification-svc, chat-svc and realtime-gateway, healthy; stopped after the last test of
    tests/integration (package scope: in a full run its processes do not idle on beside the later suites).

    Base URLs: `stack.url("chat-svc")`; processes (stop/kill/restart, logs): `stack["chat-svc"]`.

    A database and a vhost of its own, not the session's shared `database_url` / `amqp_url`: the services'
    own suites run in-process services on those (chat-svc's session-wide `stack`), and while a synchronous
    test (schemathesis) runs, the pytest process's event loop stands still with them; one frozen in the middle
    of a transaction that holds chat-svc's assignment lock stalled this stack's chat-svc behind it.
    """
    stack = await start_stack(make_database, make_vhost, tmp_path_factory.mktemp("stack"))
    try:
        yield stack
    finally:
        await stack.stop()


async def start_stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: Callable[[], Awaitable[str]], workdir: Path,
    chat_env: dict[str, str] | None = None, start_timeout: float = 90.0,
    auth_env: dict[str, str] | None = None, notification_env: dict[str, str] | None = None,
    gateway_env: dict[str, str] | None = None,
) -> Stack:
    """Every service as a process, healthy, on a new database and vhost; `chat_env` adds CHAT_* settings
    (`auth_env`, `notification_env`, `gateway_env` likewise)."""
    database_url, amqp_url = await make_database(), await make_vhost()
    stack = Stack(workdir, database_url, amqp_url)
    auth = stack.add(
        ServiceSpec(
            AUTH,
            uvicorn_factory("auth_svc.main:create_app"),
            {
                "AUTH_DATABASE_URL": database_url,
                "AUTH_AMQP_URL": amqp_url,  # its heartbeat, for the gateway's platform status
                "AUTH_SIGNING_KEY_FILE": str(workdir / "auth-signing-key.pem"),
                "AUTH_DEV_SEED": "true",
                # every test registers from 127.0.0.1, and a session's tokens outlive the default 15 min
                "AUTH_REGISTER_MAX_PER_ADDRESS": "100000",
                "AUTH_TOKEN_TTL_SECONDS": "28800",
                **(auth_env or {}),
            },
        )
    )
    jwks_url = f"{auth.base_url}/.well-known/jwks.json"
    # One session-wide stack and the same seeded accounts in every test: a test opening sessions as user1 must
    # not spend the budget of the next. These tests are about delivery and isolation; the per-user REST limits
    # are proved by each service's own tests (test_rate_limits.py), so here they are out of the way.
    unlimited = '{"requests": 100000, "per_seconds": 1}'
    limits = {NOTIFICATION: {"NOTIFICATION_SEND_RATE_LIMIT": unlimited, **(notification_env or {})},
              CHAT: {"CHAT_MESSAGE_RATE_LIMIT": unlimited, "CHAT_SESSION_RATE_LIMIT": unlimited, **(chat_env or {})}}
    for name, prefix, factory in ((NOTIFICATION, "NOTIFICATION", "notification_svc"), (CHAT, "CHAT", "chat_svc")):
        env = {f"{prefix}_DATABASE_URL": database_url, f"{prefix}_AMQP_URL": amqp_url, f"{prefix}_JWKS_URL": jwks_url,
               **limits[name]}
        stack.add(ServiceSpec(name, uvicorn_factory(f"{factory}.main:create_app"), env))
    stack.add(
        ServiceSpec(
            GATEWAY,
            ["-m", "realtime_gateway", "--host", "{host}", "--port", "{port}"],
            {"GATEWAY_AMQP_URL": amqp_url, "GATEWAY_JWKS_URL": jwks_url, **(gateway_env or {})},
        )
    )
    await stack.start(timeout=start_timeout)
    return stack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing whole-stack test shows the tail of every service's log next to its traceback."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("service logs", stack.logs_report()))
    return report
