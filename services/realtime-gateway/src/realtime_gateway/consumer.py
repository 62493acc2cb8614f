"""Domain events from RabbitMQ -> the routing table -> this gateway's local sockets.

Each gateway process consumes its own exclusive, auto-delete queue `gateway.<gateway_id>.events`, bound to
every routing key of `routing.ROUTES`: every gateway sees every event once and emits to the sockets connected
to it, so each client gets each event once whichever gateway it is on. A message that breaks the contract
(bad JSON, unknown type, unknown major, invalid payload) is dead-lettered to the one shared durable
`gateway.events.dlq` (servicekit's ack policy), and the queue moves on.
"""

import asyncio
import logging

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.errors import ContractError
from contracts.events.registry import parse_domain_event
from servicekit.amqp import Publisher, QueueSpec, start_consumer

from realtime_gateway.dedup import RecentIds
from realtime_gateway.emitter import Emitter
from realtime_gateway.metrics import Metrics
from realtime_gateway.routing import bindings, deliveries
from realtime_gateway.typing_relay import ParticipantsCache

log = logging.getLogger(__name__)

DEAD_LETTER_KEY = "gateway.events"
"""Every gateway dead-letters with this key, into the one durable queue `gateway.events.dlq`."""


def queue_spec(gateway_id: str) -> QueueSpec:
    return QueueSpec(
        f"gateway.{gateway_id}.events", bindings(), durable=False, exclusive=True, auto_delete=True,
        dead_letter_key=DEAD_LETTER_KEY,
    )


class EventConsumer:
    def __init__(
        self, emitter: Emitter, participants: ParticipantsCache, recent: RecentIds, metrics: Metrics
    ) -> None:
        self._emitter = emitter
        self._participants = participants
        self._recent = recent
        self._metrics = metrics
        # aio-pika runs one task per delivery; taking this lock first (before any await) keeps delivery order.
        self._lock = asyncio.Lock()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        async with self._lock:
            try:
                envelope, payload = parse_domain_event(message.body)
            except ContractError:
                self._metrics.dead_lettered.inc()
                raise  # servicekit.amqp.guarded logs it once and dead-letters it
            if envelope.event_id in self._recent:
                log.debug("dropping duplicate %s %s", envelope.event_type, envelope.event_id)
                return
            self._participants.observe(payload)
            for delivery in deliveries(envelope.event_type, payload):
                await self._emitter.emit(delivery.event, delivery.data(), delivery.rooms)
            self._recent.add(envelope.event_id)

    async def start(self, connection: AbstractRobustConnection, gateway_id: str, prefetch: int) -> None:
        await start_consumer(connection, queue_spec(gateway_id), self.handle, prefetch=prefetch)

    def on_connect(self, gateway_id: str, prefetch: int):  # type: ignore[no-untyped-def]
        """A `Broker` on_connect hook that starts consuming."""

        async def hook(connection: AbstractRobustConnection, publisher: Publisher) -> None:
            await self.start(connection, gateway_id, prefetch)

        return hook
