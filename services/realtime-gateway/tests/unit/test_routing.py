"""The one mapping table, without I/O."""

from datetime import timedelta

import pytest
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.topology import CHAT_EVENTS_EXCHANGE, NOTIFICATION_EVENTS_EXCHANGE, PRESENCE_EXCHANGE
from contracts.payloads import (
    AssignmentData,
    ChatMessageData,
    MaintenanceData,
    NotificationData,
    QueueUpdateData,
    ReadData,
    SessionData,
)
from contracts.payloads.notes import NoteData
from contracts.socketio import events as e
from contracts.time import now_beijing
from realtime_gateway.delivery.routing import ROUTES, bindings, deliveries

NOW = now_beijing()


def _notification(target: int | None) -> p.NotificationCreated:
    data = NotificationData(notification_id=1, type="alert", title="t", content="c", created_at=NOW, is_read=False)
    return p.NotificationCreated(notification=data, target_user_id=target)


def test_targeted_notification_goes_to_that_admins_room_only():
    (d,) = deliveries(r.NOTIFICATION_CREATED, _notification(4))
    assert (d.event, d.rooms) == (e.NOTIFICATION_NEW, ("admin:4",))
    assert d.data()["created_at"].endswith("+08:00")


def test_untargeted_notification_is_a_broadcast_to_admins():
    (d,) = deliveries(r.NOTIFICATION_CREATED, _notification(None))
    assert (d.event, d.rooms) == (e.NOTIFICATION_BROADCAST, ("admins",))


def test_read_state_change_is_one_update_per_notification_to_that_admin():
    event = p.NotificationReadStateChanged(user_id=4, notification_ids=[1, 2, 1], is_read=True)
    out = deliveries(r.NOTIFICATION_READ_STATE_CHANGED, event)
    assert [(d.event, d.rooms, d.data()) for d in out] == [
        (e.NOTIFICATION_UPDATE, ("admin:4",), {"notification_id": 1, "is_read": True}),
        (e.NOTIFICATION_UPDATE, ("admin:4",), {"notification_id": 2, "is_read": True}),
    ]


@pytest.mark.parametrize(("admin_id", "rooms"), [(None, ("user:3",)), (9, ("user:3", "user:9"))])
def test_chat_message_goes_to_the_sessions_user_and_assigned_admin(admin_id, rooms):
    message = ChatMessageData(message_id=1, session_id=2, sender_type="user", sender_id=3, message_content="hi",
                              message_type="text", created_at=NOW)
    (d,) = deliveries(r.CHAT_MESSAGE_CREATED, p.ChatMessageCreated(message=message, user_id=3, admin_id=admin_id))
    assert (d.event, d.rooms, d.payload) == (e.CHAT_NEW_MESSAGE, rooms, message)


@pytest.mark.parametrize(("admin_id", "rooms"), [(None, ("user:3",)), (9, ("user:3", "user:9"))])
def test_a_message_carrying_its_session_is_new_message_then_session_update_to_both_participants(admin_id, rooms):
    message = ChatMessageData(message_id=1, session_id=2, sender_type="user", sender_id=3, message_content="hi",
                              message_type="text", created_at=NOW)
    session = SessionData(session_id=2, user_id=3, admin_id=admin_id, status="active", priority=1, unread_count=4,
                          last_message="hi", created_at=NOW, updated_at=NOW)
    event = p.ChatMessageCreated(message=message, user_id=3, admin_id=admin_id, session=session)
    out = deliveries(r.CHAT_MESSAGE_CREATED, event)
    separate = deliveries(r.CHAT_SESSION_UPDATED, p.ChatSessionUpdated(session=session))
    assert [(d.event, d.rooms, d.data()) for d in out] == [
        (e.CHAT_NEW_MESSAGE, rooms, message.model_dump(mode="json")),
        *[(d.event, d.rooms, d.data()) for d in separate],
    ]
    assert [d.event for d in out] == [e.CHAT_NEW_MESSAGE, e.CHAT_SESSION_UPDATE]
    assert out[1].rooms == rooms


