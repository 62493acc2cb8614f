"""The platform services' health as admins see it: `system:status_change` for component `<service>` (`auth-svc`,
`notification-svc`, `chat-svc`: GATEWAY_STATUS_SERVICES) when no process of it has said it is healthy for a while
(`degraded`, code `service_unavailable`), and again once one has said so for a while (`operational`,
`service_restored`).

What it hears: every service process publishes `health.service_heartbeat` every few seconds with the verdict of its
own `/health` checks (servicekit.heartbeat). Each gateway listens on its own exclusive, auto-delete queue (it exists
only while this gateway is connected; heartbeats carry a per-message TTL, so nothing piles up if it stalls) and
emits the changes to its own admins' sockets only: with two gateways every console hears each change once, from
the gateway it is connected to, and no gateway needs to know about the others.

When a service counts as up: at least one of its processes' latest heartbeat says healthy and is younger than that
heartbeat's `ttl_seconds` (several processes of one service: the service is up while one of them is healthy; a
process that stops beating is forgotten when its heartbeat expires). A process that stopped, hangs, lost its
database or the broker stops counting within one TTL; `Hysteresis` (component_status.py) then reports `degraded`
after GATEWAY_SERVICE_DEGRADED_AFTER_SECONDS more, and `operational` only after
GATEWAY_SERVICE_OPERATIONAL_AFTER_SECONDS of being up again, so a flapping service reports one change each way.

While this gateway has no broker link it hears nobody: that is its own loss (component `realtime-gateway`,
component_status.py), not the services'. Nothing is concluded then, and what was under way is forgotten; after the
link is back the services have the full GATEWAY_SERVICE_DEGRADED_AFTER_SECONDS to be heard again. A service never
heard since this gateway started counts as up for GATEWAY_SERVICE_STARTUP_GRACE_SECONDS once the gateway listens
(platforms start their processes together, and a gateway is up long before a service has migrated its schema),
then as down: a service that never came up is reported too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.errors import ContractError
from contracts.events import registry as r
from contracts.events.payloads import ServiceHeartbeat
from contracts.events.topology import HEALTH_EXCHANGE
from contracts.payloads import ComponentStatus, StatusData
from contracts.payloads.system_text import (
    ServiceRestoredParams,
    ServiceUnavailableParams,
    SystemTextParams,
    render,
    system_text,
)
from contracts.socketio.events import SYSTEM_STATUS_CHANGE
from contracts.time import now_beijing
from servicekit.amqp import Publisher, declare_exchanges
from servicekit.broker import OnConnect

from realtime_gateway.clients.rooms import ADMINS
from realtime_gateway.ops.component_status import Emit, Hysteresis, PeriodicWatch

log = logging.getLogger(__name__)


@dataclass
class ServiceBeats:
    """One service: the latest verdict of each of its processes, and until when it counts (monotonic seconds)."""

    hysteresis: Hysteresis
    processes: dict[str, tuple[bool, float]] = field(default_factory=dict)
    heard_ever: bool = False

    def heard(self, beat: ServiceHeartbeat, now: float) -> None:
        self.processes[beat.instance_id] = (beat.healthy, now + beat.ttl_seconds)
        self.heard_ever = True

    def up(self, now: float) -> bool:
        """Some process said healthy, and that is still fresh; expired processes are forgotten."""
        self.processes = {i: (ok, until) for i, (ok, until) in self.processes.items() if until > now}
        return any(ok for ok, _ in self.processes.values())


def status_data(service: str, status: ComponentStatus) -> StatusData:
    params: SystemTextParams = (
        ServiceUnavailableParams(service=service) if status == "degraded" else ServiceRestoredParams(service=service)
    )
    code, values = system_text(params)
    return StatusData(component=service, status=status, message=render(code, values), changed_at=now_beijing(),
                      code=code, params=values)


class ServiceStatusWatcher(PeriodicWatch):
    """Heartbeats in (`heard`), status changes out to this gateway's admins (`check`, every `check_seconds`);
    `current()` is what an admin connecting now should be told (one `StatusData` per service not operational)."""

    def __init__(
        self, services: Sequence[str], listening: Callable[[], bool], emit: Emit, fail_after: float,
        recover_after: float, check_seconds: float, clock: Callable[[], float] = time.monotonic,
        startup_grace: float = 0.0,
    ) -> None:
        self._services = {s: ServiceBeats(Hysteresis(fail_after, recover_after)) for s in services}
        self._listening = listening
        self._emit = emit
        self._check_seconds = check_seconds
        self._clock = clock
        self._reported: dict[str, StatusData] = {}
        self._consuming = False
        self._startup_grace = startup_grace
        self._grace_until: float | None = None
        """Until when a service not heard from since this gateway started still counts as up."""

    def heard(self, beat: ServiceHeartbeat) -> None:
        service = self._services.get(beat.service)
        if service is None:
            log.debug("heartbeat of %s, which is not in GATEWAY_STATUS_SERVICES: ignored", beat.service)
            return
        service.heard(beat, self._clock())

    def statuses(self) -> dict[str, ComponentStatus]:
        """What this gateway has reported for each service (for its /health)."""
        return {name: s.hysteresis.reported for name, s in self._services.items()}

    def current(self) -> list[StatusData]:
        return [data for data in self._reported.values() if data.status != "operational"]

    async def check(self) -> None:
        now = self._clock()
        if not (self._consuming and self._listening()):
            for service in self._services.values():
                service.hysteresis.forget_pending()
            return
        if self._grace_until is None:
            self._grace_until = now + self._startup_grace
        for name, service in self._services.items():
            up = service.up(now) or (not service.heard_ever and now < self._grace_until)
            status = service.hysteresis.observe(up, now)
            if status is None:
                continue
            self._reported[name] = data = status_data(name, status)
            log.warning("service %s is %s: %s", name, status, data.message)
            await self._emit(SYSTEM_STATUS_CHANGE, data.model_dump(mode="json"), [ADMINS])

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            _envelope, beat = r.parse_domain_event(message.body)
        except ContractError as exc:
            log.info("heartbeat dropped: %s", exc)  # nothing to dead-letter: the next one says the same
            return
        if isinstance(beat, ServiceHeartbeat):
            self.heard(beat)

    async def listen(self, connection: AbstractRobustConnection, gateway_id: str) -> None:
        """Consume heartbeats on `gateway.<gateway_id>.health` (exclusive, auto-delete, no acks: a heartbeat is
        worth nothing twice; no dead-lettering either, or expired heartbeats would fill a DLQ). The robust
        connection declares and consumes it again after a broker restart."""
        channel = await connection.channel()
        await declare_exchanges(channel)
        queue = await channel.declare_queue(f"gateway.{gateway_id}.health", durable=False, exclusive=True,
                                            auto_delete=True)
        await queue.bind(HEALTH_EXCHANGE, routing_key=r.DOMAIN_EVENTS[r.HEALTH_SERVICE_HEARTBEAT].routing_key)
        await queue.consume(self._on_message, no_ack=True)
        self._consuming = True

    def on_connect(self, gateway_id: str) -> OnConnect:
        """A `Broker` on_connect hook that starts listening."""

        async def hook(connection: AbstractRobustConnection, publisher: Publisher) -> None:
            await self.listen(connection, gateway_id)

        return hook
