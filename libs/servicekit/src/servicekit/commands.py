"""Request/reply commands over RabbitMQ: the gateway asks, the owning service answers.

The caller publishes a ``CommandMessage`` to ``platform.commands`` with ``reply_to`` = RabbitMQ's direct reply-to
(``amq.rabbitmq.reply-to``: the reply comes straight back to the caller's channel, no reply queue), ``correlation_id``
= the command id and an expiration equal to its timeout (a command nobody took in time is dropped by the broker
instead of being carried out after the caller gave up). The service runs the command's handler and publishes a
``CommandReply`` to ``reply_to`` without waiting for the broker's confirm: the reply leaves on the connection before
the command's ack, so a connection lost before both are out gets the command delivered again (a handler answers it
again, from its idempotency key where it has one); a reply the broker drops after taking it was as lost with a
confirm, and the caller times out.

Each service takes its commands from ``<service>.commands.classic``: a durable classic queue (queue version 2)
holding transient messages, ~0.4 ms of broker CPU per command. A command is only worth its caller's timeout (its
TTL), so the queue keeps nothing across a broker restart: a command queued or being carried out when the broker
crashes is lost with it, and its caller is answered ``unavailable`` at once (its channel closed) or ``timeout``;
the command was not carried out, or was and its reply was lost (as before). The quorum queue ``<service>.commands``
used before kept such commands across a restart of the broker (a quorum queue writes every message to its log,
transient or not), at ~1 ms per command, for callers whose timeout was mostly over by the time the broker was
back: told ``unavailable``, they could see the command carried out afterwards. What bounds the retries of a command
whose handler keeps failing: the consumer dead-letters it at its ``COMMAND_MAX_FAILURES``-th failure (counted in
the process by command id: classic queues count no deliveries); a command that kills its process is dropped by the
broker once its TTL is past (an expiry counted from its publication, kept across requeues). The acks of commands
answered together go out as one (``servicekit.ackbatch``). At start the service unbinds the old quorum queue and
deletes it once empty and unused (``retire_quorum_queue``).

Commands issued together, and replies finished together, may share one AMQP message (``servicekit.command_batch``):
a command of a batch is carried out, retried (here, with the same backoff), dead-lettered (alone, at its
``COMMAND_MAX_FAILURES``-th failure) and expired (dead-lettered once its TTL, counted from the batch's delivery, is
past while it is retried) on its own; the
batch's message is acked once every command in it is settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import aio_pika
import aiormq
from aio_pika import ExchangeType
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError
from contracts.errors import ContractError
from contracts.events.commands import (
    ACCEPTS_REPLY_BATCH_HEADER,
    COMMAND_BATCH_TYPE,
    COMMAND_ROUTING_KEYS,
    REPLY_BATCH_TYPE,
    CommandBatch,
    CommandMessage,
    CommandName,
    CommandReply,
    CommandReplyBatch,
)
from contracts.events.topology import (
    COMMANDS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    EXCHANGES,
    dead_letter_queue,
    queue_name,
)
from contracts.identity import Principal
from contracts.socketio.ack import INTERNAL, INVALID_PAYLOAD, TIMEOUT, UNAVAILABLE
from contracts.time import now_beijing
from pydantic import BaseModel, ValidationError

from servicekit.amqp import Poison, Publisher, QueueSpec, requeue_delay, start_consumer
from servicekit.command_batch import MalformedBatch, MalformedCommand, ReplyCoalescer, parse_batch
from servicekit.errors import DomainError, ack_code
from servicekit.logcontext import bind, request_id, valid_request_id

log = logging.getLogger(__name__)

COMMAND_MAX_FAILURES = 5
"""A command whose handler failed this many times in a process (a transient error every time) is dead-lettered to
``<queue>.dlq``; its caller has its ``timeout`` long before (the quorum queue's delivery limit was 5 too)."""


def issued_too_long_ago(command: CommandMessage, ttl_ms: int) -> bool:
    """A command of a batch whose TTL, counted from its ``issued_at`` (the caller's clock), is past: its caller has
    given up. The broker drops only the batch messages still queued past their TTL; a batch holds up to
    ``GATEWAY_COMMAND_BATCH_MAX`` commands, so the consumer's prefetch (32 messages) can hold far more commands than
    before, and an overloaded service would carry out thousands after their callers were told ``timeout``. A clock
    of the caller's off by a second lengthens or shortens the TTL by as much (the hosts keep NTP time)."""
    return now_beijing() - command.issued_at > timedelta(milliseconds=ttl_ms)


def command_queue(service: str) -> str:
    """The queue ``service`` takes its commands from: a durable classic queue of transient messages."""
    return queue_name(service, "commands.classic")


def quorum_command_queue(service: str) -> str:
    """The quorum queue commands went through before ``command_queue``: retired at start (``retire_quorum_queue``)."""
    return queue_name(service, "commands")

REQUEST_ID_HEADER = "x-request-id"
"""AMQP header of a command: the request id bound where it was sent (`servicekit.logcontext`), bound again in
the service that carries it out, so the events it causes carry it too."""


class CommandFailed(Exception):
    """Raised by a handler (or mapped from a domain error) to answer with ``{ok: false, error}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


CommandHandler = Callable[[Principal, Any, CommandMessage], Awaitable[BaseModel | dict[str, Any]]]
"""``handler(principal, typed_payload, command) -> result``; raise ``CommandFailed`` for a refusal."""

ErrorMapper = Callable[[Exception], CommandFailed | None]
"""Turns an exception into a ``CommandFailed``; ``None`` means "not a refusal" (treated as transient)."""


def refusal(exc: Exception) -> CommandFailed | None:
    """Every service's ``DomainError`` -> the command's error reply, here and nowhere else: the ack code of its
    status class (``servicekit.errors.ack_code``) and its message. Anything else is transient (requeued)."""
    if isinstance(exc, DomainError):
        return CommandFailed(ack_code(exc), exc.message)
    return None


async def serve_commands(
    connection: AbstractRobustConnection,
    publisher: Publisher,
    *,
    service: str,
    handlers: Mapping[CommandName, CommandHandler],
    map_error: ErrorMapper = refusal,
) -> None:
    """Consume ``<service>.commands`` (bound to the handled commands' routing keys) and answer each command."""

    async def send_reply(reply_to: str, body: bytes, message_type: str, correlation_id: str | None) -> None:
        await publisher.publish("", reply_to, body, message_id=correlation_id or uuid4().hex,
                                message_type=message_type, correlation_id=correlation_id, persistent=False,
                                confirm=False)

    replies = ReplyCoalescer(send_reply)

    async def reply(message: AbstractIncomingMessage, answer: CommandReply) -> None:
        if not message.reply_to:
            return
        correlation_id = str(answer.command_id)
        if (message.headers or {}).get(ACCEPTS_REPLY_BATCH_HEADER) or message.type == COMMAND_BATCH_TYPE:
            await replies.send(message.reply_to, answer, correlation_id)
        else:  # a caller of an earlier version: one reply message per command, as it reads them
            await send_reply(message.reply_to, answer.to_bytes(), "command.reply", message.correlation_id)

    async def on_command(message: AbstractIncomingMessage) -> None:
        if message.type == COMMAND_BATCH_TYPE:
            await on_batch(message)
            return
        try:
            command = CommandMessage.model_validate_json(message.body)
        except ValidationError as exc:
            raise Poison(f"not a command message: {exc.errors()[0]['msg']}") from exc
        sent_id = (message.headers or {}).get(REQUEST_ID_HEADER)
        with bind(request_id=valid_request_id(sent_id if isinstance(sent_id, str) else None),
                  correlation_id=str(command.command_id), user_id=command.principal.user_id):
            await handle(message, command)

    async def on_batch(message: AbstractIncomingMessage) -> None:
        """Each command of the batch carried out as a single one would be, side by side; the batch's message is
        acked (by ``guarded``) once every command in it is answered, dead-lettered alone or expired."""
        received = asyncio.get_running_loop().time()
        try:
            batch = parse_batch(message.body)
        except MalformedBatch as exc:
            raise Poison(str(exc)) from exc
        deadline = received + batch.ttl_ms / 1000
        outcomes = await asyncio.gather(*(carry_out(message, item, batch.request_ids, batch.ttl_ms, deadline)
                                          for item in batch.commands), return_exceptions=True)
        for outcome in outcomes:  # only a dead-letter the broker did not confirm: the whole batch again, once all
            if isinstance(outcome, BaseException):  # are done (its answered commands answer from idempotency)
                raise outcome

    async def carry_out(message: AbstractIncomingMessage, item: CommandMessage | MalformedCommand,
                        request_ids: Mapping[str, str], ttl_ms: int, deadline: float) -> None:
        if isinstance(item, MalformedCommand):
            log.warning("malformed command %s in batch %s: %s", item.command_id, message.message_id, item.reason)
            if item.command_id is not None:
                await reply(message, CommandReply.failure(item.command_id, INVALID_PAYLOAD, item.reason))
            return
        command = item
        with bind(request_id=valid_request_id(request_ids.get(str(command.command_id))),
                  correlation_id=str(command.command_id), user_id=command.principal.user_id):
            if issued_too_long_ago(command, ttl_ms):
                log.warning("command %s %s of batch %s expired before it was carried out (issued at %s, TTL %d ms); "
                            "dead-lettering it", command.command, command.command_id, message.message_id,
                            command.issued_at.isoformat(), ttl_ms)
                await dead_letter(command, "expired")
                return
            await retried_alone(message, command, deadline)

    async def retried_alone(message: AbstractIncomingMessage, command: CommandMessage, deadline: float) -> None:
        """A transient failure of one command of a batch retries that command alone, here, with the backoff of a
        requeued single command (``servicekit.amqp.guarded``), until it is answered, its ``COMMAND_MAX_FAILURES``-th
        failure dead-letters it alone, or its TTL is past (dead-lettered as expired, as the broker dead-letters an
        expired single one)."""
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            try:
                await handle(message, command)
                return
            except (ContractError, Poison) as exc:  # can never be carried out: dead-lettered at once, as a single one
                log.warning("dead-lettering command %s %s of batch %s: %s",
                            command.command, command.command_id, message.message_id, exc)
                await dead_letter(command, "rejected")
                return
            except Exception:
                failures += 1
                if failures >= COMMAND_MAX_FAILURES:
                    log.exception("command %s %s of batch %s failed %d times; dead-lettering it alone",
                                  command.command, command.command_id, message.message_id, failures)
                    await dead_letter(command, "max_failures")
                    return
                log.exception("command %s %s of batch %s failed (attempt %d); retrying it alone",
                              command.command, command.command_id, message.message_id, failures)
            await asyncio.sleep(requeue_delay(failures - 1))
            if loop.time() >= deadline:
                log.warning("command %s %s of batch %s expired while retried (its caller gave up); dead-lettering it",
                            command.command, command.command_id, message.message_id)
                await dead_letter(command, "expired")
                return

    async def dead_letter(command: CommandMessage, reason: str) -> None:
        """The command alone, as a single command message, into ``<queue>.dlq`` (confirmed before the batch's ack),
        ``reason`` in its header ``x-dead-letter-reason`` (max_failures, rejected, expired)."""
        await publisher.publish(DEAD_LETTER_EXCHANGE, command_queue(service), command.to_bytes(),
                                message_id=str(command.command_id), message_type=f"command.{command.command}",
                                persistent=True, headers={"x-dead-letter-reason": reason})

    async def handle(message: AbstractIncomingMessage, command: CommandMessage) -> None:
        handler = handlers.get(command.command)
        try:
            if handler is None:
                raise CommandFailed(INVALID_PAYLOAD, f"{service} does not handle {command.command}")
            try:
                payload = command.typed_payload()
            except ContractError as exc:
                raise CommandFailed(INVALID_PAYLOAD, str(exc)) from exc
            try:
                result = await handler(command.principal, payload, command)
            except CommandFailed:
                raise
            except Exception as exc:
                mapped = map_error(exc)
                if mapped is None:
                    raise
                raise mapped from exc
        except CommandFailed as failure:
            log.info("command %s %s by %s refused: %s %s", command.command, command.command_id,
                     command.principal.user_id, failure.code, failure.message)
            await reply(message, CommandReply.failure(command.command_id, failure.code, failure.message))
            return
        log.info("command %s %s by %s done", command.command, command.command_id, command.principal.user_id)
        await reply(message, CommandReply.success(command.command_id, result))

    routing_keys = tuple(COMMAND_ROUTING_KEYS[name] for name in handlers)
    spec = QueueSpec(command_queue(service), tuple((COMMANDS_EXCHANGE, k) for k in routing_keys),
                     extra_arguments={"x-queue-version": 2}, max_failures=COMMAND_MAX_FAILURES)
    await start_consumer(connection, spec, on_command, batch_acks=True)
    await retire_quorum_queue(connection, service, routing_keys)


async def retire_quorum_queue(connection: AbstractRobustConnection, service: str, routing_keys: Iterable[str]) -> None:
    """Move off the quorum queue ``<service>.commands`` of earlier versions, once its classic successor is consumed.

    Unbinds it from the handled commands first (commands stop going to both queues), then deletes it only if it is
    empty and nobody consumes it (processes of the previous version still serving it during a rolling upgrade drain
    it first), and its dead-letter queue only if that is empty and unused too (dead-lettered commands stay for
    whoever reads them). Logs what it did; what it kept is tried again at the next start. An old process whose
    connection comes back binds its queue again: commands then reach both queues (answered once per command id by
    idempotent handlers) until a start of this version unbinds it again. Never fails the start."""
    old = quorum_command_queue(service)
    channel: AbstractChannel = await connection.channel()
    try:
        try:
            queue = await channel.declare_queue(old, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            log.debug("no quorum queue %s to retire", old)
            return
        for key in routing_keys:
            await queue.unbind(COMMANDS_EXCHANGE, routing_key=key)
        # Quorum queues refuse queue.delete's if-unused / if-empty (NOT_IMPLEMENTED, which closes the connection):
        # checked by a passive declare once unbound instead (nothing new reaches the queue from then on).
        declared = (await channel.declare_queue(old, passive=True)).declaration_result
        if declared.message_count or declared.consumer_count:
            log.warning("kept the quorum queue %s (%s messages, %s consumers: processes of the previous version still "
                        "serving it); unbound from the commands, deleted at a later start once empty and unused",
                        old, declared.message_count, declared.consumer_count)
            return
        await queue.delete(if_unused=False, if_empty=False)  # (aio-pika's defaults are True)
        log.info("deleted the quorum queue %s: commands go through the classic queue %s", old, command_queue(service))
        try:
            dlq = await channel.declare_queue(dead_letter_queue(old), passive=True)
            await dlq.delete(if_unused=True, if_empty=True)
            log.info("deleted its empty dead-letter queue %s", dead_letter_queue(old))
        except aio_pika.exceptions.ChannelNotFoundEntity:
            pass
        except aio_pika.exceptions.ChannelPreconditionFailed:
            log.warning("kept %s: it holds dead-lettered commands (delete it once read)", dead_letter_queue(old))
    except Exception:  # the old queue is only clutter: never fail the service's start over it
        log.warning("could not retire the quorum queue %s; trying again at the next start", old, exc_info=True)
    finally:
        with contextlib.suppress(Exception):
            await channel.close()


DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
"""RabbitMQ's direct reply-to pseudo-queue: replies go straight to the consuming channel, no reply queue."""

_JSON = "application/json"


class CommandClient:
    """Sends commands and waits for their replies by RabbitMQ direct reply-to, on a channel of its own.

    The commands are published on that channel without publisher confirms: the reply is what proves the service got
    the command, so waiting for the broker's confirm first only adds a round trip. A command lost before it was
    queued (the broker going away) is answered ``timeout``, as when the service does not answer in time; a command
    delivered twice is answered once by its command id (the service's idempotency). When the channel closes, the
    calls still waiting on it are answered ``unavailable`` at once: their replies could only come back on it. The
    robust connection reopens the channel, and the client consumes its replies again on the new one.

    With ``batch_max`` > 1, the commands called in one pass of the event loop for the same routing key and timeout go
    out as one ``CommandBatch`` message (``servicekit.command_batch``), at most ``batch_max`` in one; a lone one
    goes as a single ``CommandMessage``. Every command says the client reads ``CommandReplyBatch`` replies
    (``ACCEPTS_REPLY_BATCH_HEADER``): a service of this version answers commands finished together in one message.
    """

    def __init__(self, connection: AbstractRobustConnection, *, client_id: str, timeout: float = 5.0,
                 batch_max: int = 1) -> None:
        self._batch_max = batch_max
        self._outgoing: dict[tuple[aiormq.Channel, str, int], list[tuple[CommandMessage, str | None]]] = {}
        """(channel, routing key, TTL in ms) -> the commands called in this pass of the loop, not sent yet."""
        self._sending: set[asyncio.Task[None]] = set()
        self.messages_sent = 0
        """Command messages published (single or batch): with ``commands_sent``, the commands per message."""
        self.commands_sent = 0
        self._connection = connection
        self._client_id = client_id
        self._timeout = timeout
        self._channel: AbstractRobustChannel | None = None
        self._raw: aiormq.Channel | None = None
        """The open AMQP channel under ``_channel`` that consumes the replies (None until started)."""
        self._pending: dict[str, tuple[asyncio.Future[CommandReply], aiormq.Channel]] = {}
        """command id -> (its caller's future, the channel it was sent on)."""

    async def start(self) -> None:
        channel = await self._connection.channel(publisher_confirms=False)
        await channel.declare_exchange(COMMANDS_EXCHANGE, ExchangeType(EXCHANGES[COMMANDS_EXCHANGE]), durable=True)
        channel.reopen_callbacks.add(self._reopened)
        self._channel = channel
        await self._consume_replies()

    async def _reopened(self, _channel: AbstractRobustChannel | None, /) -> None:
        await self._consume_replies()

    async def _consume_replies(self) -> None:
        assert self._channel is not None
        raw = cast(aiormq.Channel, await self._channel.get_underlay_channel())  # basic_publish(wait=) is its own
        await raw.basic_consume(DIRECT_REPLY_TO, self._on_reply, no_ack=True,
                                consumer_tag=f"{self._client_id}.replies.{uuid4().hex[:8]}")
        raw.closing.add_done_callback(lambda _: self._channel_closed(raw))
        self._raw = raw

    def _channel_closed(self, raw: aiormq.Channel) -> None:
        lost = [(key, waiter) for key, (waiter, sent_on) in self._pending.items() if sent_on is raw]
        if lost:
            log.warning("the command channel closed with %d commands unanswered", len(lost))
        for key, waiter in lost:
            if not waiter.done():
                waiter.set_result(CommandReply.failure(
                    UUID(key), UNAVAILABLE, "lost the connection to the message broker before the reply"))

    async def _on_reply(self, message: aiormq.abc.DeliveredMessage) -> None:
        if message.header.properties.message_type == REPLY_BATCH_TYPE:
            try:
                batch = CommandReplyBatch.model_validate_json(message.body)
            except ValidationError as exc:  # nothing tells its callers apart: they time out
                log.warning("malformed reply batch: %s %s", exc.errors()[0]["loc"], exc.errors()[0]["msg"])
                return
            for answer in batch.replies:
                self._answer(str(answer.command_id), answer)
            return
        correlation_id = message.header.properties.correlation_id or ""
        entry = self._pending.pop(correlation_id, None)
        if entry is None or entry[0].done():
            log.debug("reply %s came after its caller gave up", correlation_id)
            return
        waiter = entry[0]
        try:
            waiter.set_result(CommandReply.model_validate_json(message.body))
        except ValidationError as exc:
            reason = f"malformed reply: {exc.errors()[0]['msg']}"
            waiter.set_result(CommandReply.failure(UUID(correlation_id), INTERNAL, reason))

    async def call(self, command: CommandMessage, *, timeout: float | None = None) -> CommandReply:
        """The service's reply; a ``timeout`` or ``unavailable`` failure reply when there is none in time."""
        timeout = self._timeout if timeout is None else timeout
        raw = self._raw
        if raw is None or raw.is_closed:
            return CommandReply.failure(command.command_id, UNAVAILABLE, "not connected to the message broker")
        key = str(command.command_id)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[CommandReply] = loop.create_future()
        self._pending[key] = (waiter, raw)
        expiry = loop.call_later(timeout, _expire, waiter, command.command_id, timeout)
        try:
            ttl_ms = max(1, int(timeout * 1000))
            if self._batch_max > 1:
                self._enqueue(raw, command, ttl_ms, request_id())
            else:
                await self._publish_one(raw, command, ttl_ms, request_id())
            return await waiter
        except (AMQPError, ConnectionError, RuntimeError) as exc:
            return CommandReply.failure(command.command_id, UNAVAILABLE, f"could not reach the service: {exc}")
        finally:
            expiry.cancel()
            self._pending.pop(key, None)

    def _answer(self, key: str, answer: CommandReply) -> None:
        entry = self._pending.pop(key, None)
        if entry is None or entry[0].done():
            log.debug("reply %s came after its caller gave up", key)
            return
        entry[0].set_result(answer)

    async def _publish_one(self, raw: aiormq.Channel, command: CommandMessage, ttl_ms: int, rid: str | None) -> None:
        key = str(command.command_id)
        headers: dict[str, Any] = {ACCEPTS_REPLY_BATCH_HEADER: "1"}
        if rid:
            headers[REQUEST_ID_HEADER] = rid
        properties = aiormq.spec.Basic.Properties(
            content_type=_JSON, delivery_mode=1, message_id=key, message_type=f"command.{command.command}",
            correlation_id=key, reply_to=DIRECT_REPLY_TO, expiration=str(ttl_ms), headers=headers,
        )
        self.messages_sent += 1
        self.commands_sent += 1
        await raw.basic_publish(command.to_bytes(), exchange=COMMANDS_EXCHANGE, routing_key=command.routing_key,
                                properties=properties, wait=False)

    def _enqueue(self, raw: aiormq.Channel, command: CommandMessage, ttl_ms: int, rid: str | None) -> None:
        """Join the commands called in this pass of the loop (sent by ``_flush`` at the end of it)."""
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        group_key = (raw, command.routing_key, ttl_ms)
        group = self._outgoing.setdefault(group_key, [])
        group.append((command, rid))
        if len(group) >= self._batch_max:
            del self._outgoing[group_key]
            self._send_soon(group_key, group)

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, {}
        for group_key, group in outgoing.items():
            self._send_soon(group_key, group)

    def _send_soon(self, group_key: tuple[aiormq.Channel, str, int],
                   group: list[tuple[CommandMessage, str | None]]) -> None:
        task = asyncio.get_running_loop().create_task(self._send(group_key, group))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, group_key: tuple[aiormq.Channel, str, int],
                    group: list[tuple[CommandMessage, str | None]]) -> None:
        raw, routing_key, ttl_ms = group_key
        try:
            if len(group) == 1:
                await self._publish_one(raw, group[0][0], ttl_ms, group[0][1])
                return
            batch = CommandBatch(commands=[command for command, _ in group], ttl_ms=ttl_ms,
                                 request_ids={str(command.command_id): rid for command, rid in group if rid})
            properties = aiormq.spec.Basic.Properties(
                content_type=_JSON, delivery_mode=1, message_id=uuid4().hex, message_type=COMMAND_BATCH_TYPE,
                reply_to=DIRECT_REPLY_TO, expiration=str(ttl_ms), headers={ACCEPTS_REPLY_BATCH_HEADER: "1"},
            )
            self.messages_sent += 1
            self.commands_sent += len(group)
            await raw.basic_publish(batch.to_bytes(), exchange=COMMANDS_EXCHANGE, routing_key=routing_key,
                                    properties=properties, wait=False)
        except (AMQPError, ConnectionError, RuntimeError) as exc:
            for command, _ in group:
                self._answer(str(command.command_id), CommandReply.failure(
                    command.command_id, UNAVAILABLE, f"could not reach the service: {exc}"))


def _expire(waiter: asyncio.Future[CommandReply], command_id: UUID, timeout: float) -> None:
    if not waiter.done():
        waiter.set_result(CommandReply.failure(command_id, TIMEOUT, f"no answer within {timeout:g}s"))