def test_session_update_and_assignment():
    session = SessionData(session_id=2, user_id=3, admin_id=9, status="active", priority=1, unread_count=0,
                          last_message="", created_at=NOW, updated_at=NOW)
    (d,) = deliveries(r.CHAT_SESSION_UPDATED, p.ChatSessionUpdated(session=session))
    assert (d.event, d.rooms) == (e.CHAT_SESSION_UPDATE, ("user:3", "user:9"))
    assignment = AssignmentData(session_id=2, user_id=3, admin_id=9, priority=1, assigned_at=NOW, reason="auto")
    (d,) = deliveries(r.CHAT_SESSION_ASSIGNED, p.ChatSessionAssigned(assignment=assignment))
    assert (d.event, d.rooms) == (e.CHAT_SESSION_ASSIGNED, ("admin:9",))


@pytest.mark.parametrize(("admin_id", "rooms"), [(None, ("user:3",)), (9, ("user:3", "user:9"))])
def test_a_read_position_goes_to_both_participants_of_the_session_as_chat_read(admin_id, rooms):
    read = ReadData(session_id=2, reader_type="user", reader_id=3, last_read_message_id=7, read_at=NOW)
    (d,) = deliveries(r.CHAT_READ_STATE_CHANGED, p.ChatReadStateChanged(read=read, user_id=3, admin_id=admin_id))
    assert (d.event, d.rooms, d.payload) == (e.CHAT_READ, rooms, read)


@pytest.mark.parametrize(("audience", "rooms"), [("admins", ("admins",)), ("all", ("admins", "users"))])
def test_maintenance_audience_decides_the_rooms(audience, rooms):
    m = MaintenanceData(maintenance_id=1, title="t", message="m", starts_at=NOW, ends_at=NOW + timedelta(hours=1),
                        audience=audience)
    (d,) = deliveries(r.SYSTEM_MAINTENANCE_SCHEDULED, p.SystemMaintenanceScheduled(maintenance=m))
    assert (d.event, d.rooms) == (e.SYSTEM_MAINTENANCE, rooms)


def test_every_routed_socket_event_is_a_registered_server_to_client_event_with_that_payload_model():
    samples = {
        r.SYSTEM_ALERT_RAISED: {"alert": {"alert_id": 1, "level": "info", "title": "t", "message": "m",
                                          "created_at": NOW}},
        r.SYSTEM_STATUS_CHANGED: {"status": {"component": "c", "status": "down", "message": "m", "changed_at": NOW}},
        r.GATEWAY_CHAT_TYPING: {"typing": {"session_id": 1, "sender_type": "user", "sender_id": 2},
                                "recipient_id": 3},
    }
    for event_type, sample in samples.items():
        payload = r.DOMAIN_EVENTS[event_type].payload_model.model_validate(sample)
        for d in deliveries(event_type, payload):
            assert type(d.payload) is e.server_to_client(d.event).payload_model


def test_an_agent_update_goes_to_supervisors_and_to_that_agent():
    from contracts.payloads.agents import AgentData

    agent = AgentData(admin_id=9, availability="away", online=True, status="away", active_sessions=1, capacity=5,
                      availability_changed_at=NOW, changed_by="idle")
    (d,) = deliveries(r.CHAT_AGENT_UPDATED, p.ChatAgentUpdated(agent=agent))
    assert (d.event, d.rooms, d.payload) == (e.CHAT_AGENT_UPDATE, ("supervisors", "admin:9"), agent)
    assert type(d.payload) is e.server_to_client(d.event).payload_model


def test_presence_events_are_not_delivered_and_not_bound():
    beat = p.GatewayHeartbeat(gateway_id="gw", admins={}, at=NOW, ttl_seconds=3)
    assert deliveries(r.PRESENCE_GATEWAY_HEARTBEAT, beat) == []
    assert (PRESENCE_EXCHANGE, r.PRESENCE_GATEWAY_HEARTBEAT) not in bindings()


