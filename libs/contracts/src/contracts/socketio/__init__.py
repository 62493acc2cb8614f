"""Socket.IO contract: payload models, the event registry, acks."""

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
from contracts.socketio.payloads import (
    AssignmentData,
    ChatMessageData,
    NotificationData,
    NotificationUpdateData,
    SessionData,
    TypingData,
)
from contracts.socketio.system import AlertData, MaintenanceData, StatusData

__all__ = [
    "BUILTIN_EVENTS", "LEGACY_EVENTS", "NAME_PATTERN", "SOCKET_EVENTS", "Ack", "AckError", "AckOk",
    "AlertData", "AssignmentData", "ChatMessageData", "ErrorInfo", "EventSpec", "MaintenanceData",
    "MarkReadPayload", "NotificationData", "NotificationUpdateData", "RegisterUserPayload",
    "SendMessagePayload", "SessionData", "StatusData", "TypingData", "TypingPayload", "ack_error", "ack_ok",
    "client_to_server", "parse_ack", "server_to_client",
]  # fmt: skip
