"""Request/reply commands over RabbitMQ: the gateway asks, the owning service answers.

The caller publishes a ``CommandMessage`` to ``platform.commands`` with ``reply_to`` = RabbitMQ's direct reply-to
(``amq.rabbitmq.reply-to``: the reply comes straight back to the caller's channel, no reply queue), ``correlation_id``
= the command id and an expiration equal to its timeout (a command nobody took in time is dropped by the broker
instead of being carried out after the caller gave up). The service runs the command's handler and publishes a
``CommandReply`` to ``reply_to`` without waiting for the broker's confirm: the reply leaves on the connection before
the command's ack, so a connection lost before both are out gets the command delivered again (a handler answers it
again, from its idempotency key where it has one); a reply the broker drops after taking it was as lost with a
confirm, and the caller times out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast
from uuid import UUID, uuid4

import aiormq
from aio_pika import ExchangeType
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustChannel, AbstractRobustConnection
from aiormq.exceptions import AMQPError
from contracts.errors import ContractError
from contracts.events.commands import COMMAND_ROUTING_KEYS, CommandMessage, CommandName, CommandReply
from contracts.events.topology import COMMANDS_EXCHANGE, EXCHANGES, queue_name
from contracts.identity import Principal
from contracts.socketio.ack import INTERNAL, INVALID_PAYLOAD, TIMEOUT, UNAVAILABLE
from pydantic import BaseModel, ValidationError

from servicekit.amqp import Poison, Publisher, QueueSpec, start_consumer
from servicekit.errors import DomainError, ack_code
from servicekit.logcontext import bind, request_id, valid_request_id

log = logging.getLogger(__name__)

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

    async def reply(message: AbstractIncomingMessage, answer: CommandReply) -> None:
        if not message.reply_to:
            return
        await publisher.publish(
            "", message.reply_to, answer.to_bytes(), message_id=str(answer.command_id),
            message_type="command.reply", correlation_id=message.correlation_id, persistent=False, confirm=False,
        )

    async def on_command(message: AbstractIncomingMessage) -> None:
        try:
            command = CommandMessage.model_validate_json(message.body)
        except ValidationError as exc:
            raise Poison(f"not a command message: {exc.errors()[0]['msg']}") from exc
        sent_id = (message.headers or {}).get(REQUEST_ID_HEADER)
        with bind(request_id=valid_request_id(sent_id if isinstance(sent_id, str) else None),
                  correlation_id=str(command.command_id), user_id=command.principal.user_id):
            await handle(message, command)

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
    spec = QueueSpec(queue_name(service, "commands"), tuple((COMMANDS_EXCHANGE, k) for k in routing_keys), quorum=True,
                     delivery_limit=5)
    await start_consumer(connection, spec, on_command)


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
    """

    def __init__(self, connection: AbstractRobustConnection, *, client_id: str, timeout: float = 5.0) -> None:
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
            rid = request_id()
            properties = aiormq.spec.Basic.Properties(
                content_type=_JSON, delivery_mode=1, message_id=key, message_type=f"command.{command.command}",
                correlation_id=key, reply_to=DIRECT_REPLY_TO, expiration=str(int(timeout * 1000)),
                headers={REQUEST_ID_HEADER: rid} if rid else None,
            )
            await raw.basic_publish(command.to_bytes(), exchange=COMMANDS_EXCHANGE, routing_key=command.routing_key,
                                    properties=properties, wait=False)
            return await waiter
        except (AMQPError, ConnectionError, RuntimeError) as exc:
            return CommandReply.failure(command.command_id, UNAVAILABLE, f"could not reach the service: {exc}")
        finally:
            expiry.cancel()
            self._pending.pop(key, None)


def _expire(waiter: asyncio.Future[CommandReply], command_id: UUID, timeout: float) -> None:
    if not waiter.done():
        waiter.set_result(CommandReply.failure(command_id, TIMEOUT, f"no answer within {timeout:g}s"))
