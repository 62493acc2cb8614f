"""Every server -> client event reaches exactly the right sockets and no others.

Absence is checked without sleeping: after each event a barrier (`system:maintenance` for everyone) is
published; events are emitted in delivery order and each socket receives in order, so a socket that got the
barrier would already have got the event if it had been sent to it."""

from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from contracts.events import payloads as p
from contracts.events import registry as r
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
    UnreadByType,
)
from contracts.payloads.agents import AgentData
from contracts.payloads.notes import NoteData
from contracts.socketio import events as e
from contracts.time import now_beijing

pytestmark = pytest.mark.integration

ADMIN1, ADMIN2, USER1, USER2 = 101, 102, 201, 202
NOW = now_beijing()


def notification(target: int | None) -> p.NotificationCreated:
    data = NotificationData(notification_id=7, type="system", title="维护", content="今晚22:00维护",
                            created_at=NOW, is_read=False, target_user_id=target)
    return p.NotificationCreated(notification=data, target_user_id=target)


def maintenance(audience: str, maintenance_id: int = 1) -> p.SystemMaintenanceScheduled:
    return p.SystemMaintenanceScheduled(maintenance=MaintenanceData(
        maintenance_id=maintenance_id, title="维护", message="m", starts_at=NOW, ends_at=NOW + timedelta(hours=1),
        audience=audience))


def message(user_id: int, admin_id: int | None) -> p.ChatMessageCreated:
    data = ChatMessageData(message_id=456, session_id=789, sender_type="user", sender_id=user_id,
                           message_content="您好", message_type="text", created_at=NOW)
    return p.ChatMessageCreated(message=data, user_id=user_id, admin_id=admin_id)


def session(user_id: int, admin_id: int | None, status: str = "active") -> p.ChatSessionUpdated:
    return p.ChatSessionUpdated(session=SessionData(
        session_id=789, user_id=user_id, admin_id=admin_id, status=status, priority=1, unread_count=0,
        last_message="hi", created_at=NOW, updated_at=NOW))


