import json
from uuid import uuid4

import pytest
from contracts.errors import (
    ContractError,
    InvalidPayload,
    MalformedEnvelope,
    UnknownEventType,
    UnsupportedSchemaVersion,
)
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events import topology
from contracts.events.envelope import EventEnvelope, parse_envelope
from contracts.payloads import NotificationData
from pydantic import ValidationError

T = "2025-11-23T20:00:00.000+08:00"
NOTIFICATION = NotificationData(
    notification_id=1, type="alert", title="t", content="c", created_at=T, is_read=False
)
# The payloads are laid out to read as the contract, not as a formatter would.
# fmt: off
PAYLOADS = {
    r.NOTIFICATION_CREATED: {"notification": NOTIFICATION.model_dump(mode="json"), "target_user_id": None},
    r.NOTIFICATION_READ_STATE_CHANGED: {"user_id": 3, "notification_ids": [1, 2], "is_read": True},
    r.SYSTEM_ALERT_RAISED: {
        "alert": {"alert_id": 1, "level": "info", "title": "t", "message": "m", "created_at": T}
    },
    r.SYSTEM_MAINTENANCE_SCHEDULED: {
        "maintenance": {
            "maintenance_id": 1, "title": "t", "message": "m", "starts_at": T,
            "ends_at": "2025-11-24T02:00:00.000+08:00", "audience": "admins",
        }
    },
    r.SYSTEM_STATUS_CHANGED: {
        "status": {"component": "chat", "status": "down", "message": "m", "changed_at": T}
    },
    r.CHAT_MESSAGE_CREATED: {
        "message": {
            "message_id": 1, "session_id": 2, "sender_type": "user", "sender_id": 3,
            "message_content": "hi", "message_type": "text", "created_at": T,
        },
        "user_id": 3,
        "admin_id": None,
    },
    r.CHAT_SESSION_UPDATED: {
        "session": {
            "session_id": 2, "user_id": 3, "admin_id": 4, "status": "active", "priority": 1,
            "unread_count": 0, "last_message": "hi", "created_at": T, "updated_at": T,
        }
    },
    r.CHAT_READ_STATE_CHANGED: {
        "read": {"session_id": 2, "reader_type": "admin", "reader_id": 4, "last_read_message_id": 9, "read_at": T},
        "user_id": 3, "admin_id": 4,
    },
    r.CHAT_SESSION_ASSIGNED: {
        "assignment": {
            "session_id": 2, "user_id": 3, "admin_id": 4, "priority": 2, "assigned_at": T, "reason": "claim",
        }
    },
    r.PRESENCE_ADMIN_CONNECTIONS_CHANGED: {"gateway_id": "gw-1", "admin_id": 4, "connections": 0, "at": T},
    r.PRESENCE_USER_CONNECTIONS_CHANGED: {"gateway_id": "gw-1", "user_id": 7, "connections": 1, "at": T},
    r.PRESENCE_GATEWAY_HEARTBEAT: {
        "gateway_id": "gw-1", "admins": {"4": 2, "9": 1}, "at": T, "ttl_seconds": 30,
    },
    r.HEALTH_SERVICE_HEARTBEAT: {
        "service": "chat-svc", "instance_id": "chat-svc-host-42-ab12", "healthy": False,
        "checks": {"database": False, "broker": True}, "at": T, "ttl_seconds": 6,
    },
    r.GATEWAY_CHAT_TYPING: {
        "typing": {"session_id": 2, "sender_type": "user", "sender_id": 3}, "recipient_id": 4,
    },
    r.CHAT_AGENT_UPDATED: {
        "agent": {"admin_id": 5, "availability": "busy", "online": True, "status": "busy", "active_sessions": 2,
                  "capacity": 5, "availability_changed_at": "2026-12-07T10:00:00.000+08:00", "changed_by": "self"},
    },
    r.CHAT_QUEUE_UPDATED: {
        "sessions": [{"user_id": 3, "update": {"session_id": 2, "position": 1, "estimated_wait_seconds": None}}],
    },
    r.CHAT_NOTE_ADDED: {
        "note": {"note_id": 5, "session_id": 2, "author_id": 4, "content": "内部备注", "created_at": T, "transfer_to": None},
        "admin_id": 4,
    },
    r.NOTIFICATION_UNREAD_COUNTS_CHANGED: {
        "counts": [{"unread_count": 3, "by_type": {"system": 1, "user": 0, "order": 2, "alert": 0}, "user_id": 4}],
    },
    r.CHAT_AGENT_ALERTED: {
        "admin_id": 4,
        "alert": {"alert_id": 9, "level": "warning", "title": "t", "message": "m", "created_at": T,
                  "code": "reply_reminder", "params": {"session_id": 2, "seconds": 60}},
    },
    r.CHAT_MESSAGE_LEFT: {
        "session_id": 2, "user_id": 3, "reason": "outside_working_hours", "message_type": "text", "preview": "hi",
        "next_open_at": T, "recipient_ids": [1, 4], "at": T,
    },
}
# fmt: on


