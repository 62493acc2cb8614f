"""Payloads only Socket.IO carries, server -> client (the shared data models are in ``contracts.payloads``).
``system:token_expired`` is the platform's own addition (one socket, not a broadcast)."""

from typing import Literal

from contracts.fields import Outbound, ShortText
from contracts.time import BeijingDatetime


class TokenExpiredData(Outbound):
    """Sent to one socket when the access token it connected with expires, right before the gateway
    disconnects it. A client reconnects with a fresh token (the pages renew theirs before this happens)."""

    code: Literal["token_expired"] = "token_expired"
    message: ShortText
    expired_at: BeijingDatetime