# (socket event, domain event type, payload, {client name: how many of that event it gets})
CASES: list[tuple[str, str, Any, dict[str, int]]] = [
    (e.NOTIFICATION_NEW, r.NOTIFICATION_CREATED, notification(ADMIN1), {"admin1": 1, "admin1b": 1}),
    (e.NOTIFICATION_NEW, r.NOTIFICATION_CREATED, notification(USER1), {}),  # admins only
    (e.NOTIFICATION_BROADCAST, r.NOTIFICATION_CREATED, notification(None),
     {"admin1": 1, "admin1b": 1, "admin2": 1}),
    (e.NOTIFICATION_UPDATE, r.NOTIFICATION_READ_STATE_CHANGED,
     p.NotificationReadStateChanged(user_id=ADMIN2, notification_ids=[3, 4], is_read=True), {"admin2": 2}),
    (e.CHAT_NEW_MESSAGE, r.CHAT_MESSAGE_CREATED, message(USER1, ADMIN1), {"user1": 1, "admin1": 1, "admin1b": 1}),
    (e.CHAT_NEW_MESSAGE, r.CHAT_MESSAGE_CREATED, message(USER2, None), {"user2": 1}),
    (e.CHAT_SESSION_UPDATE, r.CHAT_SESSION_UPDATED, session(USER2, ADMIN2), {"user2": 1, "admin2": 1}),
    (e.CHAT_SESSION_ASSIGNED, r.CHAT_SESSION_ASSIGNED, p.ChatSessionAssigned(assignment=AssignmentData(
        session_id=789, user_id=USER1, admin_id=ADMIN2, priority=2, assigned_at=NOW, reason="auto")), {"admin2": 1}),
    (e.SYSTEM_ALERT, r.SYSTEM_ALERT_RAISED, p.SystemAlertRaised(alert=AlertData(
        alert_id=1, level="critical", title="t", message="m", created_at=NOW)), {"admin1": 1, "admin1b": 1, "admin2": 1}),
    (e.SYSTEM_STATUS_CHANGE, r.SYSTEM_STATUS_CHANGED, p.SystemStatusChanged(status=StatusData(
        component="chat", status="degraded", message="m", changed_at=NOW)), {"admin1": 1, "admin1b": 1, "admin2": 1}),
    (e.SYSTEM_MAINTENANCE, r.SYSTEM_MAINTENANCE_SCHEDULED, maintenance("admins"),
     {"admin1": 1, "admin1b": 1, "admin2": 1}),
    (e.SYSTEM_MAINTENANCE, r.SYSTEM_MAINTENANCE_SCHEDULED, maintenance("all"),
     {"admin1": 1, "admin1b": 1, "admin2": 1, "user1": 1, "user2": 1}),
    (e.CHAT_TYPING, r.GATEWAY_CHAT_TYPING, p.ChatTypingRelayed(
        typing={"session_id": 789, "sender_type": "user", "sender_id": USER1}, recipient_id=ADMIN1),
     {"admin1": 1, "admin1b": 1}),
    (e.CHAT_READ, r.CHAT_READ_STATE_CHANGED, p.ChatReadStateChanged(read=ReadData(
        session_id=789, reader_type="admin", reader_id=ADMIN1, last_read_message_id=456, read_at=NOW),
        user_id=USER1, admin_id=ADMIN1), {"user1": 1, "admin1": 1, "admin1b": 1}),
    (e.CHAT_AGENT_UPDATE, r.CHAT_AGENT_UPDATED, p.ChatAgentUpdated(agent=AgentData(
        admin_id=ADMIN2, availability="busy", online=True, status="busy", active_sessions=1, capacity=5,
        availability_changed_at=NOW, changed_by="self")), {"admin2": 1}),  # + the supervisors room (none here)
    (e.CHAT_QUEUE_UPDATE, r.CHAT_QUEUE_UPDATED, p.ChatQueueUpdated(sessions=[p.QueuedSession(
        user_id=USER2, update=QueueUpdateData(session_id=789, position=2, estimated_wait_seconds=40))]), {"user2": 1}),
    (e.NOTIFICATION_UNREAD_COUNT, r.NOTIFICATION_UNREAD_COUNTS_CHANGED, p.NotificationUnreadCountsChanged(counts=[
        p.AdminUnreadCount(user_id=ADMIN1, unread_count=3, by_type=UnreadByType(system=1, user=0, order=2, alert=0))]),
     {"admin1": 1, "admin1b": 1}),
    # a private note: the session's agent (ADMIN1, both tabs) and its author (ADMIN2); never the session's user
    (e.CHAT_NOTE, r.CHAT_NOTE_ADDED, p.ChatNoteAdded(note=NoteData(
        note_id=5, session_id=789, author_id=ADMIN2, content="内部备注", created_at=NOW), admin_id=ADMIN1),
     {"admin1": 1, "admin1b": 1, "admin2": 1}),
]


GATEWAY_OWN_EVENTS = {e.SYSTEM_TOKEN_EXPIRED}  # sent to one socket by the gateway itself: test_token_expiry.py


def test_every_server_to_client_event_of_the_registry_is_covered():
    covered = {case[0] for case in CASES} | GATEWAY_OWN_EVENTS
    assert covered == {name for name, direction in e.SOCKET_EVENTS if direction == e.SERVER_TO_CLIENT}


async def test_each_event_reaches_exactly_the_right_sockets(start_gateway, connect_client, broker):
    gw = await start_gateway()
    clients = {
        "admin1": await connect_client(gw, ADMIN1, "admin"),
        "admin1b": await connect_client(gw, ADMIN1, "admin"),  # a second tab
        "admin2": await connect_client(gw, ADMIN2, "admin"),
        "user1": await connect_client(gw, USER1, "user"),
        "user2": await connect_client(gw, USER2, "user"),
    }
    for barrier_id, (name, event_type, payload, expected) in enumerate(CASES, start=1000):
        await broker.publish(event_type, payload)
        await broker.publish(r.SYSTEM_MAINTENANCE_SCHEDULED, maintenance("all", barrier_id))
        for client in clients.values():
            await client.wait_until(lambda c=client, b=barrier_id: _is_barrier(c.received[-1] if c.received else None, b))
        delivered = {cname: [d for ev, d in c.received if ev == name and not _is_barrier((ev, d))]
                     for cname, c in clients.items()}
        assert {k: len(v) for k, v in delivered.items() if v} == expected, f"{name} from {event_type}"
        for cname in expected:
            assert delivered[cname] == _expected_payloads(payload)
        for client in clients.values():
            client.received.clear()


