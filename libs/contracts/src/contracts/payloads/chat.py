"""The chat module's data: a message, a session, an assignment, someone typing. REST answers with them, the
domain events on RabbitMQ carry them, and the gateway pushes them to Socket.IO clients (``chat:new_message``,
``chat:session_update``, ``chat:session_assigned``, ``chat:typing``), exactly as the protocol spec's TypeScript
interfaces (docs/websocket-protocol.md). Unknown extra keys are ignored (see ``Outbound``)."""

from typing import Annotated, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import Field, Strict, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.fields import MESSAGE_MAX, Count, Id, MessageText, OptionalId, Outbound, Priority
from contracts.payloads.system_text import OptionalParams, OptionalSystemCode, check_system_text
from contracts.time import BeijingDatetime

SenderType = Literal["user", "admin"]
MessageType = Literal["text", "image", "system"]
SessionStatus = Literal["waiting", "active", "closed"]
AssignmentReason = Literal["auto", "transfer", "claim"]
CloseReason = Literal["agent", "user", "abandoned", "inactive"]
"""Why a session ended: its agent or its user closed it, or the platform did (user gone while waiting /
no message from either side while active)."""

LastMessage = Annotated[str, Strict(), Field(max_length=MESSAGE_MAX)]
"""May be empty: a session can exist before its first message."""


class ChatMessageData(Outbound):
    """``chat:new_message``. For ``message_type == "image"`` the content is the ``attachment_id`` (a UUID) of a
    picture uploaded to the session (its signed URLs: ``GET /api/v4/customer-service/sessions/{id}/attachments/
    {attachment_id}``); image messages stored before uploads existed carry an http(s) URL, which pages show as
    text and never load."""

    message_id: Id
    session_id: Id
    sender_type: SenderType
    sender_id: Id
    message_content: MessageText
    message_type: MessageType
    created_at: BeijingDatetime
    system_code: Annotated[OptionalSystemCode, Field(description=(
        "Only on system messages the platform writes: a stable code for the text, rendered by each client in "
        "its own language from `system_params` (message_content holds the server's fallback rendering). The "
        "codes and their parameters: SystemTextCode in the AsyncAPI document, SystemTextParams in payloads.d.ts "
        "(contracts.payloads.system_text); an unknown code: show message_content."))] = None
    system_params: Annotated[OptionalParams, Field(description="The parameters of `system_code`.")] = None

    @model_validator(mode="after")
    def _system_params_fit_their_code(self) -> "ChatMessageData":
        check_system_text(self, self.system_code, self.system_params, code_field="system_code",
                          params_field="system_params")
        return self

    @model_validator(mode="after")
    def _image_content_is_a_picture_reference(self) -> "ChatMessageData":
        content = self.message_content
        if self.message_type == "image" and not (is_attachment_id(content) or is_http_url(content)):
            error = PydanticCustomError(
                "image_reference",
                "message_content must be an attachment_id (or, stored before uploads, an http(s) URL) when "
                "message_type is 'image'",
            )
            detail = InitErrorDetails(type=error, loc=("message_content",), input=self.message_content)
            raise ValidationError.from_exception_data(type(self).__name__, [detail])
        return self


class SessionData(Outbound):
    """``chat:session_update``. ``admin_id`` is always present and null while the session is unassigned."""

    session_id: Id
    user_id: Id
    admin_id: Id | None
    status: SessionStatus
    priority: Priority
    unread_count: Count
    last_message: LastMessage
    created_at: BeijingDatetime
    updated_at: BeijingDatetime
    close_reason: Annotated[CloseReason | SkipJsonSchema[None], Field(
        default=None, exclude_if=lambda v: v is None, json_schema_extra=lambda s: s.pop("default", None),
        description="Only on a closed session (closed after this field existed): who or what ended it.")] = None
    user_last_read_message_id: Annotated[OptionalId, Field(
        description="The user has read the session's messages up to this id (omitted: nothing read yet).")] = None
    admin_last_read_message_id: Annotated[OptionalId, Field(
        description="The assigned agent has read the session's messages up to this id.")] = None


class AssignmentData(Outbound):
    """``chat:session_assigned``: a session was given to an admin (``reason``: assigned automatically,
    transferred from another admin, or claimed by the admin)."""

    session_id: Id
    user_id: Id
    admin_id: Id
    priority: Priority
    assigned_at: BeijingDatetime
    reason: AssignmentReason


class TypingData(Outbound):
    """``chat:typing`` (server -> client): the other party of a session is typing."""

    session_id: Id
    sender_type: SenderType
    sender_id: Id


class QueueUpdateData(Outbound):
    """``chat:queue_update``: where this user's waiting session stands in the queue (``position`` 1 = next) and
    the estimated wait in seconds, null while there is too little recent history to measure it. Sent only to
    the session's user, when a value changed, at most once per ``CHAT_QUEUE_UPDATE_INTERVAL_SECONDS``."""

    session_id: Id
    position: Id
    estimated_wait_seconds: Count | None


def is_attachment_id(value: str) -> bool:
    """True when ``value`` is a UUID in its canonical form (how attachment ids are written)."""
    try:
        return str(UUID(value)) == value.lower()
    except ValueError:
        return False


def is_http_url(value: str) -> bool:
    """True when ``value`` is an absolute http or https URL with a host."""
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and value == value.strip()
