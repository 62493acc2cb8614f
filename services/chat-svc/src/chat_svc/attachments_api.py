"""REST routes of picture attachments under /api/v4/customer-service (use cases: chat_svc.attachments).

- `POST /sessions/{id}/attachments` (multipart, field `file`): the session's user or its assigned admin
  uploads a picture; answers the attachment with URLs signed for CHAT_ATTACHMENT_URL_TTL_SECONDS.
- `GET /sessions/{id}/attachments/{attachment_id}`: fresh signed URLs, for the session's user or any admin.
- `GET /attachments/{attachment_id}/{full|thumbnail}?expires=&sig=`: the bytes, for whoever holds a valid
  signed URL (an `<img>` sends no bearer token); 403 when forged or expired.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from servicekit.errors import Forbidden, NotFound
from servicekit.http import CurrentPrincipal
from servicekit.openapi import raises
from servicekit.ratelimit import per_user_rate_limit

from chat_svc.api import SessionId
from chat_svc.attachment_store import StorageUnavailable
from chat_svc.attachments import Attachments, InvalidSignature, UrlExpired
from chat_svc.domain import SessionClosed
from chat_svc.images import ImageDimensionsTooLarge, ImageTooLarge, UnsupportedImage
from chat_svc.signing import Variant

router = APIRouter(prefix="/api/v4/customer-service", tags=["attachments"])


async def _attachments(request: Request) -> Attachments:
    return request.app.state.attachments


AttachmentsDep = Annotated[Attachments, Depends(_attachments)]
ATTACHMENT_RATE_LIMIT = per_user_rate_limit("chat.attachments", "attachment_rate_limit")


class AttachmentData(BaseModel):
    attachment_id: UUID = Field(description="Send it as the `content` of a message with message_type 'image'")
    session_id: int
    content_type: str = Field(description="image/jpeg, image/png, image/gif (first frame only) or image/webp")
    width: int
    height: int
    size_bytes: int = Field(description="Of the re-encoded picture (metadata stripped)")
    thumbnail_width: int
    thumbnail_height: int
    url: str = Field(description="The picture, same-origin path signed until expires_at")
    thumbnail_url: str = Field(description="The thumbnail, signed until expires_at")
    expires_at: str = Field(description="When url and thumbnail_url stop working (then ask GET .../attachments/{id})")


_NO_SESSION = NotFound("session <id> not found")
_NOT_YOURS = Forbidden("forbidden: not your session")


@router.post("/sessions/{session_id}/attachments", status_code=201, response_model=AttachmentData,
             dependencies=[ATTACHMENT_RATE_LIMIT],
             responses=raises(_NO_SESSION, _NOT_YOURS, SessionClosed("session <id> is closed"), UnsupportedImage(),
                              ImageTooLarge(), ImageDimensionsTooLarge(), StorageUnavailable()))
async def upload(
    session_id: SessionId, principal: CurrentPrincipal, attachments: AttachmentsDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG, GIF or WebP; judged by its bytes, not its name")],
) -> dict[str, Any]:
    """The session's user or its assigned admin uploads a picture (then sends it as an image message).
    It is re-encoded (no EXIF/GPS survives) and a thumbnail is made; a refused file leaves nothing stored."""
    data = await file.read(attachments.limits.max_bytes + 1)
    return await attachments.upload(principal, session_id, data)


@router.get("/sessions/{session_id}/attachments/{attachment_id}", response_model=AttachmentData,
            responses=raises(_NO_SESSION, _NOT_YOURS, NotFound("attachment <id> not found in session <id>")))
async def links(
    session_id: SessionId, attachment_id: UUID, principal: CurrentPrincipal, attachments: AttachmentsDep,
) -> dict[str, Any]:
    """Fresh signed URLs of a picture of the session (its user or an admin)."""
    return await attachments.links(principal, session_id, attachment_id)


@router.get("/attachments/{attachment_id}/{variant}", response_class=Response,
            responses={200: {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in ("image/jpeg", "image/png", "image/gif", "image/webp")},
                             "description": "The picture's bytes"},
                       **raises(InvalidSignature(), UrlExpired(), NotFound("attachment not found"),
                                StorageUnavailable())})
async def serve(
    attachment_id: UUID, variant: Variant, attachments: AttachmentsDep,
    expires: Annotated[int, Query(ge=0, le=2**62, description="Unix seconds, part of the signature")],
    sig: Annotated[str, Query(min_length=1, max_length=200, description="HMAC of id, variant and expires")],
) -> Response:
    """The bytes of a picture behind a signed URL (no bearer token: an `<img>` cannot send one)."""
    served = await attachments.serve(attachment_id, variant, expires, sig)
    return Response(served.data, media_type=served.content_type, headers={
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{served.filename}"',
        "Cache-Control": "private, max-age=300",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })
