"""chat-svc in-process (lifespan and all) on real PostgreSQL and RabbitMQ, plus what a test needs around it:
tokens, a tap on `chat.events`, a fake gateway publishing presence, and a command client.

`stack` is shared by the whole session (tests use unique user/admin ids and never publish presence there, so no
admin is ever online in it); `make_stack` gives a test its own database and vhost, for everything that depends on
who is online.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

import aio_pika
import httpx
import pytest
import pytest_asyncio
from chat_svc.main import create_app
from chat_svc.settings import Settings
from contracts.events.batch import event_bodies
from contracts.events.envelope import EventEnvelope
from contracts.events.payloads import AdminConnectionsChanged, GatewayHeartbeat
from contracts.events.registry import (
    PRESENCE_ADMIN_CONNECTIONS_CHANGED,
    PRESENCE_GATEWAY_HEARTBEAT,
    new_envelope,
    parse_domain_event,
)
from contracts.events.topology import CHAT_EVENTS_EXCHANGE, PRESENCE_EXCHANGE
from contracts.identity import Principal
from contracts.time import now_beijing
from pydantic import BaseModel
from servicekit.amqp import Publisher, connect, declare_exchanges
from servicekit.commands import CommandClient
from servicekit_testing.tokens import TokenMint
from sqlalchemy import text

BASE = "/api/v4/customer-service"
MINT = TokenMint()


def new_id() -> int:
    return random.randint(10**6, 10**12)


def user_headers(user_id: int) -> dict[str, str]:
    return MINT.headers(user_id, "user")


def admin_headers(admin_id: int) -> dict[str, str]:
    """An agent's token (an admin token without a role claim verifies as an agent's)."""
    return MINT.headers(admin_id, "admin")


def supervisor_headers(admin_id: int) -> dict[str, str]:
    return MINT.headers(admin_id, "admin", role="supervisor")


def user(user_id: int) -> Principal:
    """An end user as a command carries them (the socket's principal)."""
    return Principal(user_id=user_id, user_type="user", username=f"u{user_id}")


def admin(admin_id: int) -> Principal:
    return Principal(user_id=admin_id, user_type="admin", username=f"a{admin_id}")


async def claimed_session(stack: Any, user_id: int, admin_id: int) -> int:
    """A session the user opened and the admin claimed."""
    session_id = (await stack.open_session(user_id))["session_id"]
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=admin_headers(admin_id))
    assert response.status_code == 200, response.text
    return session_id


class EventTap:
    """Every message on `chat.events`, parsed with the contract, with its routing key."""

    def __init__(self) -> None:
        self.received: list[tuple[str, EventEnvelope, BaseModel]] = []
        self._arrived = asyncio.Event()

    async def start(self, connection: aio_pika.abc.AbstractRobustConnection) -> None:
        channel = await connection.channel()
        await declare_exchanges(channel)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(CHAT_EVENTS_EXCHANGE, routing_key="#")
        await queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        for body in event_bodies(message.type, message.body):  # an event batch: each of its events, in order
            envelope, payload = parse_domain_event(body)
            self.received.append((message.routing_key or "", envelope, payload))
        self._arrived.set()

    def of(self, session_id: int, event_type: str | None = None) -> list[tuple[str, EventEnvelope, BaseModel]]:
        return [e for e in self.received if e[1].aggregate_id == str(session_id)
                and (event_type is None or e[1].event_type == event_type)]

    async def wait(self, session_id: int, event_type: str, count: int = 1, timeout: float = 10.0,
                   settle: float = 0.3) -> list[BaseModel]:
        """The payloads of `event_type` for that session, once `count` arrived and no more came within `settle`."""
        async with asyncio.timeout(timeout):
            while len(self.of(session_id, event_type)) < count:
                self._arrived.clear()
                await self._arrived.wait()
        await asyncio.sleep(settle)
        found = self.of(session_id, event_type)
        for routing_key, envelope, _ in found:
            assert routing_key == event_type == envelope.event_type
            assert envelope.producer == "chat-svc"
        return [payload for _, _, payload in found]


