"""Several commands, or several replies, carried in one AMQP message (issue 20: fewer messages per chat message).

At saturation many ``chat:send_message`` commands are ready in the same pass of the gateway's event loop, and
chat-svc's group commit answers many of them in the same pass of its own. Each used to be one AMQP message each way
(~0.3-0.4 ms of broker CPU apiece, plus the client libraries' work per message on both ends). Here:

- ``OutgoingBatches`` (caller side): the commands issued in one pass of the loop for the same routing key and the
  same timeout go out as one ``CommandBatch`` message (type ``command.batch``), flushed by ``loop.call_soon`` (no
  added wait) or as soon as ``max_size`` are waiting. A lone command goes as today's single ``CommandMessage``.
  Grouping by timeout keeps each command's TTL exact: the batch's AMQP expiration is the timeout they share.
- ``parse_batch`` (service side): a malformed batch is ``Poison`` (dead-lettered, with a log line); a malformed
  command inside a valid batch is returned as a ``MalformedCommand`` (answered ``invalid_payload`` when its id can be
  read), never failing its neighbours.
- ``ReplyCoalescer`` (service side): the replies finished in one pass of the loop for the same ``reply_to`` go out
  as one ``CommandReplyBatch`` message (type ``command.reply_batch``), only to callers that sent
  ``ACCEPTS_REPLY_BATCH_HEADER``; a lone reply goes as today's single ``CommandReply``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from contracts.events.commands import (
    REPLY_BATCH_TYPE,
    CommandBatch,
    CommandMessage,
    CommandReply,
    CommandReplyBatch,
)
from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)


# --- service side: reading a batch -----------------------------------------------------------------------------------


class _BatchFrame(BaseModel):
    """A batch read loosely: its commands as objects, each validated on its own (``parse_batch``)."""

    commands: list[dict[str, Any]] = Field(min_length=1)
    ttl_ms: int = Field(gt=0)
    request_ids: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class MalformedCommand:
    """A command of a batch that is not a valid ``CommandMessage``; ``command_id`` when it could be read."""

    command_id: UUID | None
    reason: str


@dataclass(frozen=True)
class ReadBatch:
    commands: list[CommandMessage | MalformedCommand]
    ttl_ms: int
    request_ids: dict[str, str]


class MalformedBatch(ValueError):
    """The message is no ``CommandBatch`` at all (its commands cannot even be told apart)."""


def parse_batch(body: bytes) -> ReadBatch:
    """The batch in ``body``: every command validated (the common case, in one pass), else each on its own."""
    try:
        batch = CommandBatch.model_validate_json(body)
    except ValidationError:
        pass
    else:
        return ReadBatch(list(batch.commands), batch.ttl_ms, batch.request_ids)
    try:
        frame = _BatchFrame.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedBatch(f"not a command batch: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from exc
    commands: list[CommandMessage | MalformedCommand] = []
    for raw in frame.commands:
        try:
            commands.append(CommandMessage.model_validate(raw))
        except ValidationError as exc:
            commands.append(MalformedCommand(_readable_id(raw.get("command_id")),
                                             f"not a command: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"))
    return ReadBatch(commands, frame.ttl_ms, frame.request_ids)


def _readable_id(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None


# --- service side: replies finished together ---------------------------------------------------------------------

ReplySender = Callable[[str, bytes, str, str | None], Awaitable[None]]
"""``send(reply_to, body, message_type, correlation_id)``: publishes one reply message."""


@dataclass
class _ReplyGroup:
    replies: list[tuple[CommandReply, str | None]] = field(default_factory=list)
    sent: asyncio.Future[None] | None = None


class ReplyCoalescer:
    """``await replies.send(reply_to, reply, correlation_id)`` returns once its message is written; the replies sent
    during one pass of the loop for the same ``reply_to`` share one message (see the module)."""

    def __init__(self, send: ReplySender) -> None:
        self._send = send
        self._groups: dict[str, _ReplyGroup] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.messages = 0
        """Reply messages sent (for tests and the bench)."""
        self.replies = 0

    async def send(self, reply_to: str, reply: CommandReply, correlation_id: str | None) -> None:
        loop = asyncio.get_running_loop()
        if not self._groups:
            loop.call_soon(self._flush)
        group = self._groups.get(reply_to)
        if group is None:
            group = self._groups[reply_to] = _ReplyGroup(sent=loop.create_future())
        group.replies.append((reply, correlation_id))
        assert group.sent is not None
        await asyncio.shield(group.sent)  # a cancelled sender does not cancel its neighbours' reply

    def _flush(self) -> None:
        groups, self._groups = self._groups, {}
        for reply_to, group in groups.items():
            task = asyncio.get_running_loop().create_task(self._publish(reply_to, group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _publish(self, reply_to: str, group: _ReplyGroup) -> None:
        assert group.sent is not None
        try:
            if len(group.replies) == 1:
                reply, correlation_id = group.replies[0]
                await self._send(reply_to, reply.to_bytes(), "command.reply", correlation_id)
            else:
                body = CommandReplyBatch(replies=[reply for reply, _ in group.replies]).to_bytes()
                await self._send(reply_to, body, REPLY_BATCH_TYPE, None)
        except Exception as exc:  # noqa: BLE001 - each sender gets it (its command is retried, as before)
            group.sent.set_exception(exc)
            group.sent.exception()  # retrieved: a sender cancelled meanwhile leaves no "never retrieved" warning
        else:
            self.messages += 1
            self.replies += len(group.replies)
            group.sent.set_result(None)
