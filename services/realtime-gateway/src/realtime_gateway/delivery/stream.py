"""The durable event log every gateway reads: the RabbitMQ stream `gateway.events.stream`.

It is bound to `notification.events` and `chat.events` with the routing table's keys, so every domain event a
service publishes is stored once, in publish order, whatever the gateways do. Each gateway consumes it live
(`delivery/consumer.py`) and reads ranges of it to replay what a reconnecting client missed (`StreamReader`).

Offsets. A message's stream offset `N` (header `x-stream-offset`) names a stream message: one domain event, or an
event batch (contracts.events.batch: several, in order). The i-th Socket.IO event the message becomes
(`routing.deliveries` of its events one after another, counted across the whole message, duplicates included) is
at position `(N, i)`, sent to clients as the string `"N"` (i == 0) or `"N.i"`, as the LAST argument of the event
(socket.io-client keeps the last string argument as `_lastOffset`). The live consumer and the replay number the
same message alike, so a position inside a batch names exactly one delivery.

Markers. A gateway that starts publishes a marker (type `gateway.stream_mark`) straight into the stream (default
exchange), so its live consumer learns a numeric position at once even when no event flows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustQueue,
)

log = logging.getLogger(__name__)

STREAM_QUEUE = "gateway.events.stream"
MARK_TYPE = "gateway.stream_mark"
SEGMENT_BYTES = 8 * 1024 * 1024
"""Small segments: retention (`x-max-age`) applies per segment, so it follows the setting closely."""

Position = tuple[int, int]
"""(stream offset, index of the delivery within that stream message)."""


def format_offset(offset: int, index: int) -> str:
    return str(offset) if index == 0 else f"{offset}.{index}"


def parse_offset(text: Any) -> Position | None:
    """`"N"` -> (N, 0), `"N.i"` -> (N, i); None for anything else (the client's value is untrusted)."""
    if not isinstance(text, str) or not 0 < len(text) <= 40:
        return None
    head, _, tail = text.partition(".")
    if not head.isdigit() or (tail and not tail.isdigit()):
        return None
    return int(head), int(tail or 0)


def stream_offset(message: AbstractIncomingMessage) -> int:
    # arg-type: aio-pika types a header as any AMQP field value; RabbitMQ sets x-stream-offset to a long.
    return int((message.headers or {})["x-stream-offset"])  # type: ignore[arg-type]


def message_time(body: bytes) -> float | None:
    """When a stored message happened (envelope `occurred_at`, a batch's first event's, marker `at`), as a Unix
    time; None if unknown."""
    try:
        data = json.loads(body)
        if isinstance(data.get("events"), list) and data["events"]:
            data = data["events"][0]
        stamp = data.get("occurred_at") or data.get("at")
        return datetime.fromisoformat(stamp).timestamp() if isinstance(stamp, str) else None
    except (ValueError, AttributeError, TypeError):
        return None


def stream_arguments(max_age_seconds: int) -> dict[str, Any]:
    return {
        "x-queue-type": "stream",
        "x-max-age": f"{max_age_seconds}s",
        "x-stream-max-segment-size-bytes": SEGMENT_BYTES,
    }


async def declare_stream(
    channel: AbstractChannel, bindings: tuple[tuple[str, str], ...], max_age_seconds: int
) -> AbstractQueue:
    queue = await channel.declare_queue(STREAM_QUEUE, durable=True, arguments=stream_arguments(max_age_seconds))
    for exchange, routing_key in bindings:
        await queue.bind(exchange, routing_key=routing_key)
    return queue


def marker(gateway_id: str) -> tuple[bytes, str]:
    """(body, message id) of a start marker."""
    body = json.dumps({"gateway_id": gateway_id, "at": datetime.now().astimezone().isoformat()}).encode()
    return body, f"mark-{uuid.uuid4()}"


@dataclass(frozen=True)
class Stored:
    offset: int
    type: str | None
    body: bytes


class StreamGap(Exception):
    """The range asked for is no longer (or not yet) in the stream."""


class StreamReader:
    """Reads `[first, last]` of the stream: one consumer per read, all on one channel of this gateway's broker
    connection (opened once, under a lock: many channels opened at once by a crowd of reconnecting clients
    break the connection)."""

    def __init__(
        self, connection: Callable[[], AbstractRobustConnection | None], prefetch: int = 500,
        wait_connected: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._connection = connection
        self._wait_connected = wait_connected
        self._prefetch = prefetch
        self._lock = asyncio.Lock()
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractRobustQueue | None = None

    async def _stream(self, timeout: float) -> AbstractRobustQueue:
        async with self._lock:
            if self._channel is None or self._channel.is_closed or self._queue is None:
                connection = self._connection()
                if connection is None and self._wait_connected is not None:
                    # A gateway that just (re)started answers handshakes while its broker link is still coming
                    # up; the clients reconnecting to it at that moment are the ones recovery exists for.
                    with contextlib.suppress(TimeoutError):
                        await self._wait_connected(timeout)
                    connection = self._connection()
                if connection is None:
                    raise ConnectionError("not connected to the message broker")
                self._channel = await connection.channel()
                await self._channel.set_qos(prefetch_count=self._prefetch)
                self._queue = await self._channel.declare_queue(STREAM_QUEUE, passive=True)
            return self._queue

    async def read(self, first: int, last: int, timeout: float) -> list[Stored]:
        """Every message with `first <= offset <= last`, in order. Raises `StreamGap` when `first` is gone
        (retention) and `TimeoutError` when the range is not all there within `timeout`."""
        got: list[Stored] = []
        done = asyncio.get_running_loop().create_future()

        async def on_message(message: AbstractIncomingMessage) -> None:
            offset = stream_offset(message)
            await message.ack()
            if done.done() or offset < first:
                return
            if not got and offset != first:
                done.set_exception(StreamGap(f"asked for offset {first}, the stream starts at {offset}"))
                return
            got.append(Stored(offset, message.type, message.body))
            if offset >= last:
                done.set_result(None)

        # The RPCs are shielded: a cancelled RPC makes aiormq close the channel, failing every other read on it.
        queue = await asyncio.shield(self._stream(timeout))
        tag = await asyncio.shield(queue.consume(on_message, arguments={"x-stream-offset": first}, robust=False))
        try:
            await asyncio.wait_for(done, timeout)
        finally:
            try:
                await asyncio.shield(queue.cancel(tag))
            except Exception as exc:  # noqa: BLE001 - the channel may be gone; nothing to cancel then
                log.debug("cancelling a stream read: %s", exc)
        return got


async def publish_marker(publish: Any, gateway_id: str) -> None:
    """`publish` is `Broker.publish`; the marker goes straight into the stream through the default exchange."""
    body, message_id = marker(gateway_id)
    await publish("", STREAM_QUEUE, body, message_id=message_id, message_type=MARK_TYPE)
