"""Whole-stack fixtures: every service as a real process against this session's database and vhost.

The servers come from the `servicekit.testing` plugin (`database_url`, `amqp_url`); see its docstring for
how to provide them (`./scripts/test` does).
"""

from collections.abc import AsyncIterator, Iterator
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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(database_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """auth-svc, notification-svc, chat-svc and realtime-gateway, healthy; stopped when the session ends.

    Base URLs: `stack.url("chat-svc")`; processes (stop/kill/restart, logs): `stack["chat-svc"]`.
    """
    workdir = tmp_path_factory.mktemp("stack")
    stack = Stack(workdir)
    auth = stack.add(
        ServiceSpec(
            AUTH,
            uvicorn_factory("auth_svc.main:create_app"),
            {
                "AUTH_DATABASE_URL": database_url,
                "AUTH_SIGNING_KEY_FILE": str(workdir / "auth-signing-key.pem"),
                "AUTH_DEV_SEED": "true",
            },
        )
    )
    jwks_url = f"{auth.base_url}/.well-known/jwks.json"
    for name, prefix, factory in ((NOTIFICATION, "NOTIFICATION", "notification_svc"), (CHAT, "CHAT", "chat_svc")):
        env = {f"{prefix}_DATABASE_URL": database_url, f"{prefix}_AMQP_URL": amqp_url, f"{prefix}_JWKS_URL": jwks_url}
        stack.add(ServiceSpec(name, uvicorn_factory(f"{factory}.main:create_app"), env))
    stack.add(
        ServiceSpec(
            GATEWAY,
            ["-m", "realtime_gateway", "--host", "{host}", "--port", "{port}"],
            {"GATEWAY_AMQP_URL": amqp_url, "GATEWAY_JWKS_URL": jwks_url},
        )
    )
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing whole-stack test shows the tail of every service's log next to its traceback."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("service logs", stack.logs_report()))
    return report
