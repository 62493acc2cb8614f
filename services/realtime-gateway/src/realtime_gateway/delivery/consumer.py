"""Domain events from RabbitMQ -> the routing table -> this gateway's local sockets.

Two inputs, handled in order under one lock:
- the durable stream `gateway.events.stream` (`delivery/stream.py`): every domain event of `notification.events` and
  `chat.events`, consumed from `next` at start. The consumer arguments dict is kept up to date with the next
  offset, so when the robust connection re-consumes after a broker outage it resumes exactly where it stopped
  (nothing missed, nothing twice). Each Socket.IO event carries its stream position as the last argument.
- its own exclusive, auto-delete queue `gateway.<gateway_id>.events`, bound to the transient relays between
  gateways on `gateway.presence` (`gateway.chat_typing`): emitted without an offset (never replayed).

A stream message may be an event batch (contracts.events.batch: several events of one routing key, published
together by a service's outbox relay): its events are handled in order, and its Socket.IO deliveries are numbered
across the whole message (`delivery/stream.py`, Offsets), so each position names one delivery.

Upstream is at-least-once: duplicates are dropped by `event_id`. A message that breaks the contract (bad JSON,
unknown type, unknown major, invalid payload) is dead-lettered to the one shared durable `gateway.events.dlq`:
by the broker for the relay queue (servicekit's ack policy), by publishing a copy for the stream (streams keep
every message and cannot dead-letter), and the consumer moves on.
"""

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.errors import ContractError
from contracts.events.batch import event_bodies, event_names
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import parse_domain_event
from contracts.events.topology import DEAD_LETTER_EXCHANGE, PRESENCE_EXCHANGE
from pydantic import BaseModel
from servicekit.amqp import Publisher, QueueSpec, declare_exchanges, start_consumer
from servicekit.logcontext import bind

from realtime_gateway.clients.typing_relay import ParticipantsCache
from realtime_gateway.delivery.dedup import RecentIds
from realtime_gateway.delivery.emitter import Emitter
from realtime_gateway.delivery.routing import bindings, deliveries
from realtime_gateway.delivery.stream import (
    MARK_TYPE,
    declare_stream,
    format_offset,
    publish_marker,
    stream_offset,
)
from realtime_gateway.ops.metrics import Labelled, Metrics

log = logging.getLogger(__name__)

DEAD_LETTER_KEY = "gateway.events"
"""Every gateway dead-letters with this key, into the one durable queue `gateway.events.dlq`."""


def stream_bindings() -> tuple[tuple[str, str], ...]:
    """Domain events the stream stores: every routed key except the gateways' own relays."""
    return tuple((exchange, key) for exchange, key in bindings() if exchange != PRESENCE_EXCHANGE)


def relay_bindings() -> tuple[tuple[str, str], ...]:
    return tuple((exchange, key) for exchange, key in bindings() if exchange == PRESENCE_EXCHANGE)


def queue_spec(gateway_id: str) -> QueueSpec:
    return QueueSpec(
        f"gateway.{gateway_id}.events", relay_bindings(), durable=False, exclusive=True, auto_delete=True,
        dead_letter_key=DEAD_LETTER_KEY,
    )


def named_by(body: bytes) -> tuple[str | None, str | None]:
    """Best effort, for the dead-letter copy of an event that failed validation: its `event_id` and `event_type`."""
    try:
        event_id, event_type = event_names(json.loads(body))
    except ValueError:
        return None, None
    return (event_id[:64] if event_id else None, event_type[:128] if event_type else None)


