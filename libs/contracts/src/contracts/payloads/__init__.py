"""The platform's data models, one module per domain module: what REST answers with, what the domain events on
RabbitMQ carry (``contracts.events.payloads`` wraps them), and what the gateway pushes to Socket.IO clients.
Outbound: unknown extra keys are ignored (``contracts.fields.Outbound``).

- ``contracts.payloads.notification``  ``NotificationData``, ``NotificationUpdateData``
- ``contracts.payloads.chat``          ``ChatMessageData``, ``SessionData``, ``AssignmentData``, ``TypingData``,
  ``QueueUpdateData``
- ``contracts.payloads.system``        ``StatusData``, ``AlertData``, ``MaintenanceData``
- ``contracts.payloads.agents``        ``AgentData`` (import it from there)
- ``contracts.payloads.read_state``    ``ReadData`` (``chat:read``)
- ``contracts.payloads.notes``         ``NoteData`` (``chat:note``, admins only; import it from there)
- ``contracts.payloads.system_text``   the codes (and parameters) of text the platform writes for people
"""

from contracts.payloads.chat import (
    AssignmentData,
    AssignmentReason,
    ChatMessageData,
    CloseReason,
    MessageType,
    QueueUpdateData,
    SenderType,
    SessionData,
    SessionStatus,
    TypingData,
    is_attachment_id,
    is_http_url,
)
from contracts.payloads.notification import (
    NotificationData,
    NotificationType,
    NotificationUpdateData,
    UnreadByType,
    UnreadCountData,
)
from contracts.payloads.read_state import ReadData
from contracts.payloads.system import (
    AlertData,
    AlertLevel,
    ComponentStatus,
    MaintenanceAudience,
    MaintenanceData,
    StatusData,
)

__all__ = [
    "AlertData",
    "AlertLevel",
    "AssignmentData",
    "AssignmentReason",
    "ChatMessageData",
    "CloseReason",
    "ComponentStatus",
    "MaintenanceAudience",
    "MaintenanceData",
    "MessageType",
    "NotificationData",
    "NotificationType",
    "NotificationUpdateData",
    "QueueUpdateData",
    "ReadData",
    "SenderType",
    "SessionData",
    "SessionStatus",
    "StatusData",
    "TypingData",
    "UnreadByType",
    "UnreadCountData",
    "is_attachment_id",
    "is_http_url",
]  # fmt: skip
