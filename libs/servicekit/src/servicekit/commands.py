"""Request/reply commands over RabbitMQ: the gateway asks, the owning service answers.

The caller publishes a ``CommandMessage`` to ``platform.commands`` with ``reply_to`` = its own reply queue,
``correlation_id`` = the command id and an expiration equal to its timeout (a command nobody took in time is
dropped by the broker instead of being carried out after the caller gave up). The service runs the command's
handler and publishes a ``CommandReply`` to ``reply_to`` without waiting for the broker's confirm: the reply leaves
on the connection before the command's ack, so a connection lost before both are out gets the command delivered
again (a handler answers it again, from its idempotency key where it has one); a reply the broker drops after taking
it (reply queues are transient) was as lost with a confirm, and the caller times out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.errors import ContractError
from contracts.events.commands import COMMAND_ROUTING_KEYS, CommandMessage, CommandName, CommandReply
from contracts.events.topology import COMMANDS_EXCHANGE, queue_name
from contracts.identity import Principal
from contracts.socketio.ack import INTERNAL, INVALID_PAYLOAD, TIMEOUT, UNAVAILABLE
from pydantic import BaseModel, ValidationError

from servicekit.amqp import Poison, Publisher, PublishFailed, QueueSpec, start_consumer
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


class CommandClient:
    """Sends commands and waits for their replies on this process's own exclusive reply queue."""

    def __init__(self, connection: AbstractRobustConnection, publisher: Publisher, *, client_id: str,
                 timeout: float = 5.0) -> None:
        self._connection = connection
        self._publisher = publisher
        self._reply_queue = f"{client_id}.replies"
        self._timeout = timeout
        self._pending: dict[str, asyncio.Future[CommandReply]] = {}

    async def start(self) -> None:
        channel = await self._connection.channel()
        queue = await channel.declare_queue(self._reply_queue, exclusive=True, auto_delete=True)
        await queue.consume(self._on_reply, no_ack=True)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        waiter = self._pending.pop(message.correlation_id or "", None)
        if waiter is None or waiter.done():
            log.debug("reply %s came after its caller gave up", message.correlation_id)
            return
        try:
            waiter.set_result(CommandReply.model_validate_json(message.body))
        except ValidationError as exc:
            reason = f"malformed reply: {exc.errors()[0]['msg']}"
            waiter.set_result(CommandReply.failure(UUID(message.correlation_id), INTERNAL, reason))

    async def call(self, command: CommandMessage, *, timeout: float | None = None) -> CommandReply:
        """The service's reply; a ``timeout`` or ``unavailable`` failure reply when there is none in time."""
        timeout = self._timeout if timeout is None else timeout
        key = str(command.command_id)
        waiter: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()
        self._pending[key] = waiter
        try:
            rid = request_id()
            await self._publisher.publish(
                COMMANDS_EXCHANGE, command.routing_key, command.to_bytes(), message_id=key,
                message_type=f"command.{command.command}", correlation_id=key, reply_to=self._reply_queue,
                expiration=timeout, persistent=False, headers={REQUEST_ID_HEADER: rid} if rid else None,
            )
            return await asyncio.wait_for(waiter, timeout)
        except PublishFailed as exc:
            return CommandReply.failure(command.command_id, UNAVAILABLE, f"could not reach the service: {exc}")
        except TimeoutError:
            return CommandReply.failure(command.command_id, TIMEOUT, f"no answer within {timeout:g}s")
        finally:
            self._pending.pop(key, None)
