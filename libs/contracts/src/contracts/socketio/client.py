"""Payloads clients send to the server (client -> server). Unknown keys are rejected (see ``Inbound``)."""

from typing import Annotated, Literal, Self

from pydantic import Field, Strict, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.fields import Id, Inbound, MessageText, _drop_default
from contracts.identity import UserType
from contracts.payloads.chat import is_attachment_id

CLIENT_MSG_ID_MAX = 64
ClientMsgId = Annotated[str, Strict(), Field(min_length=1, max_length=CLIENT_MSG_ID_MAX, pattern=r"^[A-Za-z0-9_-]+$")]
"""The sender's own id for one message (a UUID recommended): the same id sent again is the same message."""


class MarkReadPayload(Inbound):
    """``notification:mark_read``."""

    notification_id: Id


class SendMessagePayload(Inbound):
    """``chat:send_message``: the sender is the authenticated socket, never a payload field."""

    session_id: Id
    content: MessageText
    message_type: Literal["text", "image"] = Field(
        "text", exclude_if=lambda value: value == "text",  # a text message goes on as the spec's two fields
        description="Optional, 'text' when absent. 'image': content is the attachment_id of a picture "
                            "uploaded to this session (POST /api/v4/customer-service/sessions/{id}/attachments)",
    )
    client_msg_id: ClientMsgId | SkipJsonSchema[None] = Field(
        None, exclude_if=lambda value: value is None, json_schema_extra=_drop_default,
        description="Optional, 1-64 characters of A-Z a-z 0-9 _ -, a new UUID per message recommended: a send "
                    "repeated with the same id (its ack lost or late) is the same message, stored once and "
                    "answered with the first answer; the same id with another session_id, content or "
                    "message_type is refused (idempotency_key_reused). The same key as the REST send's "
                    "Idempotency-Key: a message sent over REST after a failed socket send keeps its id",
    )

    @model_validator(mode="after")
    def _images_are_uploads(self) -> Self:
        """A URL never passes: every reader's browser would fetch it from wherever it points."""
        if self.message_type == "image" and not is_attachment_id(self.content):
            error = PydanticCustomError("image_reference", "with message_type 'image', content must be the "
                                        "attachment_id of a picture uploaded to this session, not a URL")
            detail = InitErrorDetails(type=error, loc=("content",), input=self.content)
            raise ValidationError.from_exception_data(type(self).__name__, [detail])
        return self


class TypingPayload(Inbound):
    """``chat:typing`` (client -> server)."""

    session_id: Id


class RegisterUserPayload(Inbound):
    """Legacy ``register_user`` from older clients. The gateway takes identity from the handshake JWT and
    must not trust these fields; the event is accepted only so old clients keep working."""

    user_id: Id
    user_type: UserType
