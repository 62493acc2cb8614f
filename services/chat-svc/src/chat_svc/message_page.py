"""The items of a REST page of messages (GET /sessions/{id}/messages): the spec's ChatMessageData, plus on an
image message, optionally, its picture with signed URLs. A page of history then shows its thumbnails without
one request per picture; socket events and the spec's fields are unchanged (REST only, omitted when absent)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from contracts.payloads import ChatMessageData
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema


class PictureLinks(BaseModel):
    attachment_id: UUID
    url: str = Field(description="The picture, same-origin path signed until expires_at")
    thumbnail_url: str = Field(description="The thumbnail, signed until expires_at")
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    expires_at: str = Field(description="When the URLs stop working (then GET .../attachments/{attachment_id})")


class PageMessage(ChatMessageData):
    attachment: Annotated[
        PictureLinks | SkipJsonSchema[None],
        Field(default=None, exclude_if=lambda v: v is None,
              description="Image messages whose picture is in this session: its signed URLs (optional: when "
                          "absent, ask GET /sessions/{id}/attachments/{attachment_id})"),
    ]
