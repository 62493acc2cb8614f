"""Every service process says, every few seconds, how its own checks went: `health.service_heartbeat` on
`platform.health`, with the same checks as its `GET /health` (database, and with an outbox: broker, relay).

The gateways listen (realtime_gateway/ops/service_status.py) and tell the consoles `system:status_change` when a
service has had no healthy process for a while. Nobody polls anybody: each process reports itself, and a process
that stopped, hangs or lost the broker simply stops being heard.

How it travels, and why:
- Not through the outbox: a heartbeat is worth nothing a few seconds later, and a write per beat per process
  would load the database that is one of the things being checked (a service without its database still beats,
  saying so).
- Non-persistent, with a per-message TTL (`expiration` = `ttl_seconds`), on a topic exchange where only the
  gateways' exclusive, auto-delete queues are bound: with no gateway listening the broker drops it at once, and
  one stuck in a queue expires instead of piling up.
- A failed publish (broker down, no confirm) is dropped quietly: the next beat carries the truth, and a service
  that cannot reach the broker is exactly the one the gateways should stop hearing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Mapping

from contracts.events import registry as r
from contracts.events.payloads import ServiceHeartbeat
from contracts.events.topology import HEALTH_EXCHANGE
from contracts.time import now_beijing

from servicekit.amqp import PublishFailed
from servicekit.broker import Broker
from servicekit.http import HealthCheck, run_checks

log = logging.getLogger(__name__)

TTL_BEATS = 3
"""A heartbeat counts for this many intervals: one lost or late beat does not make a process silent."""


def instance_id(service: str) -> str:
    """`<service>-<host>-<pid>-<random4>`: one process, distinguishable from its restarts."""
    host = "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname().lower())[:40]
    return f"{service}-{host or 'host'}-{os.getpid()}-{secrets.token_hex(2)}"


class Heartbeat:
    def __init__(
        self, broker: Broker, service: str, checks: Mapping[str, HealthCheck], interval: float,
        *, instance: str | None = None, check_timeout: float = 3.0,
    ) -> None:
        self._broker = broker
        self.service = service
        self._checks = checks
        self.interval = interval
        self.instance_id = instance or instance_id(service)
        self._check_timeout = min(check_timeout, interval)

    async def verdict(self) -> ServiceHeartbeat:
        # DEBUG: a failing check would otherwise log a traceback every beat; /health logs it when asked
        results = await run_checks(self._checks, timeout=self._check_timeout, log_level=logging.DEBUG)
        return ServiceHeartbeat(
            service=self.service, instance_id=self.instance_id, healthy=all(v == "ok" for v in results.values()),
            checks={name: v == "ok" for name, v in results.items()}, at=now_beijing(),
            ttl_seconds=float(TTL_BEATS * self.interval),
        )

    async def beat(self) -> None:
        if not self._broker.connected:
            return
        beat = await self.verdict()
        envelope = r.new_envelope(r.HEALTH_SERVICE_HEARTBEAT, self.service, beat, self.instance_id)
        try:
            await self._broker.publish(
                HEALTH_EXCHANGE, r.DOMAIN_EVENTS[r.HEALTH_SERVICE_HEARTBEAT].routing_key, envelope.to_bytes(),
                message_id=str(envelope.event_id), message_type=r.HEALTH_SERVICE_HEARTBEAT, persistent=False,
                expiration=beat.ttl_seconds,
            )
        except PublishFailed as exc:
            log.debug("heartbeat not published (%s); the next one will be", exc)

    async def run(self) -> None:
        """Beat until cancelled."""
        while True:
            try:
                await self.beat()
            except Exception:  # a beat that failed must not end the heartbeat
                log.exception("heartbeat failed; beating on")
            await asyncio.sleep(self.interval)
