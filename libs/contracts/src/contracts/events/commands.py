"""Commands the gateway sends to services over AMQP (request/reply).

The gateway publishes a ``CommandMessage`` to ``COMMANDS_EXCHANGE`` with the command's routing key, the AMQP
``reply_to`` of its reply queue and ``correlation_id = str(command_id)``; the service answers with a
``CommandReply`` carrying the same ``command_id``. The acting user is always the verified ``principal``.
"""

from typing import Any, Literal
from uuid import UUID, uuid4, uuid5

from pydantic import BaseModel, Field, model_validator

from contracts.errors import InvalidPayload
from contracts.events.topology import (
    COMMAND_CHAT_SEND_MESSAGE,
    COMMAND_CHAT_SESSION_PARTICIPANTS,
    COMMAND_NOTIFICATION_MARK_READ,
)
from contracts.fields import Flag, Id, Outbound
from contracts.identity import Principal
from contracts.payloads import SessionStatus
from contracts.socketio.ack import ErrorInfo
from contracts.socketio.client import MarkReadPayload, SendMessagePayload
from contracts.time import BeijingDatetime, now_beijing

CommandName = Literal["chat.send_message", "notification.mark_read", "chat.session_participants"]
CHAT_SEND_MESSAGE: CommandName = "chat.send_message"
NOTIFICATION_MARK_READ: CommandName = "notification.mark_read"
CHAT_SESSION_PARTICIPANTS: CommandName = "chat.session_participants"
"""A query, not a change: the gateway asks chat-svc who takes part in a session (to route ``chat:typing``)."""


class SessionRef(Outbound):
    """``chat.session_participants`` payload: the session asked about."""

    session_id: Id


class SessionParticipants(Outbound):
    """``chat.session_participants`` result: who takes part in the session, and its status. The principal may
    ask about any session; the gateway decides who may type in it."""

    session_id: Id
    user_id: Id
    admin_id: Id | None
    status: SessionStatus


COMMAND_ROUTING_KEYS: dict[str, str] = {
    CHAT_SEND_MESSAGE: COMMAND_CHAT_SEND_MESSAGE,
    NOTIFICATION_MARK_READ: COMMAND_NOTIFICATION_MARK_READ,
    CHAT_SESSION_PARTICIPANTS: COMMAND_CHAT_SESSION_PARTICIPANTS,
}
COMMAND_PAYLOADS: dict[str, type[BaseModel]] = {
    CHAT_SEND_MESSAGE: SendMessagePayload,
    NOTIFICATION_MARK_READ: MarkReadPayload,
    CHAT_SESSION_PARTICIPANTS: SessionRef,
}


class CommandMessage(Outbound):
    """One command on behalf of ``principal``; ``payload`` validates against ``COMMAND_PAYLOADS[command]``."""

    command_id: UUID = Field(default_factory=uuid4)
    command: CommandName
    principal: Principal
    payload: dict[str, Any]
    issued_at: BeijingDatetime = Field(default_factory=now_beijing)

    @property
    def routing_key(self) -> str:
        return COMMAND_ROUTING_KEYS[self.command]

    def typed_payload(self) -> BaseModel:
        """The payload as its model; raises ``InvalidPayload`` naming the command and the field."""
        try:
            return COMMAND_PAYLOADS[self.command].model_validate(self.payload)
        except ValueError as exc:
            raise InvalidPayload(f"command {self.command} {self.command_id}: {exc}") from exc

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class CommandReply(Outbound):
    """The answer to one command: ``ok`` with a ``result``, or not ``ok`` with an ``error``; never both."""

    command_id: UUID
    ok: Flag
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None

    @model_validator(mode="after")
    def _exactly_one_outcome(self) -> "CommandReply":
        if self.ok and (self.result is None or self.error is not None):
            raise ValueError("an ok reply carries a result and no error")
        if not self.ok and (self.error is None or self.result is not None):
            raise ValueError("a failed reply carries an error and no result")
        return self

    @classmethod
    def success(cls, command_id: UUID, result: BaseModel | dict[str, Any]) -> "CommandReply":
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return cls(command_id=command_id, ok=True, result=result)

    @classmethod
    def failure(cls, command_id: UUID, code: str, message: str) -> "CommandReply":
        return cls(command_id=command_id, ok=False, error=ErrorInfo(code=code, message=message))

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def new_command(
    command: CommandName, principal: Principal, payload: BaseModel, *, command_id: UUID | None = None,
) -> CommandMessage:
    """A command whose payload has already been validated as the command's payload model; a new command id
    unless one is given (``client_command_id``)."""
    if type(payload) is not COMMAND_PAYLOADS[command]:
        raise TypeError(f"{command} takes {COMMAND_PAYLOADS[command].__name__}, got {type(payload).__name__}")
    return CommandMessage(command=command, principal=principal, payload=payload.model_dump(mode="json"),
                          command_id=command_id or uuid4())


CLIENT_COMMAND_NAMESPACE = UUID("3f1c7d2e-5b8a-4c61-9e0f-2a7b6d4c8e15")
"""The uuid5 namespace of ``client_command_id`` (fixed: changing it would make a resend a new command)."""


def client_command_id(command: CommandName, principal: Principal, client_id: str) -> UUID:
    """The command id of a client's own id for one action (``chat:send_message``'s ``client_msg_id``): the same
    (command, account, client id) always gives the same command id, so a resend is the same command; another
    account's same client id is another command."""
    return uuid5(CLIENT_COMMAND_NAMESPACE, f"{command}:{principal.user_type}:{principal.user_id}:{client_id}")


COMMAND_BATCH_TYPE = "command.batch"
"""AMQP ``type`` of a message carrying a ``CommandBatch`` (a single command's type is ``command.<name>``)."""
REPLY_BATCH_TYPE = "command.reply_batch"
"""AMQP ``type`` of a message carrying a ``CommandReplyBatch`` (a single reply's type is ``command.reply``)."""
ACCEPTS_REPLY_BATCH_HEADER = "x-accepts-reply-batch"
"""AMQP header a caller puts on its commands (single or batched) when it reads ``CommandReplyBatch`` replies: the
service may then answer commands finishing together for it in one message. Without it (an older caller), each
command is answered with its own ``CommandReply`` message."""


class CommandBatch(Outbound):
    """Several commands for one service in one AMQP message (type ``command.batch``): the commands a caller issued in
    one pass of its event loop for the same routing key and the same timeout. Each keeps its own ``command_id``
    (its reply's key and its idempotency key) and ``principal``; ``ttl_ms`` is the timeout they share, also the
    message's AMQP expiration. A batch is always answered through ``reply_to`` by ``CommandReplyBatch`` messages
    (or single replies), one reply per command."""

    commands: list[CommandMessage] = Field(min_length=1)
    ttl_ms: int = Field(gt=0)
    request_ids: dict[str, str] = Field(default_factory=dict)
    """command id -> the request id bound where it was sent (the single command's ``x-request-id`` header)."""

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class CommandReplyBatch(Outbound):
    """The replies to several commands of one caller, finished together (type ``command.reply_batch``): each is
    matched to its caller by its ``command_id``."""

    replies: list[CommandReply] = Field(min_length=1)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()