class EventConsumer:
    def __init__(
        self, emitter: Emitter, participants: ParticipantsCache, recent: RecentIds, metrics: Metrics
    ) -> None:
        self._emitter = emitter
        self._participants = participants
        self._recent = recent
        self._metrics = metrics
        self._delivery_seconds = Labelled(metrics.delivery_seconds)
        # aio-pika runs one task per delivery; taking this lock first (before any await) keeps delivery order.
        self._lock = asyncio.Lock()
        self._stream_arguments: dict[str, Any] = {"x-stream-offset": "next"}
        self._publisher: Publisher | None = None
        self.started: int | None = None
        """Highest stream offset whose emission has begun (a recovering socket is held from here on)."""
        self.finished: int | None = None
        """Highest stream offset fully emitted."""
        self.position_known = asyncio.Event()
        """Set once the first stream message (at least this gateway's start marker) arrived."""
        self.advanced = asyncio.Event()
        """Set at every stream offset (waiters clear it)."""
        self.duplicate_events: deque[tuple[int, int]] = deque(maxlen=1000)
        """Recent events dropped as duplicates, as (stream offset, index of the event in its message): a replay skips
        them too."""
        self._ack_every = 32
        """Stream acks are batched (see `_settle`): at most this many handled messages go unacknowledged."""
        self._ack_channel: object = None
        self._unacked_count = 0

    async def handle(self, message: AbstractIncomingMessage) -> None:
        """The relay queue (typing): no offset."""
        async with self._lock:
            try:
                envelope, payload = parse_domain_event(message.body)
            except ContractError:
                self._metrics.dead_lettered.inc()
                raise  # servicekit.amqp.guarded logs it once and dead-letters it
            await self._deliver(envelope, payload, None, 0, 0)

    async def handle_stream(self, message: AbstractIncomingMessage) -> None:
        offset = stream_offset(message)
        try:
            async with self._lock:
                if self.started is not None and offset <= self.started:
                    return  # seen before a reconnect
                self.started = offset
                try:
                    if message.type != MARK_TYPE:
                        await self._stream_event(offset, message)
                except Exception:
                    log.exception("emitting stream offset %d (%s) failed", offset, message.type)
                finally:
                    self.finished = offset
                    self._stream_arguments["x-stream-offset"] = offset + 1
                    self.position_known.set()
                    self.advanced.set()
        finally:
            await self._settle(message)

    async def _settle(self, message: AbstractIncomingMessage) -> None:
        """Acknowledge handled stream messages in batches: every `_ack_every`-th one with a multiple `basic.ack`
        (which covers every message of its channel up to it; all were handled before it, in order). A stream ack
        only returns credit: the stream keeps every message, nothing is redelivered, and where to resume after a
        reconnect is the consumer's offset argument. With at most half the prefetch unacknowledged, the broker
        never runs out of credit for this consumer."""
        if message.channel is not self._ack_channel:  # a new channel after a reconnect: its own delivery tags
            self._ack_channel, self._unacked_count = message.channel, 0
        self._unacked_count += 1
        if self._unacked_count < self._ack_every:
            return
        self._unacked_count = 0
        try:
            await message.ack(multiple=True)
        except Exception as exc:  # noqa: BLE001 - channel gone: the re-consume starts after the last offset
            log.debug("could not ack stream delivery %s: %s", message.delivery_tag, exc)

    async def _stream_event(self, offset: int, message: AbstractIncomingMessage) -> None:
        """The events of one stream message (one, or an event batch), in order; a bad one is dead-lettered alone."""
        try:
            bodies = event_bodies(message.type, message.body)
        except ContractError as exc:  # a batch nothing can be read from
            self._metrics.dead_lettered.inc()
            log.warning("dead-lettering %s %s (stream offset %d): %s", message.type, message.message_id, offset, exc)
            await self._dead_letter(message.body, message.message_id, message.type)
            return
        first_index = 0
        for event_index, body in enumerate(bodies):
            try:
                envelope, payload = parse_domain_event(body)
            except ContractError as exc:
                self._metrics.dead_lettered.inc()
                log.warning("dead-lettering %s %s (stream offset %d, event %d of %d): %s", message.type,
                            message.message_id, offset, event_index + 1, len(bodies), exc)
                if len(bodies) == 1:
                    await self._dead_letter(body, message.message_id, message.type)
                else:  # one event of a batch: its copy is named by its own id and type where they can be read
                    await self._dead_letter(body, *named_by(body))
                continue
            first_index += await self._deliver(envelope, payload, offset, first_index, event_index)

    async def _deliver(
        self, envelope: EventEnvelope, payload: BaseModel, offset: int | None, first_index: int, event_index: int,
    ) -> int:
        """Emit the deliveries of one event, numbered from `first_index` within its stream message; returns how many
        it has (counted for a duplicate too, which emits nothing: positions depend on the message alone)."""
        event_id, event_type = envelope.event_id, envelope.event_type
        planned = deliveries(event_type, payload)
        with bind(request_id=envelope.request_id, event_id=str(event_id), correlation_id=envelope.correlation_id,
                  session_id=envelope.aggregate_id if envelope.event_type.startswith("chat.") else None):
            if event_id in self._recent:
                log.debug("dropping duplicate %s %s", event_type, event_id)
                if offset is not None:
                    self.duplicate_events.append((offset, event_index))
                return len(planned)
            self._participants.observe(payload)
            emitted: list[str] = []
            for index, delivery in enumerate(planned, start=first_index):
                position = None if offset is None else format_offset(offset, index)
                await self._emitter.emit(delivery.event, delivery.data(), delivery.rooms, position)
                emitted.append(delivery.event)
            self._recent.add(event_id)
            if offset is not None:  # a domain event (the typing relays are transient and many: not logged)
                latency = time.time() - envelope.occurred_at.timestamp()
                self._delivery_seconds(event_type).observe(max(0.0, latency))
                if log.isEnabledFor(logging.INFO):
                    log.info("delivered %s as %s", event_type, ",".join(emitted) or "nothing",
                             extra={"stream_offset": offset, "latency_ms": round(latency * 1000, 1)})
            return len(planned)

    async def _dead_letter(self, body: bytes, message_id: str | None, message_type: str | None) -> None:
        """A copy of `body` (a whole message, or one event of a batch alone) into `gateway.events.dlq`."""
        if self._publisher is None:
            return
        try:
            await self._publisher.publish(
                DEAD_LETTER_EXCHANGE, DEAD_LETTER_KEY, body,
                message_id=message_id or "unknown", message_type=message_type or "unknown",
            )
        except Exception as exc:  # noqa: BLE001 - a broker hiccup must not stop the stream
            log.warning("could not dead-letter %s: %s", message_id, exc)

    async def start(
        self, connection: AbstractRobustConnection, publisher: Publisher, gateway_id: str, prefetch: int,
        stream_max_age_seconds: int,
    ) -> None:
        self._publisher = publisher
        self._ack_every = max(1, prefetch // 2)
        await start_consumer(connection, queue_spec(gateway_id), self.handle, prefetch=prefetch)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)  # streams need a prefetch and manual acks
        await declare_exchanges(channel)
        stream = await declare_stream(channel, stream_bindings(), stream_max_age_seconds)
        # The same dict is kept by the robust queue and re-sent on re-consume: it always names the next offset.
        await stream.consume(self.handle_stream, arguments=self._stream_arguments)
        await publish_marker(publisher.publish, gateway_id)

    def on_connect(
        self, gateway_id: str, prefetch: int, stream_max_age_seconds: int
    ) -> Callable[[AbstractRobustConnection, Publisher], Awaitable[None]]:
        """A `Broker` on_connect hook that starts consuming."""

        async def hook(connection: AbstractRobustConnection, publisher: Publisher) -> None:
            await self.start(connection, publisher, gateway_id, prefetch, stream_max_age_seconds)

        return hook
