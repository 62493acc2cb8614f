"""RabbitMQ plumbing every service shares: one robust connection, the agreed topology, a publisher that waits for
the broker's confirm, and a consumer that dead-letters what can never be handled.

Queues: one durable queue per (consumer service, purpose) with its own dead-letter queue. A queue dead-letters
to ``platform.dlx`` with its own name as the routing key, and ``<queue>.dlq`` is bound to exactly that key, so each
queue's poison lands in its own DLQ.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.connection import make_url
from contracts.errors import ContractError
from contracts.events.topology import DEAD_LETTER_EXCHANGE, EXCHANGES, dead_letter_queue

from servicekit.ackbatch import AckBatch
from servicekit.event_batch import dead_letter_alone, unpacked

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker did not confirm a message (nack, timeout, or no connection). Nothing is known to be sent."""


class Poison(Exception):
    """A message that can never be handled (bad content, not a transient failure): dead-letter it."""


CONNECT_TIMEOUT = 10.0
"""Seconds one connection attempt may take, the broker's handshake included, the first and every reconnect (aio-pika
keeps the first attempt's timeout for its reconnects). Without it a reconnect to a RabbitMQ that is still booting
could wait for its handshake for half a minute (seen in the RabbitMQ fault test), while the next attempt would
have succeeded."""


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself and restores its channels, exchanges, queues and consumers
    (retrying every second: after a broker restart, services are whole again within seconds; an attempt that
    hangs gives up after `CONNECT_TIMEOUT`).

    A first attempt that fails or is cancelled closes the connection: aio-pika's own ``connect_robust`` leaves the
    connection's reconnect loop running when the attempt is cancelled (a service stopping while RabbitMQ is down),
    and nothing could stop it afterwards."""
    connection = aio_pika.RobustConnection(make_url(url, reconnect_interval=1),
                                           client_properties={"connection_name": name})
    try:
        await connection.connect(timeout=CONNECT_TIMEOUT)
    except BaseException:
        await connection.close()
        raise
    return connection


async def declare_exchanges(channel: AbstractChannel) -> dict[str, AbstractExchange]:
    """Every exchange of the platform, durable (idempotent: all services declare the same ones)."""
    return {
        name: await channel.declare_exchange(name, aio_pika.ExchangeType(kind), durable=True)
        for name, kind in EXCHANGES.items()
    }


RECOVERING_SECONDS = 30.0
"""How long after its connection reopens (a reconnect, not the first connect) a publisher treats a message the
broker cannot route as not sent (for the callers that ask: ``publish(routed_after_reconnect=True)``). Measured (RabbitMQ 3.10, a topic exchange bound to a
stream, ``rabbitmqctl start_app``): for a moment after the broker accepts connections again it routes nothing to
queues it has not recovered yet, and confirms those messages all the same; with ``mandatory`` it returns them
(NO_ROUTE) instead, so they can be sent again."""


class Publisher:
    """Persistent messages on one confirming channel. ``publish`` returns only once the broker has the message.

    ``publish(..., confirm=False)`` goes on a second channel without publisher confirms and returns once the message
    is written to the connection: for transient messages whose confirm proves nothing more (a command's reply, see
    servicekit.commands), it saves the broker's confirm and its bookkeeping per message."""

    def __init__(self, connection: AbstractRobustConnection, *, timeout: float = 5.0) -> None:
        self._connection = connection
        self._timeout = timeout
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._unconfirmed: AbstractChannel | None = None
        self._unconfirmed_exchanges: dict[str, AbstractExchange] = {}
        self._reconnected_at = float("-inf")
        """When the connection last reopened: `RECOVERING_SECONDS` after it, see ``routed_after_reconnect``."""

    def reconnected(self, *_: object) -> None:
        """The connection reopened (called by its reconnect callbacks): the broker may still be recovering."""
        self._reconnected_at = time.monotonic()

    async def start(self) -> None:
        self._connection.reconnect_callbacks.add(self.reconnected)
        self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchanges = await declare_exchanges(self._channel)
        self._unconfirmed = await self._connection.channel(publisher_confirms=False)
        self._unconfirmed_exchanges = {name: await self._unconfirmed.get_exchange(name, ensure=False)
                                       for name in self._exchanges}

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        message_type: str,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        expiration: float | None = None,
        persistent: bool = True,
        headers: Mapping[str, str] | None = None,
        confirm: bool = True,
        timeout: float | None | Literal["configured"] = "configured",
        routed_after_reconnect: bool = False,
    ) -> None:
        """``confirm=False``: see the class; a failure is still raised when the connection or channel is gone.
        ``routed_after_reconnect`` (confirmed publishes): within `RECOVERING_SECONDS` of the connection reopening,
        a message the broker cannot route is not sent (``PublishFailed``) rather than confirmed and dropped, for a
        caller that sends it again (servicekit.outbox.OutboxRelay); later, as always, an event nobody is bound to is
        not a failure of the producer.
        ``timeout``: seconds to wait for the channel, the write and the confirm (default: the publisher's); ``None``
        waits for as long as it takes, for a caller that keeps its own deadline and must not have a message give
        up its place in the channel's line while later ones go out (servicekit.outbox.OutboxRelay)."""
        wait = self._timeout if timeout == "configured" else timeout
        channel = self._channel if confirm else self._unconfirmed
        if channel is None:
            raise RuntimeError("Publisher.start() was not awaited")
        exchanges = self._exchanges if confirm else self._unconfirmed_exchanges
        target = exchanges.get(exchange) if exchange else channel.default_exchange
        if target is None:
            raise ValueError(f"unknown exchange {exchange!r}")
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT if persistent else aio_pika.DeliveryMode.NOT_PERSISTENT,
            message_id=message_id,
            type=message_type,
            correlation_id=correlation_id,
            reply_to=reply_to,
            expiration=expiration,
            headers=dict(headers) if headers else None,
        )
        try:
            await target.publish(message, routing_key, mandatory=self._must_route(confirm, routed_after_reconnect),
                                 timeout=wait)
        except TimeoutError as exc:
            raise PublishFailed(f"no confirm within {wait}s for {message_type} {message_id}") from exc
        except aio_pika.exceptions.PublishError as exc:  # returned: only when mandatory, while recovering
            raise PublishFailed(f"broker could not route {message_type} {message_id} yet (its queues are still "
                                f"recovering after the reconnect): {exc}") from exc
        except aio_pika.exceptions.DeliveryError as exc:
            raise PublishFailed(f"broker refused {message_type} {message_id}: {exc}") from exc
        except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
            raise PublishFailed(f"broker unreachable for {message_type} {message_id}: {exc}") from exc


    def _must_route(self, confirm: bool, routed_after_reconnect: bool) -> bool:
        """mandatory: only while the broker may still be recovering its queues, for a caller that asked. Otherwise
        an event nobody has subscribed to yet is not a failure of the producer."""
        return (confirm and routed_after_reconnect
                and time.monotonic() - self._reconnected_at < RECOVERING_SECONDS)