def _envelope(event_type: str, version: str = "1.0", payload: dict | None = None) -> bytes:
    return json.dumps({
        "event_id": str(uuid4()), "event_type": event_type, "occurred_at": T, "producer": "test",
        "schema_version": version, "aggregate_id": "1", "correlation_id": None,
        "payload": PAYLOADS[event_type] if payload is None else payload,
    }).encode()  # fmt: skip


def test_every_registered_event_has_a_sample_and_routes_by_its_type():
    assert set(PAYLOADS) == set(r.DOMAIN_EVENTS)
    for event_type, spec in r.DOMAIN_EVENTS.items():
        assert spec.event_type == event_type == spec.routing_key == topology.routing_key(event_type)
        assert spec.exchange in topology.EXCHANGES


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_domain_event_round_trip_is_lossless(event_type):
    spec = r.DOMAIN_EVENTS[event_type]
    payload = spec.payload_model.model_validate(PAYLOADS[event_type])
    assert payload.model_dump(mode="json") == PAYLOADS[event_type]
    envelope = r.new_envelope(event_type, "test", payload, aggregate_id=7, correlation_id="req-1")
    again, typed = r.parse_domain_event(envelope.to_bytes())
    assert again == envelope and typed == payload
    assert envelope.schema_version == spec.schema_version and envelope.major == 1 and envelope.aggregate_id == "7"


def test_minor_bump_with_added_fields_is_accepted():
    payload = {**PAYLOADS[r.NOTIFICATION_CREATED], "channel": "email"}
    envelope, typed = r.parse_domain_event(_envelope(r.NOTIFICATION_CREATED, "1.7", payload))
    assert envelope.major == 1 and envelope.minor == 7
    assert isinstance(typed, p.NotificationCreated)


def test_unknown_major_is_rejected_naming_type_and_versions():
    with pytest.raises(UnsupportedSchemaVersion) as exc:
        r.parse_domain_event(_envelope(r.NOTIFICATION_CREATED, "2.0"))
    message = str(exc.value)
    assert "notification.created" in message and "2.0" in message and "1.x" in message
    assert isinstance(exc.value, ContractError)


def test_unknown_event_type_is_rejected():
    body = json.loads(_envelope(r.NOTIFICATION_CREATED))
    body["event_type"] = "notification.exploded"
    with pytest.raises(UnknownEventType, match="notification.exploded"):
        r.parse_domain_event(json.dumps(body).encode())
    with pytest.raises(KeyError):
        r.DOMAIN_EVENTS["nope.nope"]


@pytest.mark.parametrize("version", ["1", "1.0.0", "v1.0", "01.0", ""])
def test_schema_version_must_be_major_dot_minor(version):
    with pytest.raises(MalformedEnvelope, match="schema_version"):
        parse_envelope(_envelope(r.NOTIFICATION_CREATED, version))


def test_garbage_body_is_a_malformed_envelope():
    with pytest.raises(MalformedEnvelope):
        parse_envelope(b"{not json")


def test_invalid_payload_is_a_contract_error_naming_the_field():
    payload = {**PAYLOADS[r.NOTIFICATION_READ_STATE_CHANGED], "notification_ids": []}
    with pytest.raises(InvalidPayload, match="notification_ids"):
        r.parse_domain_event(_envelope(r.NOTIFICATION_READ_STATE_CHANGED, payload=payload))


def test_bulk_ids_are_bounded():
    with pytest.raises(ValidationError, match="notification_ids"):
        p.NotificationReadStateChanged(user_id=1, notification_ids=list(range(1, 1002)), is_read=True)


def test_new_envelope_refuses_a_payload_of_another_event():
    with pytest.raises(ContractError, match="NotificationCreated"):
        r.new_envelope(r.NOTIFICATION_CREATED, "test", NOTIFICATION, aggregate_id=1)


def test_spec_parse_refuses_an_envelope_of_another_type():
    envelope = EventEnvelope.model_validate_json(_envelope(r.NOTIFICATION_CREATED))
    with pytest.raises(ContractError, match="chat.session_updated"):
        r.DOMAIN_EVENTS[r.CHAT_SESSION_UPDATED].parse(envelope)


def test_heartbeat_maps_admin_ids_to_socket_counts():
    beat = p.GatewayHeartbeat.model_validate(PAYLOADS[r.PRESENCE_GATEWAY_HEARTBEAT])
    assert beat.admins == {4: 2, 9: 1}
    with pytest.raises(ValidationError, match="admins"):
        p.GatewayHeartbeat.model_validate({**PAYLOADS[r.PRESENCE_GATEWAY_HEARTBEAT], "admins": {"4": -1}})


def test_topology_names():
    assert topology.NOTIFICATION_EVENTS_EXCHANGE == "notification.events"
    assert topology.CHAT_EVENTS_EXCHANGE == "chat.events"
    assert topology.PRESENCE_EXCHANGE == "gateway.presence"
    assert topology.COMMANDS_EXCHANGE == "platform.commands"
    assert topology.DEAD_LETTER_EXCHANGE == "platform.dlx"
    queue = topology.queue_name("gateway", "notifications")
    assert topology.dead_letter_queue(queue) == "gateway.notifications.dlq"
