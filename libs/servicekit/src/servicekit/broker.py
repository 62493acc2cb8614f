"""A process's link to RabbitMQ, opened in the background so a service starts and answers while the broker is
down (its events wait in the outbox), and reconnects by itself afterwards.

    broker = Broker(settings.amqp_url, name="chat-svc", on_connect=[start_my_consumers])
    await broker.start()          # returns at once
    await broker.publish(...)     # PublishFailed until connected
    broker.connected              # for /health
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from aio_pika.abc import AbstractRobustConnection

from servicekit.amqp import Publisher, PublishFailed, connect
from servicekit.tasks import being_cancelled

log = logging.getLogger(__name__)

OnConnect = Callable[[AbstractRobustConnection, Publisher], Awaitable[None]]
"""Runs once, after the first connection: declare queues, start consumers (the robust connection restores them)."""


class Broker:
    def __init__(
        self, url: str, *, name: str, on_connect: Sequence[OnConnect] = (), publish_timeout: float = 5.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._url = url
        self._name = name
        self._on_connect = list(on_connect)
        self._publish_timeout = publish_timeout
        self._max_backoff = max_backoff
        self._connection: AbstractRobustConnection | None = None
        self._publisher: Publisher | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name=f"{self._name}-broker")

    async def _connect(self) -> None:
        """Connect, then set up (publisher, `on_connect` hooks), retrying both with a capped backoff. A connection
        whose setup failed or was cancelled (the service stopping during startup) is closed: left open, its
        reconnect loop would outlive the service, and the service would never get a working one."""
        backoff = 0.2
        while True:
            connection: AbstractRobustConnection | None = None
            try:
                connection = await connect(self._url, name=self._name)
                publisher = Publisher(connection, timeout=self._publish_timeout)
                await publisher.start()
                for hook in self._on_connect:
                    await hook(connection, publisher)
                break
            except BaseException as exc:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                if not isinstance(exc, Exception) or being_cancelled():
                    raise
                what = "set-up failed" if connection is not None else "RabbitMQ not reachable"
                log.warning("%s: %s (%s); retrying in %.1fs", self._name, what, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)
        self._connection, self._publisher = connection, publisher
        self._ready.set()
        log.info("%s: connected to RabbitMQ", self._name)

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed and self._connection.connected.is_set()

    @property
    def connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise RuntimeError(f"{self._name}: not connected to RabbitMQ yet")
        return self._connection

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            raise RuntimeError(f"{self._name}: not connected to RabbitMQ yet")
        return self._publisher

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def publish(
        self, exchange: str, routing_key: str, body: bytes, *, message_id: str, message_type: str,
        correlation_id: str | None = None, reply_to: str | None = None, expiration: float | None = None,
        persistent: bool = True, timeout: float | None | Literal["configured"] = "configured",
        routed_after_reconnect: bool = False,
    ) -> None:
        """servicekit.amqp.Publisher.publish, once connected."""
        if self._publisher is None or not self.connected:
            raise PublishFailed(f"{self._name}: not connected to RabbitMQ")
        await self._publisher.publish(
            exchange, routing_key, body, message_id=message_id, message_type=message_type,
            correlation_id=correlation_id, reply_to=reply_to, expiration=expiration, persistent=persistent,
            timeout=timeout, routed_after_reconnect=routed_after_reconnect,
        )

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # its failure was logged where it happened
                await self._task
        if self._connection is not None:
            await self._connection.close()
