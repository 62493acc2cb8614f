"""Admin presence on RabbitMQ (`gateway.presence`), so chat-svc knows which admins are online.

- `presence.admin_connections_changed` whenever an admin's socket count on this gateway changes (two tabs:
  1, 2, then 1, 0).
- `presence.gateway_heartbeat` every `interval` with this gateway's full admin -> sockets map and
  `ttl_seconds` = 3 intervals: a gateway that dies stops beating and consumers forget its admins; a broker
  outage is repaired by the first heartbeat after reconnect.
- On clean shutdown a heartbeat with an empty map.
- A burst (more than `burst` changes waiting to be published, e.g. a disconnect storm or a drain): what waits
  (changes, heartbeats) is replaced by ONE heartbeat taken at that moment. A heartbeat is the full map and newer
  than everything it replaces, so consumers (chat-svc applies presence per (gateway, admin) in event-time order)
  end in the same state, with one event instead of thousands (each costs this gateway a publish and chat-svc a
  transaction). After such a heartbeat the worker pauses `BURST_PAUSE`, so a long storm is a few of them.

- `presence.user_connections_changed` whenever an end user's socket count on this gateway changes (notification-svc
  reaches users with no socket outside the platform). Heartbeats do not list users, so a burst never replaces
  these: they are published one by one, after the heartbeat that replaced the admin changes around them.

Non-persistent direct publishes, in order, through one worker task; a failed publish is logged and dropped
(the next heartbeat carries the truth). Connect and disconnect only append a tuple (`admin_changed`): the event
is built by the worker, and only if it is published.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.topology import PRESENCE_EXCHANGE
from contracts.time import BEIJING_TZ
from pydantic import BaseModel
from servicekit.amqp import PublishFailed
from servicekit.broker import Broker
from servicekit.tasks import being_cancelled, stop_tasks

log = logging.getLogger(__name__)

PRODUCER = "realtime-gateway"
BURST = 16
"""More changes than this waiting: publish one heartbeat instead of them..."""
BURST_PAUSE = 0.25
"""...and then wait this long before the next one, so a storm is a few full maps, not one per broker round trip
(2,000 admins connecting over 3 s with 0.1 s: 31 heartbeats of up to 2,000 entries, each an upsert of that many
rows in chat-svc)."""

Change = tuple[int, int, float]
"""(admin id, its socket count here now, when: time.time())."""



@dataclass(frozen=True)
class UserChange:
    """An end user's socket count here now, and when (time.time())."""

    user_id: int
    connections: int
    at: float


STOP = "stop"
"""The last entry: a heartbeat with an empty map."""


def _at(timestamp: float) -> datetime:
    """A `time.time()` as Beijing time (the payloads' `BeijingDatetime` truncates it to milliseconds)."""
    return datetime.fromtimestamp(timestamp, BEIJING_TZ)


class Presence:
    def __init__(
        self, broker: Broker, gateway_id: str, admin_sockets: Callable[[], dict[int, int]], interval: float,
        burst: int = BURST, burst_pause: float = BURST_PAUSE,
    ) -> None:
        self._broker = broker
        self.gateway_id = gateway_id
        self._admin_sockets = admin_sockets
        self.interval = interval
        self.ttl_seconds = max(1, math.ceil(3 * interval))
        self.burst = burst
        self.burst_pause = burst_pause
        # What to publish, in order: changes, heartbeats (taken when queued), STOP.
        self._pending: deque[Change | UserChange | p.GatewayHeartbeat | str] = deque()
        self._changes = 0
        """How many entries of `_pending` are Changes."""
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task[None]] = []

    def admin_changed(self, admin_id: int, connections: int) -> None:
        """Queue an `admin_connections_changed` (called from connect/disconnect; never blocks them)."""
        self._pending.append((admin_id, connections, time.time()))
        self._changes += 1
        self._kick()

    def user_changed(self, user_id: int, connections: int) -> None:
        """Queue a `user_connections_changed` (called from connect/disconnect; never blocks them)."""
        self._pending.append(UserChange(user_id, connections, time.time()))
        self._kick()

    def heartbeat(self, admins: dict[int, int] | None = None) -> p.GatewayHeartbeat:
        return p.GatewayHeartbeat(
            gateway_id=self.gateway_id, admins=self._admin_sockets() if admins is None else admins,
            at=_at(time.time()), ttl_seconds=self.ttl_seconds,
        )

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="presence-publish"),
            asyncio.create_task(self._heartbeat_loop(), name="presence-heartbeat"),
        ]

    async def stop(self) -> None:
        """Stop beating, flush what is queued, and say this gateway has no admins any more."""
        self._tasks[1].cancel()  # the heartbeat loop
        self._pending.append(STOP)
        self._kick()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=2)
        await stop_tasks(self._tasks)

    def _kick(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def _heartbeat_loop(self) -> None:
        while True:
            self._pending.append(self.heartbeat())
            self._kick()
            await asyncio.sleep(self.interval)

    def _next(self) -> tuple[str, BaseModel, bool]:
        """The next event to publish (the caller checked `_pending` is not empty). Nothing awaits in here, so a
        heartbeat taken for a burst holds every change queued before it, and is newer than all of them."""
        if self._changes > self.burst:
            users: list[UserChange] = []
            while self._pending and self._pending[0] is not STOP:
                entry = self._pending.popleft()
                if isinstance(entry, tuple):
                    self._changes -= 1
                elif isinstance(entry, UserChange):  # no heartbeat carries users: keep them, in order
                    users.append(entry)
            self._pending.extendleft(reversed(users))
            return r.PRESENCE_GATEWAY_HEARTBEAT, self.heartbeat(), True
        entry = self._pending.popleft()
        if isinstance(entry, tuple):
            self._changes -= 1
            admin_id, connections, at = entry
            return r.PRESENCE_ADMIN_CONNECTIONS_CHANGED, p.AdminConnectionsChanged(
                gateway_id=self.gateway_id, admin_id=admin_id, connections=connections, at=_at(at)
            ), False
        if isinstance(entry, UserChange):
            return r.PRESENCE_USER_CONNECTIONS_CHANGED, p.UserConnectionsChanged(
                gateway_id=self.gateway_id, user_id=entry.user_id, connections=entry.connections, at=_at(entry.at)
            ), False
        if isinstance(entry, p.GatewayHeartbeat):
            return r.PRESENCE_GATEWAY_HEARTBEAT, entry, False
        return r.PRESENCE_GATEWAY_HEARTBEAT, self.heartbeat({}), False  # STOP

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                event_type, payload, burst = self._next()
                try:
                    await self._publish(event_type, payload)
                except Exception:  # one bad event must not stop presence
                    if being_cancelled():
                        raise
                    log.exception("presence %s not published", event_type)
                if burst and self._pending and self._pending[0] is not STOP:
                    await asyncio.sleep(self.burst_pause)
            if not self._pending:
                self._idle.set()

    async def _publish(self, event_type: str, payload: BaseModel) -> None:
        envelope = r.new_envelope(event_type, PRODUCER, payload, self.gateway_id)
        try:
            await self._broker.publish(
                PRESENCE_EXCHANGE, r.DOMAIN_EVENTS[event_type].routing_key, envelope.to_bytes(),
                message_id=str(envelope.event_id), message_type=event_type, persistent=False,
            )
        except PublishFailed as exc:
            (log.info if self._broker.connected else log.debug)("presence %s not published (%s); the next heartbeat repairs it", event_type, exc)