def test_bindings_cover_every_routed_event_on_its_exchange():
    assert set(bindings()) == {(r.DOMAIN_EVENTS[t].exchange, t) for t in ROUTES}
    assert {x for x, _ in bindings()} == {NOTIFICATION_EVENTS_EXCHANGE, CHAT_EVENTS_EXCHANGE, PRESENCE_EXCHANGE}


def test_queue_update_goes_to_each_waiting_sessions_user_only():
    sessions = [p.QueuedSession(user_id=u, update=QueueUpdateData(session_id=s, position=pos,
                                                                    estimated_wait_seconds=wait))
                for u, s, pos, wait in ((7, 70, 1, 40), (8, 80, 2, None))]
    first, second = deliveries(r.CHAT_QUEUE_UPDATED, p.ChatQueueUpdated(sessions=sessions))
    assert (first.event, first.rooms) == (e.CHAT_QUEUE_UPDATE, ("user:7",))
    assert first.data() == {"session_id": 70, "position": 1, "estimated_wait_seconds": 40}
    assert (second.rooms, second.data()["estimated_wait_seconds"]) == (("user:8",), None)


def test_unread_counts_go_to_each_admins_own_room_with_their_own_number():
    def count(user_id: int, order: int) -> p.AdminUnreadCount:
        return p.AdminUnreadCount.model_validate(
            {"user_id": user_id, "unread_count": order, "by_type": {"system": 0, "user": 0, "order": order, "alert": 0}}
        )

    event = p.NotificationUnreadCountsChanged(counts=[count(4, 2), count(9, 5)])
    out = deliveries(r.NOTIFICATION_UNREAD_COUNTS_CHANGED, event)
    assert [(d.event, d.rooms, d.data()) for d in out] == [
        (e.NOTIFICATION_UNREAD_COUNT, ("admin:4",),
         {"unread_count": 2, "by_type": {"system": 0, "user": 0, "order": 2, "alert": 0}}),
        (e.NOTIFICATION_UNREAD_COUNT, ("admin:9",),
         {"unread_count": 5, "by_type": {"system": 0, "user": 0, "order": 5, "alert": 0}}),
    ]
    assert all(type(d.payload) is e.server_to_client(d.event).payload_model for d in out)


def test_an_agent_alert_reaches_that_agents_sockets_only_as_system_alert():
    from contracts.payloads import AlertData

    alert = AlertData(alert_id=3, level="warning", title="t", message="m", created_at=NOW, code="reply_reminder",
                      params={"session_id": 70, "seconds": 60})
    (d,) = deliveries(r.CHAT_AGENT_ALERTED, p.ChatAgentAlerted(admin_id=9, alert=alert))
    assert (d.event, d.rooms, d.payload) == (e.SYSTEM_ALERT, ("admin:9",), alert)
    assert d.data()["code"] == "reply_reminder" and d.data()["params"] == {"session_id": 70, "seconds": 60}
    assert type(d.payload) is e.server_to_client(d.event).payload_model


@pytest.mark.parametrize(("admin_id", "author_id", "rooms"), [
    (9, 9, ("admin:9", "supervisors")),
    (9, 5, ("admin:9", "admin:5", "supervisors")),
    (None, 5, ("admin:5", "supervisors")),
])
def test_a_private_note_goes_to_admin_rooms_and_supervisors_never_to_a_user_room(admin_id, author_id, rooms):
    note = NoteData(note_id=1, session_id=2, author_id=author_id, content="只给客服看", created_at=NOW)
    (d,) = deliveries(r.CHAT_NOTE_ADDED, p.ChatNoteAdded(note=note, admin_id=admin_id))
    assert (d.event, d.rooms) == (e.CHAT_NOTE, rooms)
    assert not any(room.startswith("user") for room in d.rooms)
