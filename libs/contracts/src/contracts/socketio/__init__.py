"""Socket.IO contract: the event registry, acks, the payloads only Socket.IO carries (client -> server, and
``system:token_expired``). The data models the server events carry are shared: ``contracts.payloads``."""

from contracts.socketio.ack import Ack, AckError, AckOk, ErrorInfo, ack_error, ack_ok, parse_ack
from contracts.socketio.client import MarkReadPayload, RegisterUserPayload, SendMessagePayload, TypingPayload
from contracts.socketio.events import (
    BUILTIN_EVENTS,
    LEGACY_EVENTS,
    NAME_PATTERN,
    SOCKET_EVENTS,
    EventSpec,
    client_to_server,
    server_to_client,
)
from contracts.socketio.server import TokenExpiredData

__all__ = [
    "BUILTIN_EVENTS", "LEGACY_EVENTS", "NAME_PATTERN", "SOCKET_EVENTS", "Ack", "AckError", "AckOk", "ErrorInfo",
    "EventSpec", "MarkReadPayload", "RegisterUserPayload", "SendMessagePayload", "TokenExpiredData",
    "TypingPayload", "ack_error", "ack_ok", "client_to_server", "parse_ack", "server_to_client",
]  # fmt: skip
