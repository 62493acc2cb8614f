"""Admin presence on RabbitMQ (`gateway.presence`), so chat-svc knows which admins are online.

- `presence.admin_connections_changed` whenever an admin's socket count on this gateway changes (two tabs:
  1, 2, then 1, 0).
- `presence.gateway_heartbeat` every `interval` with this gateway's full admin -> sockets map and
  `ttl_seconds` = 3 intervals: a gateway that dies stops beating and consumers forget its admins; a broker
  outage is repaired by the first heartbeat after reconnect.
- On clean shutdown a heartbeat with an empty map.

Non-persistent direct publishes, in order, through one worker task; a failed publish is logged and dropped
(the next heartbeat carries the truth).
"""

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable

from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.topology import PRESENCE_EXCHANGE
from contracts.time import now_beijing
from pydantic import BaseModel
from servicekit.amqp import PublishFailed
from servicekit.broker import Broker

log = logging.getLogger(__name__)

PRODUCER = "realtime-gateway"


class Presence:
    def __init__(
        self, broker: Broker, gateway_id: str, admin_sockets: Callable[[], dict[int, int]], interval: float
    ) -> None:
        self._broker = broker
        self.gateway_id = gateway_id
        self._admin_sockets = admin_sockets
        self.interval = interval
        self.ttl_seconds = max(1, math.ceil(3 * interval))
        self._queue: asyncio.Queue[tuple[str, BaseModel]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def admin_changed(self, admin_id: int, connections: int) -> None:
        """Queue an `admin_connections_changed` (called from connect/disconnect; never blocks them)."""
        payload = p.AdminConnectionsChanged(
            gateway_id=self.gateway_id, admin_id=admin_id, connections=connections, at=now_beijing()
        )
        self._queue.put_nowait((r.PRESENCE_ADMIN_CONNECTIONS_CHANGED, payload))

    def heartbeat(self, admins: dict[int, int] | None = None) -> p.GatewayHeartbeat:
        return p.GatewayHeartbeat(
            gateway_id=self.gateway_id, admins=self._admin_sockets() if admins is None else admins,
            at=now_beijing(), ttl_seconds=self.ttl_seconds,
        )

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="presence-publish"),
            asyncio.create_task(self._heartbeat_loop(), name="presence-heartbeat"),
        ]

    async def stop(self) -> None:
        """Stop beating, flush what is queued, and say this gateway has no admins any more."""
        self._tasks[1].cancel()  # the heartbeat loop
        self._queue.put_nowait((r.PRESENCE_GATEWAY_HEARTBEAT, self.heartbeat({})))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=2)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _heartbeat_loop(self) -> None:
        while True:
            self._queue.put_nowait((r.PRESENCE_GATEWAY_HEARTBEAT, self.heartbeat()))
            await asyncio.sleep(self.interval)

    async def _publish_loop(self) -> None:
        while True:
            event_type, payload = await self._queue.get()
            try:
                await self._publish(event_type, payload)
            finally:
                self._queue.task_done()

    async def _publish(self, event_type: str, payload: BaseModel) -> None:
        envelope = r.new_envelope(event_type, PRODUCER, payload, self.gateway_id)
        try:
            await self._broker.publish(
                PRESENCE_EXCHANGE, r.DOMAIN_EVENTS[event_type].routing_key, envelope.to_bytes(),
                message_id=str(envelope.event_id), message_type=event_type, persistent=False,
            )
        except PublishFailed as exc:
            (log.info if self._broker.connected else log.debug)("presence %s not published (%s); the next heartbeat repairs it", event_type, exc)
