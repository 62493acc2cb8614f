"""THE table: which Socket.IO event(s) each domain event becomes, for which rooms, with which payload model.

Every domain event the gateway delivers is a key of `ROUTES`; the consumer binds exactly these routing keys.
Functions are pure (payload in, deliveries out), so the whole mapping is unit-tested without I/O.

| domain event                      | Socket.IO event         | rooms                                    |
|-----------------------------------|-------------------------|------------------------------------------|
| notification.created (target)     | notification:new        | admin:<target>                           |
| notification.created (no target)  | notification:broadcast  | admins                                   |
| notification.read_state_changed   | notification:update ×N  | admin:<user_id> (one per notification)   |
| chat.message_created              | chat:new_message        | user:<user_id>, user:<admin_id> if any   |
|   (with `session`: then)          | chat:session_update     | as chat.session_updated                  |
| chat.session_updated              | chat:session_update     | user:<user_id>, user:<admin_id> if any   |
| chat.session_assigned             | chat:session_assigned   | admin:<admin_id>                         |
| chat.read_state_changed           | chat:read               | user:<user_id>, user:<admin_id> if any   |
| system.alert_raised               | system:alert            | admins                                   |
| system.status_changed             | system:status_change    | admins                                   |
| system.maintenance_scheduled      | system:maintenance      | admins (+ users when audience == "all")  |
| gateway.chat_typing (a gateway's) | chat:typing             | user:<recipient_id>                      |
| chat.agent_updated                | chat:agent_update       | supervisors, admin:<admin_id>            |
| chat.queue_updated                | chat:queue_update ×N    | user:<user_id> (one per waiting session) |
| notification.unread_counts_changed| notification:unread_count ×N | admin:<user_id> (one per admin)     |
| chat.agent_alerted                | system:alert            | admin:<admin_id> (that agent only)       |
| chat.note_added                   | chat:note               | admin:<agent>, admin:<author>, supervisors (never user:) |
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.payloads import NotificationUpdateData, UnreadCountData
from contracts.socketio import events as e
from pydantic import BaseModel

from realtime_gateway.clients.rooms import ADMINS, SUPERVISORS, USERS, admin_room, user_room


@dataclass(frozen=True)
class Delivery:
    event: str
    rooms: tuple[str, ...]
    payload: BaseModel

    def data(self) -> dict[str, Any]:
        """The wire payload: the contract model in json mode (Beijing time strings, omitted optionals)."""
        return self.payload.model_dump(mode="json")


def _notification_created(event: p.NotificationCreated) -> list[Delivery]:
    if event.target_user_id is None:
        return [Delivery(e.NOTIFICATION_BROADCAST, (ADMINS,), event.notification)]
    return [Delivery(e.NOTIFICATION_NEW, (admin_room(event.target_user_id),), event.notification)]


def _read_state_changed(event: p.NotificationReadStateChanged) -> list[Delivery]:
    room = (admin_room(event.user_id),)
    return [
        Delivery(e.NOTIFICATION_UPDATE, room, NotificationUpdateData(notification_id=nid, is_read=event.is_read))
        for nid in dict.fromkeys(event.notification_ids)
    ]


def _participants(user_id: int, admin_id: int | None) -> tuple[str, ...]:
    return (user_room(user_id),) if admin_id is None else (user_room(user_id), user_room(admin_id))


def _message_created(event: p.ChatMessageCreated) -> list[Delivery]:
    """The message; then, when the event carries its session's state (chat-svc folds the session's update into
    the last message of a commit instead of a `chat.session_updated` of its own), that update, as
    `_session_updated` would have sent it: clients see the same two events in the same order."""
    message = Delivery(e.CHAT_NEW_MESSAGE, _participants(event.user_id, event.admin_id), event.message)
    if event.session is None:
        return [message]
    return [message, *_session_updated(p.ChatSessionUpdated(session=event.session))]


def _session_updated(event: p.ChatSessionUpdated) -> list[Delivery]:
    s = event.session
    return [Delivery(e.CHAT_SESSION_UPDATE, _participants(s.user_id, s.admin_id), s)]


def _session_assigned(event: p.ChatSessionAssigned) -> list[Delivery]:
    return [Delivery(e.CHAT_SESSION_ASSIGNED, (admin_room(event.assignment.admin_id),), event.assignment)]


def _chat_read(event: p.ChatReadStateChanged) -> list[Delivery]:
    return [Delivery(e.CHAT_READ, _participants(event.user_id, event.admin_id), event.read)]


def _alert_raised(event: p.SystemAlertRaised) -> list[Delivery]:
    return [Delivery(e.SYSTEM_ALERT, (ADMINS,), event.alert)]


def _status_changed(event: p.SystemStatusChanged) -> list[Delivery]:
    return [Delivery(e.SYSTEM_STATUS_CHANGE, (ADMINS,), event.status)]


def _maintenance_scheduled(event: p.SystemMaintenanceScheduled) -> list[Delivery]:
    rooms = (ADMINS, USERS) if event.maintenance.audience == "all" else (ADMINS,)
    return [Delivery(e.SYSTEM_MAINTENANCE, rooms, event.maintenance)]


def _typing_relayed(event: p.ChatTypingRelayed) -> list[Delivery]:
    return [Delivery(e.CHAT_TYPING, (user_room(event.recipient_id),), event.typing)]


def _agent_updated(event: p.ChatAgentUpdated) -> list[Delivery]:
    return [Delivery(e.CHAT_AGENT_UPDATE, (SUPERVISORS, admin_room(event.agent.admin_id)), event.agent)]


def _queue_updated(event: p.ChatQueueUpdated) -> list[Delivery]:
    return [Delivery(e.CHAT_QUEUE_UPDATE, (user_room(s.user_id),), s.update) for s in event.sessions]


def _unread_counts_changed(event: p.NotificationUnreadCountsChanged) -> list[Delivery]:
    """Each admin's own number to that admin's sockets only (never a room two admins share)."""
    return [
        Delivery(e.NOTIFICATION_UNREAD_COUNT, (admin_room(c.user_id),),
                 UnreadCountData(unread_count=c.unread_count, by_type=c.by_type))
        for c in event.counts
    ]


def _agent_alerted(event: p.ChatAgentAlerted) -> list[Delivery]:
    """An alert for one agent (a reply deadline): the spec's `system:alert`, to that agent's sockets only."""
    return [Delivery(e.SYSTEM_ALERT, (admin_room(event.admin_id),), event.alert)]


def _note_added(event: p.ChatNoteAdded) -> list[Delivery]:
    """A private note: admin rooms only (the session's agent, the author) and the supervisors, never `user:`."""
    agents = dict.fromkeys(i for i in (event.admin_id, event.note.author_id) if i is not None)
    return [Delivery(e.CHAT_NOTE, (*(admin_room(i) for i in agents), SUPERVISORS), event.note)]


Route = Callable[[Any], list[Delivery]]
ROUTES: dict[str, Route] = {
    r.NOTIFICATION_CREATED: _notification_created,
    r.NOTIFICATION_READ_STATE_CHANGED: _read_state_changed,
    r.CHAT_MESSAGE_CREATED: _message_created,
    r.CHAT_SESSION_UPDATED: _session_updated,
    r.CHAT_SESSION_ASSIGNED: _session_assigned,
    r.CHAT_READ_STATE_CHANGED: _chat_read,
    r.SYSTEM_ALERT_RAISED: _alert_raised,
    r.SYSTEM_STATUS_CHANGED: _status_changed,
    r.SYSTEM_MAINTENANCE_SCHEDULED: _maintenance_scheduled,
    r.GATEWAY_CHAT_TYPING: _typing_relayed,
    r.CHAT_AGENT_UPDATED: _agent_updated,
    r.CHAT_QUEUE_UPDATED: _queue_updated,
    r.NOTIFICATION_UNREAD_COUNTS_CHANGED: _unread_counts_changed,
    r.CHAT_AGENT_ALERTED: _agent_alerted,
    r.CHAT_NOTE_ADDED: _note_added,
}


def deliveries(event_type: str, payload: BaseModel) -> list[Delivery]:
    """What `payload` (already validated as `event_type`'s model) becomes; [] for a type not routed here."""
    route = ROUTES.get(event_type)
    return route(payload) if route is not None else []


def bindings() -> tuple[tuple[str, str], ...]:
    """(exchange, routing key) for every routed domain event."""
    return tuple((r.DOMAIN_EVENTS[t].exchange, r.DOMAIN_EVENTS[t].routing_key) for t in ROUTES)