def _is_barrier(received: tuple[str, Any] | None, barrier_id: int | None = None) -> bool:
    if received is None or received[0] != e.SYSTEM_MAINTENANCE or received[1]["maintenance_id"] < 1000:
        return False
    return barrier_id is None or received[1]["maintenance_id"] == barrier_id


def _expected_payloads(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, p.NotificationReadStateChanged):
        return [{"notification_id": n, "is_read": payload.is_read} for n in payload.notification_ids]
    if isinstance(payload, p.ChatQueueUpdated):
        return [s.update.model_dump(mode="json") for s in payload.sessions]
    if isinstance(payload, p.NotificationUnreadCountsChanged):
        return [c.model_dump(mode="json", exclude={"user_id"}) for c in payload.counts]
    inner = next(v for v in payload.__dict__.values() if hasattr(v, "model_dump"))
    return [inner.model_dump(mode="json")]


async def test_payload_is_the_spec_shape_with_beijing_time(start_gateway, connect_client, broker):
    gw = await start_gateway()
    admin = await connect_client(gw, ADMIN1, "admin")
    await broker.publish(r.NOTIFICATION_CREATED, notification(ADMIN1))
    (data,) = await admin.wait_for(e.NOTIFICATION_NEW)
    assert set(data) == {"notification_id", "type", "title", "content", "created_at", "is_read", "target_user_id"}
    assert data["created_at"].endswith("+08:00") and len(data["created_at"]) == len("2025-11-23T20:00:00.000+08:00")
    assert "link" not in data  # optional, omitted when absent


async def test_a_redelivered_event_is_emitted_once(start_gateway, connect_client, broker):
    gw = await start_gateway()
    admin = await connect_client(gw, ADMIN1, "admin")
    envelope = await broker.publish(r.NOTIFICATION_CREATED, notification(None))
    await broker.publish(r.NOTIFICATION_CREATED, notification(None), event_id=envelope.event_id)
    await broker.publish(r.SYSTEM_MAINTENANCE_SCHEDULED, maintenance("all", 5))
    await admin.wait_for(e.SYSTEM_MAINTENANCE)
    assert len(admin.events(e.NOTIFICATION_BROADCAST)) == 1


async def test_each_delivered_domain_event_is_timed_from_its_occurred_at_to_the_emit(start_gateway, connect_client, broker):
    gw = await start_gateway()
    admin = await connect_client(gw, ADMIN1, "admin")
    await broker.publish(r.NOTIFICATION_CREATED, notification(ADMIN1))
    await admin.wait_for(e.NOTIFICATION_NEW)
    async with aiohttp.ClientSession() as session, session.get(f"{gw.url}/metrics") as response:
        text = await response.text()
    assert 'gateway_delivery_latency_seconds_count{event_type="notification.created"} 1.0' in text


async def test_a_message_carrying_its_session_reaches_both_participants_as_new_message_then_session_update(
        start_gateway, connect_client, broker):
    gw = await start_gateway()
    clients = {
        "admin1": await connect_client(gw, ADMIN1, "admin"),
        "admin2": await connect_client(gw, ADMIN2, "admin"),
        "user1": await connect_client(gw, USER1, "user"),
    }
    plain, state = message(USER1, ADMIN1), session(USER1, ADMIN1).session
    folded = p.ChatMessageCreated(message=plain.message, user_id=USER1, admin_id=ADMIN1, session=state)
    await broker.publish(r.CHAT_MESSAGE_CREATED, folded)
    await broker.publish(r.SYSTEM_MAINTENANCE_SCHEDULED, maintenance("all", 1999))
    for client in clients.values():
        await client.wait_until(lambda c=client: _is_barrier(c.received[-1] if c.received else None, 1999))
    got = {name: [(ev, d) for ev, d in c.received if not _is_barrier((ev, d))] for name, c in clients.items()}
    expected = [(e.CHAT_NEW_MESSAGE, plain.message.model_dump(mode="json")),
                (e.CHAT_SESSION_UPDATE, state.model_dump(mode="json"))]
    assert got == {"admin1": expected, "admin2": [], "user1": expected}