class Stack:
    def __init__(self, app: Any, client: httpx.AsyncClient, publisher: Publisher, tap: EventTap,
                 commands: CommandClient) -> None:
        self.app, self.client, self.publisher, self.tap, self.commands = app, client, publisher, tap, commands

    async def open_session(
        self, user_id: int, content: str = "hello", *, priority: int | None = None, **body: Any
    ) -> dict[str, Any]:
        """The user's message; with `priority`, a supervisor then sets the session's priority (users cannot)."""
        response = await self.client.post(f"{BASE}/sessions", json={"content": content, **body},
                                          headers=user_headers(user_id))
        assert response.status_code in (200, 201), response.text
        if priority is None:
            return response.json()
        response = await self.client.patch(f"{BASE}/sessions/{response.json()['session_id']}",
                                           json={"priority": priority}, headers=supervisor_headers(new_id()))
        assert response.status_code == 200, response.text
        return response.json()

    async def session(self, session_id: int) -> dict[str, Any]:
        async with self.app.state.engine.connect() as conn:
            row = (await conn.execute(text("SELECT * FROM chat.sessions WHERE id = :id"), {"id": session_id})).one()
        return dict(row._mapping)

    async def _presence(self, event_type: str, payload: BaseModel, gateway_id: str, wait: bool) -> None:
        envelope = new_envelope(event_type, "realtime-gateway", payload, aggregate_id=gateway_id)
        await self.publish_presence(envelope, wait=wait)

    async def publish_presence(self, envelope: EventEnvelope, *, wait: bool = True) -> None:
        """Publish like a gateway; with `wait`, return once chat-svc marked the event processed, which it does
        with the assignment offer that follows it (chat_svc.presence.apply_presence): its effect is visible."""
        await self.publisher.publish(PRESENCE_EXCHANGE, envelope.event_type, envelope.to_bytes(),
                                     message_id=str(envelope.event_id), message_type=envelope.event_type)
        if wait:
            await self.processed(envelope.event_id)

    async def processed(self, event_id: Any, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                async with self.app.state.engine.connect() as conn:
                    found = (await conn.execute(text("SELECT 1 FROM chat.processed_events WHERE event_id = :e"),
                                                {"e": event_id})).first()
                if found:
                    return
                await asyncio.sleep(0.05)

    async def connections(self, gateway_id: str, admin_id: int, connections: int,
                          at: datetime | None = None, wait: bool = True) -> None:
        payload = AdminConnectionsChanged(gateway_id=gateway_id, admin_id=admin_id, connections=connections,
                                          at=at or now_beijing())
        await self._presence(PRESENCE_ADMIN_CONNECTIONS_CHANGED, payload, gateway_id, wait)

    async def heartbeat(self, gateway_id: str, admins: dict[int, int], ttl_seconds: int = 30,
                        at: datetime | None = None, wait: bool = True) -> None:
        payload = GatewayHeartbeat(gateway_id=gateway_id, admins=admins, at=at or now_beijing(),
                                   ttl_seconds=ttl_seconds)
        await self._presence(PRESENCE_GATEWAY_HEARTBEAT, payload, gateway_id, wait)


URL_SECRET = "chat-tests-attachment-url-secret"


async def _start_stack(exit_stack: AsyncExitStack, database_url: str, amqp_url: str, **overrides: Any) -> Stack:
    attachments_dir = tempfile.mkdtemp(prefix="chat-attachments-")
    exit_stack.callback(shutil.rmtree, attachments_dir, ignore_errors=True)
    overrides = {"attachments_dir": attachments_dir, "attachment_url_secret": URL_SECRET, **overrides}
    settings = Settings(database_url=database_url, amqp_url=amqp_url, **overrides)
    app = create_app(settings, jwt_verifier=MINT.verifier())
    await exit_stack.enter_async_context(app.router.lifespan_context(app))
    await app.state.broker.wait_ready(15)
    client = await exit_stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://chat"))
    connection = await connect(amqp_url, name="chat-tests")
    exit_stack.push_async_callback(connection.close)
    publisher = Publisher(connection)
    await publisher.start()
    tap = EventTap()
    await tap.start(connection)
    commands = CommandClient(connection, client_id=f"gw-test-{new_id()}", timeout=5)
    await commands.start()
    return Stack(app, client, publisher, tap, commands)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(database_url: str, amqp_url: str) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exit_stack:
        yield await _start_stack(exit_stack, database_url, amqp_url)


@pytest_asyncio.fixture(loop_scope="session")
async def make_stack(make_database, make_vhost) -> AsyncIterator[Callable[..., Any]]:
    """`await make_stack(admin_capacity=2)`: a chat-svc of this test's own (fresh database and vhost)."""
    async with AsyncExitStack() as exit_stack:

        async def make(**overrides: Any) -> Stack:
            return await _start_stack(exit_stack, await make_database(), await make_vhost(), **overrides)

        yield make


@pytest.fixture
def user_id() -> int:
    return new_id()


@pytest.fixture
def admin_id() -> int:
    return new_id()


class S3Server:
    """An S3-compatible server (moto's, in a thread of the test process) and a client to look into it."""

    ACCESS_KEY, SECRET_KEY, REGION = "test-access-key", "test-secret-key", "us-east-1"

    def __init__(self, endpoint_url: str, client: Any) -> None:
        self.endpoint_url, self.client = endpoint_url, client

    async def new_bucket(self) -> str:
        bucket = f"chat-test-{new_id()}"
        await self.client.create_bucket(Bucket=bucket)
        return bucket

    async def keys(self, bucket: str) -> list[str]:
        listed = await self.client.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def settings(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """chat-svc settings selecting this server's `bucket`."""
        return {"attachments_storage": "s3", "s3_endpoint_url": self.endpoint_url, "s3_bucket": bucket,
                "s3_region": self.REGION, "s3_access_key_id": self.ACCESS_KEY,
                "s3_secret_access_key": self.SECRET_KEY, "s3_addressing_style": "path", **overrides}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def s3_server() -> AsyncIterator[S3Server]:
    from aiobotocore.session import get_session
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        async with get_session().create_client(
            "s3", endpoint_url=endpoint_url, region_name=S3Server.REGION,
            aws_access_key_id=S3Server.ACCESS_KEY, aws_secret_access_key=S3Server.SECRET_KEY,
        ) as client:
            yield S3Server(endpoint_url, client)
    finally:
        server.stop()
