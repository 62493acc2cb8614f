"""Payload models of the domain events on RabbitMQ (the ``payload`` of an ``EventEnvelope``).

Like every outbound model they ignore unknown keys, so a producer's minor (additive) bump never breaks an
older consumer.
"""

from typing import Annotated, Literal

from pydantic import Field, Strict
from pydantic.json_schema import SkipJsonSchema

from contracts.fields import Count, Flag, Id, Outbound, ShortText
from contracts.payloads import (
    AlertData,
    AssignmentData,
    ChatMessageData,
    MaintenanceData,
    NotificationData,
    QueueUpdateData,
    ReadData,
    SessionData,
    StatusData,
    TypingData,
    UnreadCountData,
)
from contracts.payloads.agents import AgentData
from contracts.payloads.notes import NoteData
from contracts.time import BeijingDatetime

MAX_BULK_IDS = 1000
GatewayId = ShortText
"""Stable id of one gateway process, e.g. ``gw-8010-3f2a``."""


class NotificationCreated(Outbound):
    """``notification.created``: ``target_user_id`` null means broadcast to every admin."""

    notification: NotificationData
    target_user_id: Id | None


class NotificationReadStateChanged(Outbound):
    """``notification.read_state_changed``: ``user_id`` changed the read state of these notifications."""

    user_id: Id
    notification_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BULK_IDS)]
    is_read: Flag


class SystemAlertRaised(Outbound):
    """``system.alert_raised``."""

    alert: AlertData


class SystemMaintenanceScheduled(Outbound):
    """``system.maintenance_scheduled``."""

    maintenance: MaintenanceData


class SystemStatusChanged(Outbound):
    """``system.status_changed``."""

    status: StatusData


class ChatMessageCreated(Outbound):
    """``chat.message_created``: the session's user and (if assigned) admin, so the gateway can route it."""

    message: ChatMessageData
    user_id: Id
    admin_id: Id | None
    session: Annotated[SessionData | SkipJsonSchema[None], Field(
        default=None, exclude_if=lambda v: v is None, json_schema_extra=lambda s: s.pop("default", None),
        description="Since 1.1, on the last message of a session in one commit when messages were all that "
                    "changed it: the session's state after that commit, which then gets no "
                    "`chat.session_updated` of its own (the gateway sends it as `chat:session_update` right "
                    "after the message's `chat:new_message`). Omitted otherwise.")] = None


class ChatSessionUpdated(Outbound):
    """``chat.session_updated``."""

    session: SessionData


class ChatSessionAssigned(Outbound):
    """``chat.session_assigned``."""

    assignment: AssignmentData


class ChatReadStateChanged(Outbound):
    """``chat.read_state_changed``: a participant's read position moved; the session's user and (if assigned)
    admin, so the gateway can route it to both."""

    read: ReadData
    user_id: Id
    admin_id: Id | None


class AdminConnectionsChanged(Outbound):
    """``presence.admin_connections_changed``: ``connections`` is that admin's socket count on that gateway
    now (0 = the admin left this gateway). Consumers sum over gateways to know whether an admin is online."""

    gateway_id: GatewayId
    admin_id: Id
    connections: Count
    at: BeijingDatetime


class GatewayHeartbeat(Outbound):
    """``presence.gateway_heartbeat``: a gateway's full admin -> socket-count map. A consumer forgets a
    gateway (and its sockets) when no heartbeat arrives within ``ttl_seconds`` of ``at``."""

    gateway_id: GatewayId
    admins: dict[Annotated[int, Field(gt=0)], Count]
    at: BeijingDatetime
    ttl_seconds: Annotated[int, Strict(), Field(gt=0, le=3600)]


class UserConnectionsChanged(Outbound):
    """``presence.user_connections_changed``: ``connections`` is that end user's socket count on that gateway
    now (0 = the user left this gateway), published on every change. Internal (no socket event): notification-svc
    sums over live gateways to know whether a user can be reached by socket or only outside the platform."""

    gateway_id: GatewayId
    user_id: Id
    connections: Count
    at: BeijingDatetime


