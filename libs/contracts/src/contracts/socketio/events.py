"""The one registry of Socket.IO event names, their direction and payload model.

Names follow ``<module>:<action>`` (lowercase snake_case), checked for every entry at import. ``chat:typing``
is registered twice, once per direction, so specs are keyed by ``(name, direction)``.
"""

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from contracts.payloads import (
    AlertData,
    AssignmentData,
    ChatMessageData,
    MaintenanceData,
    NotificationData,
    NotificationUpdateData,
    QueueUpdateData,
    ReadData,
    SessionData,
    StatusData,
    TypingData,
    UnreadCountData,
)
from contracts.payloads.agents import AgentData
from contracts.payloads.notes import NoteData
from contracts.socketio.client import MarkReadPayload, RegisterUserPayload, SendMessagePayload, TypingPayload
from contracts.socketio.server import TokenExpiredData

Direction = Literal["server_to_client", "client_to_server"]
SERVER_TO_CLIENT: Direction = "server_to_client"
CLIENT_TO_SERVER: Direction = "client_to_server"

NAME_PATTERN = re.compile(r"^[a-z][a-z_]*:[a-z][a-z_]*$")

NOTIFICATION_NEW = "notification:new"
NOTIFICATION_BROADCAST = "notification:broadcast"
NOTIFICATION_UPDATE = "notification:update"
NOTIFICATION_MARK_READ = "notification:mark_read"
CHAT_NEW_MESSAGE = "chat:new_message"
CHAT_SESSION_UPDATE = "chat:session_update"
CHAT_SESSION_ASSIGNED = "chat:session_assigned"
CHAT_SEND_MESSAGE = "chat:send_message"
CHAT_TYPING = "chat:typing"
CHAT_READ = "chat:read"
CHAT_QUEUE_UPDATE = "chat:queue_update"
SYSTEM_STATUS_CHANGE = "system:status_change"
SYSTEM_ALERT = "system:alert"
SYSTEM_MAINTENANCE = "system:maintenance"
SYSTEM_TOKEN_EXPIRED = "system:token_expired"
CHAT_AGENT_UPDATE = "chat:agent_update"
NOTIFICATION_UNREAD_COUNT = "notification:unread_count"
CHAT_NOTE = "chat:note"

BUILTIN_EVENTS: frozenset[str] = frozenset(
    {
        "connect", "connection", "disconnect", "disconnecting", "connect_error", "error", "message",
        "reconnect", "reconnect_attempt", "reconnect_error", "reconnect_failed", "ping", "new_namespace",
        "*",
    }
)  # fmt: skip
"""Names Socket.IO (server, client, manager) reserves or emits itself; ``*`` is python-socketio's catch-all."""

LEGACY_EVENT_REGISTER_USER = "register_user"
LEGACY_EVENTS: dict[str, type[BaseModel]] = {LEGACY_EVENT_REGISTER_USER: RegisterUserPayload}
"""Older clients' events (client -> server); accepted, and deliberately outside the naming rule."""


@dataclass(frozen=True)
class EventSpec:
    name: str
    module: str
    action: str
    direction: Direction
    payload_model: type[BaseModel]
    description: str
    ack_required: bool = False


def _spec(
    name: str, direction: Direction, model: type[BaseModel], description: str, ack: bool = False
) -> EventSpec:
    if not NAME_PATTERN.match(name):
        raise ValueError(f"Socket.IO event name {name!r} breaks the naming rule {NAME_PATTERN.pattern}")
    module, action = name.split(":")
    return EventSpec(name, module, action, direction, model, description, ack)


_S, _C = SERVER_TO_CLIENT, CLIENT_TO_SERVER
_ALL = (
    _spec(NOTIFICATION_NEW, _S, NotificationData, "A new notification for one admin (room user:<id>)."),
    _spec(NOTIFICATION_BROADCAST, _S, NotificationData, "A notification broadcast to every online admin."),
    _spec(NOTIFICATION_UPDATE, _S, NotificationUpdateData, "A notification's read state changed."),
    _spec(NOTIFICATION_MARK_READ, _C, MarkReadPayload, "Mark one notification as read.", ack=True),
    _spec(CHAT_NEW_MESSAGE, _S, ChatMessageData, "A new chat message in a session the socket takes part in."),
    _spec(CHAT_SESSION_UPDATE, _S, SessionData, "A chat session's state changed."),
    _spec(CHAT_SESSION_ASSIGNED, _S, AssignmentData, "A chat session was assigned to this admin."),
    _spec(CHAT_SEND_MESSAGE, _C, SendMessagePayload, "Send a message in a session.", ack=True),
    _spec(CHAT_TYPING, _C, TypingPayload, "The sender is typing in a session (fire and forget)."),
    _spec(CHAT_TYPING, _S, TypingData, "The other party of a session is typing."),
    _spec(CHAT_READ, _S, ReadData, "A participant of a session read its messages up to last_read_message_id."),
    _spec(SYSTEM_STATUS_CHANGE, _S, StatusData, "A platform component changed its status."),
    _spec(SYSTEM_ALERT, _S, AlertData, "An operational alert for admins."),
    _spec(SYSTEM_MAINTENANCE, _S, MaintenanceData, "A maintenance window was scheduled."),
    _spec(SYSTEM_TOKEN_EXPIRED, _S, TokenExpiredData,
          "This socket's access token expired; the gateway disconnects it next (reconnect with a fresh token)."),
    _spec(CHAT_AGENT_UPDATE, _S, AgentData,
          "An agent's availability, presence or load changed (to supervisors, and to that agent)."),
    _spec(CHAT_QUEUE_UPDATE, _S, QueueUpdateData,
          "This user's waiting session moved in the queue: position (1 = next) and estimated wait."),
    _spec(NOTIFICATION_UNREAD_COUNT, _S, UnreadCountData,
          "This admin's unread badge (total and per type), pushed after every change that affects it."),
    _spec(CHAT_NOTE, _S, NoteData,
          "A private note on a session (admins only: its agent, the note's author and supervisors; never users)."),
)

SOCKET_EVENTS: dict[tuple[str, Direction], EventSpec] = {(s.name, s.direction): s for s in _ALL}
assert len(SOCKET_EVENTS) == len(_ALL), "duplicate (name, direction) in the Socket.IO registry"

EVENT_NAMES: frozenset[str] = frozenset(s.name for s in _ALL)


def server_to_client(name: str) -> EventSpec:
    """The spec of an event the server emits; KeyError when the server never emits ``name``."""
    return SOCKET_EVENTS[(name, SERVER_TO_CLIENT)]


def client_to_server(name: str) -> EventSpec:
    """The spec of an event a client emits; KeyError when clients may not emit ``name``."""
    return SOCKET_EVENTS[(name, CLIENT_TO_SERVER)]


def specs_for(direction: Direction) -> list[EventSpec]:
    """Every spec in one direction, sorted by name."""
    return sorted((s for s in _ALL if s.direction == direction), key=lambda s: s.name)


def is_known_event(name: str) -> bool:
    """True for a registered, built-in or legacy event name."""
    return name in EVENT_NAMES or name in BUILTIN_EVENTS or name in LEGACY_EVENTS
