"""pytest plugin: real PostgreSQL and RabbitMQ for integration tests, isolated per test session.

Loaded everywhere through the ``pytest11`` entry point (so no conftest lists it in ``pytest_plugins``:
pytest would refuse to register it twice); nothing connects until a test asks for a fixture.

Where the servers come from (first that applies):
  1. ``TEST_DATABASE_URL`` (a role allowed to create databases) and ``TEST_AMQP_URL`` (+ optional
     ``TEST_AMQP_MANAGEMENT_URL``, default ``http://<user>:<password>@<host>:15672``): the servers that
     ``scripts/test`` starts.
  2. testcontainers, when a Docker engine answers.
  3. Neither: the test fails and says how to start them. Never a silent skip.

Fixtures (session scope): ``postgres_admin_url``, ``database_url``, ``make_database``, ``amqp_url``,
``make_vhost``, ``amqp_management_url``. Every database and vhost gets a unique ``t_<hex>`` name and is
dropped when the session ends. Each also carries its owner (``servicekit-testing host=<h> pid=<p>``, the
database's comment, the vhost's description): a session killed before its teardown leaves them behind, and the
next session on that host drops those whose process is gone (148 forgotten vhosts once hung a long-lived
RabbitMQ node).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pytest
import pytest_asyncio
from servicekit.tasks import stop_tasks

_HOW_TO_START = (
    "No {what} for the integration tests: no Docker engine answers and {env} is not set. "
    "Run `./scripts/test` (installs and starts PostgreSQL + RabbitMQ, then sets TEST_DATABASE_URL, "
    "TEST_AMQP_URL and TEST_AMQP_MANAGEMENT_URL), or `bash scripts/infra.sh` and set those yourself."
)


def pytest_configure(config: pytest.Config) -> None:
    # Apps started inside the test process must not freeze its objects or change its collector.
    from servicekit.gctune import leave_alone

    leave_alone()


def _docker_answers(timeout: float = 1.0) -> bool:
    """True when a Docker engine replies to ``GET /_ping`` within ``timeout`` (unix socket or tcp)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    parts = urlsplit(host)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(parts.path)
        elif parts.scheme in ("tcp", "http"):
            sock = socket.create_connection((parts.hostname, parts.port or 2375), timeout=timeout)
        else:  # ssh://, npipe://: let testcontainers try only when asked explicitly through env
            return False
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status_line = sock.recv(64)
        return status_line.startswith(b"HTTP/1.") and b" 200 " in status_line
    except OSError:
        return False


def _unique_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


_OWNER = re.compile(r"^servicekit-testing host=(?P<host>\S+) pid=(?P<pid>\d+)$")


def owner_tag() -> str:
    """Who made a database or vhost: this host and process."""
    return f"servicekit-testing host={socket.gethostname()} pid={os.getpid()}"


