"""The notification module's data: a notification and a change of its read state. REST answers with them, the
domain events on RabbitMQ carry them, and the gateway pushes them to Socket.IO clients (``notification:new``,
``notification:broadcast``, ``notification:update``), exactly as the protocol spec's TypeScript interfaces
(docs/websocket-protocol.md). Unknown extra keys are ignored (see ``Outbound``)."""

from typing import Literal

from contracts.fields import Content, Count, Flag, Id, OptionalId, OptionalLink, Outbound, Title
from contracts.time import BeijingDatetime

NotificationType = Literal["system", "user", "order", "alert"]


class NotificationData(Outbound):
    """``notification:new`` / ``notification:broadcast``."""

    notification_id: Id
    type: NotificationType
    title: Title
    content: Content
    link: OptionalLink = None
    created_at: BeijingDatetime
    is_read: Flag
    target_user_id: OptionalId = None


class NotificationUpdateData(Outbound):
    """``notification:update``: a notification's read state changed."""

    notification_id: Id
    is_read: Flag


class UnreadByType(Outbound):
    """One admin's unread notifications per type (they sum to ``unread_count``)."""

    system: Count
    user: Count
    order: Count
    alert: Count


class UnreadCountData(Outbound):
    """``notification:unread_count``: the admin's unread badge, computed by notification-svc after every change
    that affects it and pushed to every socket of that admin, so every tab and device shows the same number."""

    unread_count: Count
    by_type: UnreadByType
