"""notification-svc in-process (lifespan and all) on real PostgreSQL + RabbitMQ, tokens from a TokenMint,
and an event tap: a test queue bound to ``notification.events`` in the app's vhost."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import pytest
import pytest_asyncio
from contracts.events.batch import event_bodies
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import parse_domain_event
from contracts.events.topology import NOTIFICATION_EVENTS_EXCHANGE
from fastapi import FastAPI
from notification_svc.main import create_app
from notification_svc.settings import Settings
from pydantic import BaseModel
from servicekit.amqp import declare_exchanges
from servicekit_testing.tokens import TokenMint

FAST = {"broker_max_backoff": 0.3, "relay_poll_interval": 0.2, "relay_max_backoff": 0.3, "publish_timeout": 3.0}

_ids = itertools.count(1000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


def new_id() -> int:
    """A user id no other test of this session uses."""
    return next(_ids)


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    amqp_url: str
    """The real broker's URL of the app's vhost (the tap connects here, even when the app goes through a proxy)."""
    mint: TokenMint

    def admin(self, user_id: int | None = None) -> dict[str, str]:
        return self.mint.headers(user_id or new_id(), "admin")

    def supervisor(self, user_id: int | None = None) -> dict[str, str]:
        return self.mint.headers(user_id or new_id(), "admin", role="supervisor")

    def user(self, user_id: int | None = None) -> dict[str, str]:
        return self.mint.headers(user_id or new_id(), "user")


@asynccontextmanager
async def running(
    mint: TokenMint, database_url: str, amqp_url: str, *, app_amqp_url: str | None = None, wait_broker: bool = True,
    **overrides: Any,
) -> AsyncIterator[Service]:
    settings = Settings(database_url=database_url, amqp_url=app_amqp_url or amqp_url, **{**FAST, **overrides})
    app = create_app(settings, jwt_verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        if wait_broker:
            await app.state.broker.wait_ready(10)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://notification") as client:
            yield Service(app, client, amqp_url, mint)


@pytest.fixture(scope="session")
def mint() -> TokenMint:
    return TokenMint()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def service(mint: TokenMint, database_url: str, amqp_url: str) -> AsyncIterator[Service]:
    """One app for the session's tests: each test uses its own admin ids (but sees every test's broadcasts)."""
    async with running(mint, database_url, amqp_url) as svc:
        yield svc


@pytest_asyncio.fixture(loop_scope="session")
async def own_service(mint: TokenMint, make_database, make_vhost) -> AsyncIterator[Service]:
    """An app with its own database and vhost: for counts that other tests' broadcasts would disturb."""
    async with running(mint, await make_database(), await make_vhost()) as svc:
        yield svc


@dataclass(frozen=True)
class Event:
    exchange: str
    routing_key: str
    envelope: EventEnvelope
    payload: BaseModel
    message_id: str | None
    persistent: bool


@dataclass
class Tap:
    """Every message on ``notification.events`` since the tap was bound, parsed with ``parse_domain_event``."""

    events: list[Event] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        bodies = event_bodies(message.type, message.body)  # an event batch: each of its events (each with its id)
        for body in bodies:
            envelope, payload = parse_domain_event(body)  # raises if the body breaks its contract
            self.events.append(Event(
                message.exchange or "", message.routing_key or "", envelope, payload,
                message.message_id if len(bodies) == 1 else str(envelope.event_id),
                message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT,
            ))
        self._arrived.set()

    async def expect(
        self, count: int, where: Callable[[Event], bool] = lambda e: True, *, timeout: float = 10.0,
        settle: float = 0.4,
    ) -> list[Event]:
        """Wait until ``count`` matching events arrived, then ``settle`` seconds more so that a surplus (a
        duplicate, a second event) would show up too; returns all matching events."""
        async with asyncio.timeout(timeout):
            while sum(1 for e in self.events if where(e)) < count:
                self._arrived.clear()
                await self._arrived.wait()
        await asyncio.sleep(settle)
        return [e for e in self.events if where(e)]


@asynccontextmanager
async def tap(amqp_url: str) -> AsyncIterator[Tap]:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await declare_exchanges(channel)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(NOTIFICATION_EVENTS_EXCHANGE, routing_key="#")
        result = Tap()

        async def consume(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            result.on_message(message)

        await queue.consume(consume, no_ack=True)
        yield result
    finally:
        await connection.close()


def error_fields(response: httpx.Response) -> set[str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return {d["field"] for d in body["error"].get("details", [])}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