def is_orphan(tag: str | None) -> bool:
    """True for a tag of ``owner_tag``'s form naming a process of this host that no longer runs. Another host's
    objects, untagged ones and those of a live process are never an orphan."""
    found = _OWNER.match(tag or "")
    if found is None or found["host"] != socket.gethostname():
        return False
    pid = int(found["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _with_path(url: str, path: str, scheme: str | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme or parts.scheme, parts.netloc, path, "", ""))


# --- PostgreSQL ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """``postgresql://`` URL of a role that may create databases."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield _with_path(url, urlsplit(url).path, scheme="postgresql")  # accept postgresql+asyncpg:// too
        return
    if not _docker_answers():
        pytest.fail(_HOW_TO_START.format(what="PostgreSQL", env="TEST_DATABASE_URL"), pytrace=False)
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers < 4.14
        from testcontainers.postgres import PostgresContainer
    with PostgresContainer(
        "postgres:16-alpine", username="platform", password="platform", dbname="postgres"
    ) as pg:
        host, port = pg.get_container_host_ip(), pg.get_exposed_port(5432)
        yield f"postgresql://platform:platform@{host}:{port}/postgres"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def make_database(postgres_admin_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Factory: each ``await make_database()`` creates an empty database, returns its asyncpg URL."""
    import asyncpg

    created: list[str] = []
    await reap_orphan_databases(postgres_admin_url)

    async def make() -> str:
        name = _unique_name()
        conn = await asyncpg.connect(postgres_admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{owner_tag()}'")
        finally:
            await conn.close()
        created.append(name)
        return _with_path(postgres_admin_url, f"/{name}", scheme="postgresql+asyncpg")

    yield make

    if not created:
        return
    conn = await asyncpg.connect(postgres_admin_url)
    try:
        await _drop_databases(conn, created)
    finally:
        await conn.close()


async def reap_orphan_databases(postgres_admin_url: str) -> list[str]:
    """Drop the ``t_`` databases whose owning test process is gone (``is_orphan``); returns their names."""
    import asyncpg

    conn = await asyncpg.connect(postgres_admin_url)
    try:
        tagged = await conn.fetch(
            "SELECT datname, shobj_description(oid, 'pg_database') AS tag FROM pg_database"
            " WHERE datname LIKE 't\\_%'"
        )
        orphans = [row["datname"] for row in tagged if is_orphan(row["tag"])]
        await _drop_databases(conn, orphans)
        return orphans
    finally:
        await conn.close()


async def _drop_databases(conn: Any, names: list[str]) -> None:
    for name in names:
        # Client backends only: an autovacuum worker advertises no role, so a non-superuser may not
        # signal it (PostgreSQL treats it as a superuser's); DROP DATABASE stops those by itself.
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url(make_database: Callable[[], Awaitable[str]]) -> str:
    """``postgresql+asyncpg://`` URL of an empty database of this test session."""
    return await make_database()


# --- RabbitMQ -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _rabbitmq() -> Iterator[tuple[str, str]]:
    """(base AMQP URL, management HTTP URL with credentials)."""
    if url := os.environ.get("TEST_AMQP_URL"):
        parts = urlsplit(url)
        default = f"http://{parts.username or 'guest'}:{parts.password or 'guest'}@{parts.hostname}:15672"
        yield url, os.environ.get("TEST_AMQP_MANAGEMENT_URL", default)
        return
    if not _docker_answers():
        pytest.fail(_HOW_TO_START.format(what="RabbitMQ", env="TEST_AMQP_URL"), pytrace=False)
    try:
        from testcontainers.community.rabbitmq import RabbitMqContainer
    except ImportError:  # testcontainers < 4.14
        from testcontainers.rabbitmq import RabbitMqContainer
    # Schedulers that do not spin before sleeping (RabbitMQ's own default, stated as scripts/infra.sh does).
    container = RabbitMqContainer("rabbitmq:3.13-management-alpine").with_exposed_ports(15672).with_env(
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "+sbwt none +sbwtdcpu none +sbwtdio none")
    with container as mq:
        host = mq.get_container_host_ip()
        yield (
            f"amqp://guest:guest@{host}:{mq.get_exposed_port(5672)}/",
            f"http://guest:guest@{host}:{mq.get_exposed_port(15672)}",
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def amqp_management_url(_rabbitmq: tuple[str, str]) -> str:
    """Management API URL (``http://user:password@host:port``), answered before it is returned."""
    import httpx

    url = _rabbitmq[1].rstrip("/")
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        for _ in range(60):
            try:
                if (await client.get("/api/overview")).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            await asyncio.sleep(1)
    pytest.fail(
        f"RabbitMQ management API at {urlsplit(url).hostname} did not answer within 60 s", pytrace=False
    )


class VhostFactory:
    """``await make_vhost()`` creates an empty vhost of this session and returns ``amqp://.../<vhost>``; they are
    all deleted when the session ends. ``await make_vhost.drop_unused()`` deletes earlier the ones no connection
    uses any more (the tests that made them are done): a broker restarted mid-session (tests/faults) then recovers
    a handful of vhosts, not every queue and stream the whole session ever declared."""

    def __init__(self, client: Any, amqp_base: str, user: str) -> None:
        self._client, self._amqp_base, self._user = client, amqp_base, user
        self.created: dict[str, float] = {}  # vhost -> time.monotonic() of its creation

    async def __call__(self) -> str:
        vhost = _unique_name()
        (await self._client.put(f"/api/vhosts/{vhost}", json={"description": owner_tag()})).raise_for_status()
        self.created[vhost] = time.monotonic()
        grant = {"configure": ".*", "write": ".*", "read": ".*"}
        (
            await self._client.put(f"/api/permissions/{vhost}/{quote(self._user, safe='')}", json=grant)
        ).raise_for_status()
        return _with_path(self._amqp_base, f"/{vhost}")

    async def drop_unused(self, *, younger_than: float = 30.0) -> list[str]:
        """Delete this session's vhosts without a connection; those made in the last ``younger_than`` seconds
        stay (the management API lists a new connection a few seconds late). Returns the names deleted."""
        listed = await self._client.get("/api/connections", params={"columns": "vhost"})
        listed.raise_for_status()
        used = {c["vhost"] for c in listed.json()}
        now = time.monotonic()
        unused = [v for v, made in self.created.items() if v not in used and now - made >= younger_than]
        for vhost in unused:
            await self._client.delete(f"/api/vhosts/{vhost}")
            del self.created[vhost]
        return unused

    async def drop_all(self) -> None:
        for vhost in list(self.created):
            await self._client.delete(f"/api/vhosts/{vhost}")
        self.created.clear()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def make_vhost(_rabbitmq: tuple[str, str], amqp_management_url: str) -> AsyncIterator[VhostFactory]:
    """Factory of empty vhosts (``VhostFactory``): ``await make_vhost()`` returns ``amqp://.../<vhost>``."""
    import httpx

    user = unquote(urlsplit(_rabbitmq[0]).username or "guest")
    async with httpx.AsyncClient(base_url=amqp_management_url, timeout=10) as client:
        await reap_orphan_vhosts(client)
        factory = VhostFactory(client, _rabbitmq[0], user)
        yield factory
        await factory.drop_all()


async def reap_orphan_vhosts(client: Any) -> list[str]:
    """Delete the vhosts whose owning test process is gone (``is_orphan``), through the management API
    (``client``: an httpx.AsyncClient on it); returns their names."""
    listed = await client.get("/api/vhosts", params={"columns": "name,description"})
    listed.raise_for_status()
    orphans = [v["name"] for v in listed.json() if is_orphan(v.get("description"))]
    for name in orphans:
        await client.delete(f"/api/vhosts/{quote(name, safe='')}")
    return orphans


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def amqp_url(make_vhost: Callable[[], Awaitable[str]]) -> str:
    """``amqp://`` URL of an empty vhost of this test session."""
    return await make_vhost()


# --- tasks left behind ----------------------------------------------------------------------------------


def open_robust_connections() -> list[Any]:
    """Every aio-pika RobustConnection in the process not closed yet (one left behind keeps a reconnect loop
    running). Empty when aio-pika is not installed."""
    import gc

    try:
        from aio_pika import RobustConnection
    except ImportError:  # pragma: no cover - the testing extra installs it
        return []
    return [o for o in gc.get_objects() if isinstance(o, RobustConnection) and not o.is_closed]


@pytest_asyncio.fixture(scope="session", loop_scope="session", autouse=True)
async def _tasks_left_behind(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """At the end of the session, stop what tests left running on the session's loop, so that closing it cannot
    hang: first the RabbitMQ connections never closed (aio-pika's reconnect loop takes a cancellation for a
    failed attempt and goes on, so pytest-asyncio's final cancel could wait for it for ever), then the other
    tasks. A task that still does not stop is printed with its stack and the run ends with exit code 3."""
    yield
    import contextlib
    import sys

    await asyncio.gather(*(c.close() for c in open_robust_connections()), return_exceptions=True)
    stuck = await stop_tasks([task for task in asyncio.all_tasks() if task is not asyncio.current_task()], timeout=10)
    if not stuck:
        return
    capture = request.config.pluginmanager.getplugin("capturemanager")
    # Past pytest's capture: os._exit would drop what it captured.
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        for task in stuck:
            print(f"\nservicekit_testing: task {task.get_name()} ignores cancellation; it is at:", file=sys.stderr)
            task.print_stack(file=sys.stderr)
        sys.stderr.flush()
    os._exit(3)  # the loop cannot be closed with these tasks in it: a failure with a reason, not a silent hang
