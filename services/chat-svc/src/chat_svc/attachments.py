"""The use cases of picture attachments: upload into a session, fresh signed URLs for a participant, and the
bytes behind a signed URL.

An upload is checked (the session's user or its assigned admin, open session, size), decoded and re-encoded
off the event loop (chat_svc.images, in a thread, at most `max_concurrent` at once), its two variants written to
the store, then recorded; a refused file leaves nothing behind. Reading is for the session's user and admins
(chat_svc.domain.check_can_view), through URLs signed for `ttl_seconds` (chat_svc.signing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from contracts.identity import Principal
from contracts.payloads import is_attachment_id
from servicekit.errors import Forbidden, NotFound

from chat_svc import domain, images, signing, store
from chat_svc.attachment_store import AttachmentStore
from chat_svc.images import CONTENT_TYPES, ImageTooLarge
from chat_svc.rows import AttachmentRow, SessionRow
from chat_svc.service import Chat
from chat_svc.signing import Variant

log = logging.getLogger(__name__)
ROUTE = "/api/v4/customer-service/attachments"


class InvalidSignature(Forbidden):
    code, message = "invalid_signature", "this link is not valid"


class UrlExpired(Forbidden):
    code, message = "url_expired", "this link has expired: ask for a fresh one"


@dataclass(frozen=True)
class Served:
    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    thumbnail_edge: int
    ttl_seconds: int
    max_concurrent: int = 2


class Attachments:
    def __init__(self, chat: Chat, files: AttachmentStore, *, secret: bytes, limits: Limits,
                 clock: Callable[[], float] = time.time) -> None:
        self._chat, self._files, self._secret, self.limits, self._clock = chat, files, secret, limits, clock
        self._decoding = asyncio.Semaphore(limits.max_concurrent)

    async def upload(self, principal: Principal, session_id: int, data: bytes) -> dict[str, Any]:
        """Store a picture for `session_id`; returns the attachment with signed URLs (see `describe`)."""
        await self._session(principal, session_id, domain.check_can_post)
        if len(data) > self.limits.max_bytes:
            raise ImageTooLarge(f"the file is larger than {self.limits.max_bytes} bytes",
                                details={"max_bytes": self.limits.max_bytes})
        async with self._decoding:
            picture = await asyncio.to_thread(images.process, data, max_pixels=self.limits.max_pixels,
                                              thumbnail_edge=self.limits.thumbnail_edge)
        attachment_id = uuid4()
        keys = file_keys(attachment_id)
        try:
            await self._files.put(keys[0], picture.full.data)
            await self._files.put(keys[1], picture.thumbnail.data)
            async with self._chat.transaction() as tx:
                session = await _load(tx.db, session_id, for_update=True)
                domain.check_can_post(principal, store.ref(session))
                row = await store.insert_attachment(
                    tx.db, id=attachment_id, session_id=session_id,
                    uploader_type="admin" if principal.is_admin else "user", uploader_id=principal.user_id,
                    format=picture.format, width=picture.full.width, height=picture.full.height,
                    size_bytes=len(picture.full.data), thumbnail_width=picture.thumbnail.width,
                    thumbnail_height=picture.thumbnail.height,
                )
        except BaseException:
            for key in keys:
                await self._files.delete(key)
            raise
        return self.describe(row)

    async def links(self, principal: Principal, session_id: int, attachment_id: UUID) -> dict[str, Any]:
        """Fresh signed URLs for an attachment of the session, for its user or an admin."""
        await self._session(principal, session_id, domain.check_can_view)
        async with self._chat.transaction() as tx:
            row = await store.get_attachment(tx.db, attachment_id)
        if row is None or row.session_id != session_id:
            raise NotFound(f"attachment {attachment_id} not found in session {session_id}")
        return self.describe(row)

    async def links_for_page(self, session_id: int, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A page of messages the caller may read (chat.messages checked it) with `attachment` (as `describe`)
        on each image message whose picture is in the session: one query, instead of one request per picture."""
        ids = [UUID(m["message_content"]) for m in items
               if m["message_type"] == "image" and is_attachment_id(m["message_content"])]
        if not ids:
            return items
        async with self._chat.transaction() as tx:
            rows = await store.attachments_in(tx.db, session_id, ids)
        found = {row.id: self.describe(row) for row in rows}
        return [{**m, "attachment": found[UUID(m["message_content"])]} if m["message_type"] == "image"
                and is_attachment_id(m["message_content"]) and UUID(m["message_content"]) in found else m
                for m in items]

    def describe(self, row: AttachmentRow) -> dict[str, Any]:
        expires = int(self._clock()) + self.limits.ttl_seconds
        return {
            "attachment_id": str(row.id), "session_id": row.session_id, "content_type": CONTENT_TYPES[row.format],
            "width": row.width, "height": row.height, "size_bytes": row.size_bytes,
            "thumbnail_width": row.thumbnail_width, "thumbnail_height": row.thumbnail_height,
            "url": self._url(row.id, "full", expires), "thumbnail_url": self._url(row.id, "thumbnail", expires),
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
        }

    async def serve(self, attachment_id: UUID, variant: Variant, expires: int, sig: str) -> Served:
        """The bytes behind a signed URL: 403 `invalid_signature` (forged, or for another attachment/variant),
        403 `url_expired`, 404 when the attachment is gone."""
        if not signing.matches(self._secret, attachment_id, variant, expires, sig):
            raise InvalidSignature()
        if self._clock() > expires:
            raise UrlExpired()
        async with self._chat.transaction() as tx:
            row = await store.get_attachment(tx.db, attachment_id)
        data = await self._files.get(_key(attachment_id, variant)) if row is not None else None
        if row is None or data is None:
            raise NotFound("attachment not found")
        suffix = "" if variant == "full" else "-thumbnail"
        return Served(data, CONTENT_TYPES[row.format], f"picture-{row.id}{suffix}.{row.format}")

    def _url(self, attachment_id: UUID, variant: Variant, expires: int) -> str:
        sig = signing.signature(self._secret, attachment_id, variant, expires)
        return f"{ROUTE}/{attachment_id}/{variant}?expires={expires}&sig={sig}"

    async def _session(self, principal: Principal, session_id: int,
                       check: Callable[[Principal, domain.SessionRef], None]) -> SessionRow:
        async with self._chat.transaction() as tx:
            session = await _load(tx.db, session_id)
        check(principal, store.ref(session))
        return session


async def _load(db: Any, session_id: int, *, for_update: bool = False) -> SessionRow:
    session = await store.get_session(db, session_id, for_update=for_update)
    if session is None:
        raise NotFound(f"session {session_id} not found")
    return session


def _key(attachment_id: UUID, variant: Variant) -> str:
    return f"{attachment_id}/{variant}"


def file_keys(attachment_id: UUID) -> list[str]:
    """The store keys of an attachment's files: the picture, then its thumbnail."""
    return [_key(attachment_id, "full"), _key(attachment_id, "thumbnail")]