@dataclass(frozen=True)
class QueueSpec:
    """A queue, what it is bound to, and how it behaves."""

    name: str
    bindings: tuple[tuple[str, str], ...]
    durable: bool = True
    exclusive: bool = False
    auto_delete: bool = False
    quorum: bool = False
    delivery_limit: int = 20
    """Quorum queues only: after this many deliveries a message is dead-lettered (bounds retries of a bug)."""
    max_failures: int | None = None
    """Classic queues (no delivery count of the broker's): the consumer dead-letters a message after this many failed
    attempts in this process, counted by message id (see ``guarded``); ``None``: retried as long as it fails."""
    extra_arguments: dict[str, Any] = field(default_factory=dict)
    dead_letter_key: str | None = None
    """Dead-letter with this routing key into ``<dead_letter_key>.dlq`` instead of ``<name>.dlq``: lets queues with
    throwaway names (one per gateway process) share one durable DLQ."""

    @property
    def dead_letter_routing_key(self) -> str:
        return self.dead_letter_key or self.name


async def declare_queue(channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
    """Declare ``spec`` with its dead-letter queue and bindings (exchanges must exist: see declare_exchanges)."""
    dl_key = spec.dead_letter_routing_key
    dlq = await channel.declare_queue(dead_letter_queue(dl_key), durable=True)
    await dlq.bind(DEAD_LETTER_EXCHANGE, routing_key=dl_key)
    arguments: dict[str, Any] = {
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": dl_key,
        **spec.extra_arguments,
    }
    if spec.quorum:
        arguments |= {"x-queue-type": "quorum", "x-delivery-limit": spec.delivery_limit}
    queue = await channel.declare_queue(
        spec.name, durable=spec.durable, exclusive=spec.exclusive, auto_delete=spec.auto_delete,
        arguments=arguments,
    )
    for exchange, routing_key in spec.bindings:
        await queue.bind(exchange, routing_key=routing_key)
    return queue


MessageHandler = Callable[[AbstractIncomingMessage], Awaitable[None]]


def requeue_delay(attempt: int) -> float:
    """Seconds before the next attempt of a delivery that failed its `attempt`-th time (0-based): 0.2 s doubling,
    capped at 5 s (``guarded``'s default; a command of a batch retried alone waits the same)."""
    return min(0.2 * 2**attempt, 5.0)


def guarded(
    handler: MessageHandler, *, queue: str, retry_delay: Callable[[int], float] | None = None,
    max_failures: int | None = None, acks: AckBatch | None = None, dead_letter_key: str | None = None,
    delivery_limit: int | None = None,
) -> MessageHandler:
    """Wrap ``handler`` with the platform's one ack policy.

    - returns normally: ack.
    - raises ``ContractError`` or ``Poison``: the message can never be handled; log once, dead-letter it.
    - raises anything else: a transient failure (database restarting, ...); wait a little, then requeue it.
      On quorum queues the broker's delivery limit bounds these retries and dead-letters the rest.
      With ``max_failures`` (classic queues, whose broker counts nothing), this consumer counts the failed attempts
      of each message id and dead-letters the message at the ``max_failures``-th; the count lives in this process
      (a message that kills the process is bounded by its TTL instead) and also paces the backoff.

    An event batch (``servicekit.event_batch``) reaches ``handler`` event by event, in order, and is acked once all
    are handled. An event that can never be handled (or fails ``max_failures`` times, or is on its quorum queue's
    last delivery: ``delivery_limit``) is dead-lettered ALONE: published to ``platform.dlx`` with ``dead_letter_key``
    (default: ``queue``), its neighbours handled as usual. A transient failure requeues the whole batch; on its
    redelivery the events handled before it are duplicates, dropped by ``event_id`` like any redelivery.

    With ``acks``, the acks of deliveries finishing together go out as one (``servicekit.ackbatch``).
    """
    delay = retry_delay or requeue_delay
    failures = _FailureCount() if max_failures is not None else None
    dl_key = dead_letter_key or queue

    def failed_attempt(message: AbstractIncomingMessage, counted: AbstractIncomingMessage) -> tuple[int, bool]:
        """(0-based attempt, whether it was the last one allowed) of a transient failure of `counted` (the message,
        or one event of it), delivered as `message`."""
        if failures is not None and max_failures is not None and counted.message_id:
            attempt = failures.add(counted.message_id) - 1
            return attempt, attempt + 1 >= max_failures
        count = (message.headers or {}).get("x-delivery-count")  # a number, set by quorum queues
        attempt = int(count or 0) if isinstance(count, (int, float, str)) else 0
        return attempt, delivery_limit is not None and counted is not message and attempt + 1 >= delivery_limit

    async def on_message(message: AbstractIncomingMessage) -> None:
        try:
            events = unpacked(message)
        except ContractError as exc:  # a batch nothing can be read from: dead-letter it whole
            log.warning("dead-lettering %s %s from %s: %s", message.type, message.message_id, queue, exc)
            await _settle(message, acks, requeue=False)
            return
        if len(events) == 1 and events[0] is message:
            await one(message)
        else:
            await batch(message, events)

    async def one(message: AbstractIncomingMessage) -> None:
        try:
            # Shielded: when the channel closes, aio-pika cancels in-flight deliveries; a handler cancelled in the
            # middle of a database transaction can strand its connection "idle in transaction" with its locks
            # held. It finishes instead (the broker redelivers the unacked message; handlers are idempotent).
            await asyncio.shield(handler(message))
        except (ContractError, Poison) as exc:
            log.warning(
                "dead-lettering %s %s from %s: %s", message.type, message.message_id, queue, exc,
            )
            if failures is not None:
                failures.forget(message.message_id)
            await _settle(message, acks, requeue=False)
        except asyncio.CancelledError:
            await _settle(message, acks, requeue=True)
            raise
        except Exception:
            attempt, last = failed_attempt(message, message)
            if last and failures is not None:
                log.exception("handling %s %s from %s failed %d times; dead-lettering it",
                              message.type, message.message_id, queue, attempt + 1)
                failures.forget(message.message_id)
                await _settle(message, acks, requeue=False)
                return
            log.exception(
                "handling %s %s from %s failed (attempt %d); requeueing",
                message.type, message.message_id, queue, attempt + 1,
            )
            await asyncio.sleep(delay(attempt))
            await _settle(message, acks, requeue=True)
        else:
            if failures is not None:
                failures.forget(message.message_id)
            await (acks.ack(message) if acks is not None else message.ack())

    async def batch(message: AbstractIncomingMessage, events: list[AbstractIncomingMessage]) -> None:
        for position, event in enumerate(events):
            try:
                try:
                    await asyncio.shield(handler(event))  # shielded: see `one`
                except (ContractError, Poison) as exc:
                    await dead_letter(message, event, position, len(events), str(exc))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    attempt, last = failed_attempt(message, event)
                    if not last:
                        raise
                    log.exception("handling %s %s (event %d of %d of batch %s) from %s failed %d times",
                                  event.type, event.message_id, position + 1, len(events), message.message_id,
                                  queue, attempt + 1)
                    await dead_letter(message, event, position, len(events), f"failed {attempt + 1} times")
                else:
                    if failures is not None:
                        failures.forget(event.message_id)
            except asyncio.CancelledError:
                await _settle(message, acks, requeue=True)
                raise
            except Exception:
                attempt = failures.add(f"batch:{message.message_id}") - 1 if failures is not None else 0
                log.exception("handling %s %s (event %d of %d of batch %s) from %s failed; requeueing the batch",
                              event.type, event.message_id, position + 1, len(events), message.message_id, queue)
                await asyncio.sleep(delay(attempt))
                await _settle(message, acks, requeue=True)
                return
        if failures is not None:
            failures.forget(f"batch:{message.message_id}")
        await (acks.ack(message) if acks is not None else message.ack())

    async def dead_letter(
        message: AbstractIncomingMessage, event: AbstractIncomingMessage, position: int, size: int, reason: str,
    ) -> None:
        log.warning("dead-lettering %s %s alone (event %d of %d of batch %s) from %s: %s",
                    event.type, event.message_id, position + 1, size, message.message_id, queue, reason)
        await dead_letter_alone(message, event, DEAD_LETTER_EXCHANGE, dl_key, reason)
        if failures is not None:
            failures.forget(event.message_id)

    return on_message


class _FailureCount:
    """Failed attempts per message id, for the ids that failed lately (the oldest forgotten past ``keep``)."""

    def __init__(self, keep: int = 10_000) -> None:
        self._counts: dict[str, int] = {}
        self._keep = keep

    def add(self, message_id: str) -> int:
        count = self._counts.pop(message_id, 0) + 1
        self._counts[message_id] = count
        if len(self._counts) > self._keep:
            del self._counts[next(iter(self._counts))]
        return count

    def forget(self, message_id: str | None) -> None:
        if message_id and self._counts:
            self._counts.pop(message_id, None)


async def _settle(message: AbstractIncomingMessage, acks: AckBatch | None, *, requeue: bool) -> None:
    """Reject (dead-letter) or requeue ``message`` on its own, and tell ``acks`` it is settled."""
    if requeue:
        await _requeue_quietly(message)
    else:
        await message.reject(requeue=False)
    if acks is not None:
        acks.settled(message)


async def _requeue_quietly(message: AbstractIncomingMessage) -> None:
    try:
        await message.nack(requeue=True)
    except Exception:  # noqa: BLE001 (the channel is gone: the broker requeues unacked messages itself)
        log.debug("could not nack %s; the broker will redeliver it", message.message_id)


async def start_consumer(
    connection: AbstractRobustConnection,
    spec: QueueSpec,
    handler: MessageHandler,
    *,
    prefetch: int = 32,
    batch_acks: bool = False,
) -> AbstractQueue:
    """Open a channel, declare exchanges + ``spec``, and consume it with ``guarded(handler)`` (with ``batch_acks``,
    the acks of deliveries finishing together go out as one: ``servicekit.ackbatch``).

    The robust connection re-declares and re-consumes after a broker restart."""
    channel = await connection.channel(publisher_confirms=True)  # confirms: an event dead-lettered alone (batches)
    await channel.set_qos(prefetch_count=prefetch)
    await declare_exchanges(channel)
    queue = await declare_queue(channel, spec)
    acks = AckBatch() if batch_acks else None
    await queue.consume(guarded(handler, queue=spec.name, max_failures=spec.max_failures, acks=acks,
                                dead_letter_key=spec.dead_letter_routing_key,
                                delivery_limit=spec.delivery_limit if spec.quorum else None))
    return queue


def bindings(exchange: str, routing_keys: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple((exchange, key) for key in routing_keys)
