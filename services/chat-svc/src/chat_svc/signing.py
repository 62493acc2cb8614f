"""Short-lived signed URLs for attachments: an `<img>` cannot send a bearer token, so the right to read one
variant of one attachment until an instant is an HMAC (SHA-256, key `CHAT_ATTACHMENT_URL_SECRET`) over
`attachment id | variant | expiry`, carried in the query string."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal
from uuid import UUID

Variant = Literal["full", "thumbnail"]


def signature(secret: bytes, attachment_id: UUID, variant: Variant, expires: int) -> str:
    message = f"{attachment_id}|{variant}|{expires}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def matches(secret: bytes, attachment_id: UUID, variant: Variant, expires: int, sig: str) -> bool:
    """`sig` is our signature of exactly this attachment, variant and expiry (whether it has passed or not)."""
    expected = signature(secret, attachment_id, variant, expires)
    return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))