class ChatTypingRelayed(Outbound):
    """``gateway.chat_typing``: a gateway relays one ``chat:typing`` to every gateway (non-persistent, never
    stored), because the recipient may be connected to another one. Only gateways consume it."""

    typing: TypingData
    recipient_id: Id


class ChatAgentUpdated(Outbound):
    """``chat.agent_updated``: an agent's availability, presence or load changed (aggregate_id = the admin id)."""

    agent: AgentData


MAX_QUEUE_UPDATES = 500


class QueuedSession(Outbound):
    """One waiting session's new place: its user (the only recipient) and what they are shown."""

    user_id: Id
    update: QueueUpdateData


class ChatQueueUpdated(Outbound):
    """``chat.queue_updated``: the waiting sessions whose position or estimate changed since the last such event
    (chat_svc.queue publishes at most one per interval, in chunks of at most ``MAX_QUEUE_UPDATES``)."""

    sessions: Annotated[list[QueuedSession], Field(min_length=1, max_length=MAX_QUEUE_UPDATES)]


class AdminUnreadCount(UnreadCountData):
    """One admin's unread badge (``UnreadCountData``) and whose it is."""

    user_id: Id


class NotificationUnreadCountsChanged(Outbound):
    """``notification.unread_counts_changed``: these admins' unread badges now (after the change committed in
    the same transaction). One admin after a read / unread / read-all / archive / unarchive or a notification
    targeted to them; every admin notification-svc knows after a broadcast (in pieces of ``MAX_BULK_IDS``)."""

    counts: Annotated[list[AdminUnreadCount], Field(min_length=1, max_length=MAX_BULK_IDS)]


class ChatAgentAlerted(Outbound):
    """``chat.agent_alerted``: an alert chat-svc raises for one agent only (aggregate_id = the admin id), e.g. a
    reply deadline passed (chat_svc.reply_deadlines). The gateway pushes ``alert`` as ``system:alert`` to that
    agent's sockets (``admin:<admin_id>``) and nobody else's; ``alert.code`` + ``alert.params`` render it in the
    console's language."""

    admin_id: Id
    alert: AlertData


class ChatNoteAdded(Outbound):
    """``chat.note_added``: a private note on a session; ``admin_id`` is the session's agent once it was written
    (the gateway routes it to that agent, the author and the supervisors; there is no user id here on purpose)."""

    note: NoteData
    admin_id: Id | None


LeftMessageReason = Literal["outside_working_hours", "no_agent_online"]
PREVIEW_MAX = 200


class ChatMessageLeft(Outbound):
    """``chat.message_left`` (aggregate_id = the session id): a user opened a session that nobody can take now
    (outside working hours, or no agent online and available); their message waits in the queue. notification-svc
    tells the admins in ``recipient_ids`` (chat-svc knows which admins are supervisors: their tokens said so), or
    every admin when it is null (CHAT_LEFT_MESSAGE_NOTIFY=all_agents, or no supervisor known yet)."""

    session_id: Id
    user_id: Id
    reason: LeftMessageReason
    message_type: Literal["text", "image"]
    preview: Annotated[str, Strict(), Field(max_length=PREVIEW_MAX)] = Field(
        description="The start of the user's message (empty for a picture)")
    next_open_at: BeijingDatetime | None = Field(description="With outside_working_hours: the next opening")
    recipient_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BULK_IDS)] | None = Field(
        description="The admins to notify; null: every admin (a broadcast)")
    at: BeijingDatetime


class ServiceHeartbeat(Outbound):
    """``health.service_heartbeat``: one process of a service says how its own checks went (the same checks as its
    ``GET /health``), every few seconds, non-persistent and never through the outbox. Internal (no socket event):
    the gateways turn a service with no healthy process for a while into ``system:status_change``. A heartbeat is
    worth ``ttl_seconds`` from when it arrives; after that, that process counts as silent."""

    service: ShortText
    instance_id: ShortText = Field(description="One process of the service (host, pid, random part)")
    healthy: Flag
    checks: dict[ShortText, Flag] = Field(description="Each check of the service's /health: passed or not")
    at: BeijingDatetime
    ttl_seconds: Annotated[float, Strict(), Field(gt=0, le=3600)]
