"""The one registry of domain events: event type -> exchange, payload model and supported major version."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from contracts.errors import ContractError, InvalidPayload, UnknownEventType, UnsupportedSchemaVersion
from contracts.events import payloads as p
from contracts.events.envelope import EventEnvelope, parse_envelope
from contracts.events.topology import (
    CHAT_EVENTS_EXCHANGE,
    HEALTH_EXCHANGE,
    NOTIFICATION_EVENTS_EXCHANGE,
    PRESENCE_EXCHANGE,
)
from contracts.time import now_beijing

NOTIFICATION_CREATED = "notification.created"
NOTIFICATION_READ_STATE_CHANGED = "notification.read_state_changed"
SYSTEM_ALERT_RAISED = "system.alert_raised"
SYSTEM_MAINTENANCE_SCHEDULED = "system.maintenance_scheduled"
SYSTEM_STATUS_CHANGED = "system.status_changed"
CHAT_MESSAGE_CREATED = "chat.message_created"
CHAT_SESSION_UPDATED = "chat.session_updated"
CHAT_SESSION_ASSIGNED = "chat.session_assigned"
CHAT_READ_STATE_CHANGED = "chat.read_state_changed"
CHAT_QUEUE_UPDATED = "chat.queue_updated"
PRESENCE_ADMIN_CONNECTIONS_CHANGED = "presence.admin_connections_changed"
PRESENCE_GATEWAY_HEARTBEAT = "presence.gateway_heartbeat"
GATEWAY_CHAT_TYPING = "gateway.chat_typing"
CHAT_AGENT_UPDATED = "chat.agent_updated"
NOTIFICATION_UNREAD_COUNTS_CHANGED = "notification.unread_counts_changed"
CHAT_AGENT_ALERTED = "chat.agent_alerted"
CHAT_NOTE_ADDED = "chat.note_added"
CHAT_MESSAGE_LEFT = "chat.message_left"
PRESENCE_USER_CONNECTIONS_CHANGED = "presence.user_connections_changed"
HEALTH_SERVICE_HEARTBEAT = "health.service_heartbeat"


@dataclass(frozen=True)
class DomainEventSpec:
    event_type: str
    exchange: str
    payload_model: type[BaseModel]
    major: int = 1
    minor: int = 0

    @property
    def routing_key(self) -> str:
        return self.event_type

    @property
    def schema_version(self) -> str:
        """The version producers built against this contract write."""
        return f"{self.major}.{self.minor}"

    def parse(self, envelope: EventEnvelope) -> BaseModel:
        """The typed payload; rejects another event type, an unknown major, or an invalid payload.

        Any minor of the supported major is accepted: unknown added fields are ignored.
        """
        if envelope.event_type != self.event_type:
            raise ContractError(f"envelope carries {envelope.event_type!r}, not {self.event_type!r}")
        if envelope.major != self.major:
            raise UnsupportedSchemaVersion(self.event_type, envelope.schema_version, self.major)
        try:
            return self.payload_model.model_validate(envelope.payload)
        except ValidationError as exc:
            raise InvalidPayload(f"{self.event_type} {envelope.event_id}: {exc}") from exc


class _Registry(dict[str, DomainEventSpec]):
    def __missing__(self, event_type: str) -> DomainEventSpec:
        raise UnknownEventType(event_type, list(self))


def _registry(specs: Iterable[DomainEventSpec]) -> _Registry:
    registry = _Registry()
    for spec in specs:
        if spec.event_type in registry:
            raise ValueError(f"domain event {spec.event_type!r} registered twice")
        registry[spec.event_type] = spec
    return registry


_N, _C, _P = NOTIFICATION_EVENTS_EXCHANGE, CHAT_EVENTS_EXCHANGE, PRESENCE_EXCHANGE
DOMAIN_EVENTS: dict[str, DomainEventSpec] = _registry(
    [
        DomainEventSpec(NOTIFICATION_CREATED, _N, p.NotificationCreated),
        DomainEventSpec(NOTIFICATION_READ_STATE_CHANGED, _N, p.NotificationReadStateChanged),
        DomainEventSpec(SYSTEM_ALERT_RAISED, _N, p.SystemAlertRaised),
        DomainEventSpec(SYSTEM_MAINTENANCE_SCHEDULED, _N, p.SystemMaintenanceScheduled),
        DomainEventSpec(SYSTEM_STATUS_CHANGED, _N, p.SystemStatusChanged),
        DomainEventSpec(CHAT_MESSAGE_CREATED, _C, p.ChatMessageCreated, minor=1),  # 1.1: `session`
        DomainEventSpec(CHAT_SESSION_UPDATED, _C, p.ChatSessionUpdated),
        DomainEventSpec(CHAT_SESSION_ASSIGNED, _C, p.ChatSessionAssigned),
        DomainEventSpec(CHAT_READ_STATE_CHANGED, _C, p.ChatReadStateChanged),
        DomainEventSpec(PRESENCE_ADMIN_CONNECTIONS_CHANGED, _P, p.AdminConnectionsChanged),
        DomainEventSpec(PRESENCE_GATEWAY_HEARTBEAT, _P, p.GatewayHeartbeat),
        DomainEventSpec(GATEWAY_CHAT_TYPING, _P, p.ChatTypingRelayed),
        DomainEventSpec(CHAT_AGENT_UPDATED, _C, p.ChatAgentUpdated),
        DomainEventSpec(CHAT_QUEUE_UPDATED, _C, p.ChatQueueUpdated),
        DomainEventSpec(NOTIFICATION_UNREAD_COUNTS_CHANGED, _N, p.NotificationUnreadCountsChanged),
        DomainEventSpec(CHAT_AGENT_ALERTED, _C, p.ChatAgentAlerted),
        DomainEventSpec(CHAT_NOTE_ADDED, _C, p.ChatNoteAdded),
        DomainEventSpec(CHAT_MESSAGE_LEFT, _C, p.ChatMessageLeft),
        DomainEventSpec(PRESENCE_USER_CONNECTIONS_CHANGED, _P, p.UserConnectionsChanged),
        DomainEventSpec(HEALTH_SERVICE_HEARTBEAT, HEALTH_EXCHANGE, p.ServiceHeartbeat),
    ]
)
"""Unknown keys raise ``UnknownEventType`` (a ``ContractError`` and a ``KeyError``)."""


def new_envelope(
    event_type: str,
    producer: str,
    payload_model: BaseModel,
    aggregate_id: str | int,
    *,
    correlation_id: str | None = None,
    event_id: UUID | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    """Wrap a payload in an envelope with this contract's schema version; the payload's type must be the
    one registered for ``event_type``."""
    spec = DOMAIN_EVENTS[event_type]
    if type(payload_model) is not spec.payload_model:
        raise ContractError(
            f"{event_type} takes {spec.payload_model.__name__}, got {type(payload_model).__name__}"
        )
    fields: dict[str, Any] = {"event_id": event_id} if event_id is not None else {}
    return EventEnvelope(
        **fields,
        event_type=event_type,
        occurred_at=occurred_at if occurred_at is not None else now_beijing(),
        producer=producer,
        schema_version=spec.schema_version,
        aggregate_id=str(aggregate_id),
        correlation_id=correlation_id,
        payload=payload_model.model_dump(mode="json"),
    )


def parse_domain_event(body: bytes | str) -> tuple[EventEnvelope, BaseModel]:
    """Envelope and typed payload of a message body. Raises a ``ContractError`` subclass when the body is
    malformed, the type unknown, the major unsupported or the payload invalid (dead-letter it)."""
    envelope = parse_envelope(body)
    return envelope, DOMAIN_EVENTS[envelope.event_type].parse(envelope)
