import pytest
from contracts.payloads import NotificationData, TypingData
from contracts.socketio import events as ev
from contracts.socketio.client import MarkReadPayload, SendMessagePayload, TypingPayload

SPEC_EVENTS = {
    ("notification:new", "server_to_client"),
    ("notification:broadcast", "server_to_client"),
    ("notification:update", "server_to_client"),
    ("notification:mark_read", "client_to_server"),
    ("chat:new_message", "server_to_client"),
    ("chat:session_update", "server_to_client"),
    ("chat:session_assigned", "server_to_client"),
    ("chat:send_message", "client_to_server"),
    ("chat:typing", "client_to_server"),
    ("chat:typing", "server_to_client"),
    ("system:status_change", "server_to_client"),
    ("system:alert", "server_to_client"),
    ("system:maintenance", "server_to_client"),
}
PLATFORM_EVENTS = {
    ("system:token_expired", "server_to_client"),  # added by the platform (issue 14): the spec allows new events
    ("chat:read", "server_to_client"),  # issue 17: read state both ways
    ("chat:agent_update", "server_to_client"),  # issue 17: agents' availability and load, to supervisors
    ("chat:queue_update", "server_to_client"),  # issue 17: a waiting user's place in the queue
    ("notification:unread_count", "server_to_client"),
    ("chat:note", "server_to_client"),  # issue 19: admins' private notes (never to the session's user)  # issue 19: the server-computed unread badge
}


def test_every_spec_event_is_registered_with_its_direction_and_nothing_else():
    assert set(ev.SOCKET_EVENTS) == SPEC_EVENTS | PLATFORM_EVENTS


def test_every_registered_name_follows_the_naming_rule_and_its_key():
    for (name, direction), spec in ev.SOCKET_EVENTS.items():
        assert ev.NAME_PATTERN.match(name)
        assert (spec.name, spec.direction) == (name, direction)
        assert f"{spec.module}:{spec.action}" == name
        assert spec.description


def test_typing_has_one_payload_per_direction():
    assert ev.client_to_server(ev.CHAT_TYPING).payload_model is TypingPayload
    assert ev.server_to_client(ev.CHAT_TYPING).payload_model is TypingData


def test_client_commands_require_an_ack_and_server_pushes_do_not():
    assert ev.client_to_server(ev.NOTIFICATION_MARK_READ).payload_model is MarkReadPayload
    assert ev.client_to_server(ev.CHAT_SEND_MESSAGE).payload_model is SendMessagePayload
    assert ev.client_to_server(ev.NOTIFICATION_MARK_READ).ack_required
    assert ev.client_to_server(ev.CHAT_SEND_MESSAGE).ack_required
    assert not any(s.ack_required for s in ev.specs_for("server_to_client"))


def test_wrong_direction_lookup_fails():
    with pytest.raises(KeyError):
        ev.client_to_server(ev.NOTIFICATION_NEW)
    assert ev.server_to_client(ev.NOTIFICATION_BROADCAST).payload_model is NotificationData


def test_builtin_and_legacy_names_are_known_but_not_registered():
    for name in ("connect", "connection", "disconnect", "connect_error", "message", "reconnect_failed"):
        assert name in ev.BUILTIN_EVENTS and ev.is_known_event(name)
    assert "register_user" in ev.LEGACY_EVENTS and not ev.NAME_PATTERN.match("register_user")
    assert not ev.is_known_event("newMessage")
    assert not ev.is_known_event("notification")


def test_a_badly_named_spec_is_refused():
    with pytest.raises(ValueError, match="naming rule"):
        ev._spec("newMessage", "server_to_client", NotificationData, "x")
