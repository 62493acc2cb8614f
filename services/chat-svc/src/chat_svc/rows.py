"""What a row of `chat.sessions`, `chat.messages` and `chat.attachments` reads as: typed records (chat_svc.store builds them from the
query results; the use cases and chat_svc.events read their fields)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from contracts.payloads import CloseReason, MessageType, SessionStatus
from servicekit.db import AnyRow

from chat_svc.images import ImageFormat

StoredSenderType = Literal["user", "admin", "system"]
"""`system` for the messages the service writes itself (see chat_svc.events: on the wire they are `admin`)."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    user_id: int
    admin_id: int | None
    status: SessionStatus
    priority: int
    admin_unread_count: int
    last_message: str
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    close_reason: CloseReason | None = None
    user_last_read_message_id: int | None = None
    user_read_at: datetime | None = None
    admin_last_read_message_id: int | None = None
    admin_read_at: datetime | None = None
    message_count: int = 0  # users' and agents' messages, not system lines (0009, for the reports)
    first_reply_at: datetime | None = None  # the first agent message (0009, for the reports)

    @classmethod
    def of(cls, row: AnyRow) -> SessionRow:
        return cls(**row._mapping)


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    session_id: int
    sender_type: StoredSenderType
    sender_id: int
    content: str
    message_type: MessageType
    created_at: datetime
    system_code: str | None = None
    system_params: dict[str, Any] | None = None

    @classmethod
    def of(cls, row: AnyRow) -> MessageRow:
        return cls(**row._mapping)


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: UUID
    session_id: int
    uploader_type: Literal["user", "admin"]
    uploader_id: int
    format: ImageFormat
    width: int
    height: int
    size_bytes: int
    thumbnail_width: int
    thumbnail_height: int
    created_at: datetime

    @classmethod
    def of(cls, row: AnyRow) -> AttachmentRow:
        return cls(**row._mapping)
