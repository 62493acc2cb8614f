"""Client events that change state (and the participants query) -> commands to the owning service over
RabbitMQ -> the Socket.IO ack: `{ok: true, data: result}` or `{ok: false, error: {code, message}}`.

A `chat:send_message` with the client's `client_msg_id` is the command `client_command_id(...)` names: the
same (sender, client id) is the same command id, so a message sent again after a lost ack is answered by chat-svc
with its first answer. A resend while the first is still waiting here shares its reply (one command on the wire)."""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from contracts.events import commands as c
from contracts.identity import Principal
from contracts.socketio.ack import INTERNAL, UNAVAILABLE, ack_error, ack_ok
from contracts.socketio.client import MarkReadPayload, SendMessagePayload
from contracts.socketio.events import CHAT_SEND_MESSAGE, NOTIFICATION_MARK_READ
from pydantic import BaseModel, ValidationError
from servicekit.commands import CommandClient
from servicekit.logcontext import bind, new_request_id

from realtime_gateway.clients.validation import parse_payload
from realtime_gateway.ops.metrics import Labelled, Metrics

log = logging.getLogger(__name__)


class Commands:
    def __init__(self, client: Callable[[], CommandClient | None], metrics: Metrics, timeout: float) -> None:
        self._client = client  # None until the broker link is up
        self._metrics = metrics
        self._command_seconds = Labelled(metrics.command_seconds)
        self.timeout = timeout
        self._in_flight: dict[UUID, tuple[BaseModel, asyncio.Future[c.CommandReply]]] = {}

    async def call(self, name: c.CommandName, principal: Principal, payload: BaseModel, *,
                   command_id: UUID | None = None) -> c.CommandReply:
        if command_id is None:
            return await self._call(c.new_command(name, principal, payload))
        while (waiting := self._in_flight.get(command_id)) is not None:
            if waiting[0] == payload:  # the same command again before its reply: one reply answers both
                return await asyncio.shield(waiting[1])
            await asyncio.wait([waiting[1]])  # another payload: the service judges it after the first
        shared: asyncio.Future[c.CommandReply] = asyncio.get_running_loop().create_future()
        self._in_flight[command_id] = (payload, shared)
        reply = c.CommandReply.failure(command_id, UNAVAILABLE, "the first send of this message was abandoned")
        try:
            reply = await self._call(c.new_command(name, principal, payload, command_id=command_id))
            return reply
        finally:
            del self._in_flight[command_id]
            shared.set_result(reply)  # the resends that waited for it (their clients send again if it failed)

    async def _call(self, command: c.CommandMessage) -> c.CommandReply:
        name, principal = command.command, command.principal
        client = self._client()
        if client is None:
            return c.CommandReply.failure(command.command_id, UNAVAILABLE, "not connected to the message broker")
        started = time.perf_counter()
        # One request id per command: the owning service logs under it and puts it on the events it causes.
        with bind(request_id=new_request_id(), correlation_id=str(command.command_id), user_id=principal.user_id):
            reply = await client.call(command, timeout=self.timeout)
            outcome = "ok" if reply.ok else (reply.error.code if reply.error else "error")
            elapsed = time.perf_counter() - started
            self._command_seconds(name, outcome).observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info("command %s: %s", name, outcome, extra={"duration_ms": round(elapsed * 1000, 1)})
        return reply

    async def _ack(self, name: c.CommandName, principal: Principal, payload: BaseModel, *,
                   command_id: UUID | None = None) -> dict[str, Any]:
        reply = await self.call(name, principal, payload, command_id=command_id)
        if reply.ok:
            return ack_ok(reply.result)
        assert reply.error is not None
        return ack_error(reply.error.code, reply.error.message)

    async def mark_read(self, sid: str, principal: Principal, data: Any) -> dict[str, Any]:
        payload = parse_payload(NOTIFICATION_MARK_READ, MarkReadPayload, data)
        return await self._ack(c.NOTIFICATION_MARK_READ, principal, payload)

    async def send_message(self, sid: str, principal: Principal, data: Any) -> dict[str, Any]:
        payload = parse_payload(CHAT_SEND_MESSAGE, SendMessagePayload, data)
        command_id = (None if payload.client_msg_id is None
                      else c.client_command_id(c.CHAT_SEND_MESSAGE, principal, payload.client_msg_id))
        return await self._ack(c.CHAT_SEND_MESSAGE, principal, payload, command_id=command_id)

    async def session_participants(
        self, principal: Principal, session_id: int
    ) -> c.SessionParticipants | dict[str, Any]:
        """chat-svc's answer for `chat:typing` on a cache miss, or the error ack to answer with."""
        reply = await self.call(c.CHAT_SESSION_PARTICIPANTS, principal, c.SessionRef(session_id=session_id))
        if not reply.ok:
            assert reply.error is not None
            return ack_error(reply.error.code, reply.error.message)
        try:
            return c.SessionParticipants.model_validate(reply.result)
        except ValidationError as exc:
            return ack_error(INTERNAL, f"chat-svc answered an unreadable participants result: {exc.errors()[0]['msg']}")
