from uuid import uuid4

import pytest
from contracts.errors import InvalidPayload
from contracts.events import commands as c
from contracts.events import topology
from contracts.identity import Principal
from contracts.socketio.client import MarkReadPayload, SendMessagePayload
from pydantic import ValidationError

ADMIN = Principal(user_id=4, user_type="admin", username="alice")


def test_principal_is_a_strict_verified_identity():
    assert ADMIN.is_admin
    with pytest.raises(ValidationError, match="user_id"):
        Principal(user_id="4", user_type="admin", username="alice")
    with pytest.raises(ValidationError, match="user_type"):
        Principal(user_id=4, user_type="root", username="alice")


def test_command_round_trips_and_routes_by_its_name():
    command = c.new_command(c.CHAT_SEND_MESSAGE, ADMIN, SendMessagePayload(session_id=2, content="hi"))
    again = c.CommandMessage.model_validate_json(command.to_bytes())
    assert again == command
    assert again.routing_key == topology.COMMAND_CHAT_SEND_MESSAGE == "command.chat.send_message"
    assert again.typed_payload() == SendMessagePayload(session_id=2, content="hi")


def test_mark_read_command_routing_key():
    command = c.new_command(c.NOTIFICATION_MARK_READ, ADMIN, MarkReadPayload(notification_id=1))
    assert command.routing_key == topology.COMMAND_NOTIFICATION_MARK_READ == "command.notification.mark_read"


def test_command_payload_is_checked_against_its_model():
    payload = {"notification_id": "x"}
    command = c.CommandMessage(command=c.NOTIFICATION_MARK_READ, principal=ADMIN, payload=payload)
    with pytest.raises(InvalidPayload, match="notification_id"):
        command.typed_payload()
    with pytest.raises(TypeError):
        c.new_command(c.NOTIFICATION_MARK_READ, ADMIN, SendMessagePayload(session_id=2, content="hi"))


def test_unknown_command_is_rejected():
    with pytest.raises(ValidationError, match="command"):
        c.CommandMessage(command="chat.delete_everything", principal=ADMIN, payload={})


def test_reply_carries_exactly_one_of_result_and_error():
    command_id = uuid4()
    ok = c.CommandReply.success(command_id, {"message_id": 1})
    failed = c.CommandReply.failure(command_id, "forbidden", "not your session")
    for reply in (ok, failed):
        assert c.CommandReply.model_validate_json(reply.to_bytes()) == reply
    assert ok.model_dump(mode="json")["error"] is None
    assert failed.model_dump(mode="json")["result"] is None
    bad = [
        {"ok": True, "result": None, "error": None},
        {"ok": True, "result": {}, "error": {"code": "x", "message": "y"}},
        {"ok": False, "result": None, "error": None},
        {"ok": False, "result": {}, "error": {"code": "x", "message": "y"}},
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            c.CommandReply(command_id=command_id, **fields)


def test_session_participants_is_a_query_command_with_its_own_routing_key():
    command = c.new_command(c.CHAT_SESSION_PARTICIPANTS, ADMIN, c.SessionRef(session_id=7))
    again = c.CommandMessage.model_validate_json(command.to_bytes())
    assert again.routing_key == topology.COMMAND_CHAT_SESSION_PARTICIPANTS == "command.chat.session_participants"
    assert again.typed_payload() == c.SessionRef(session_id=7)
    result = c.SessionParticipants(session_id=7, user_id=3, admin_id=None, status="waiting")
    reply = c.CommandReply.success(command.command_id, result)
    assert reply.result == {"session_id": 7, "user_id": 3, "admin_id": None, "status": "waiting"}
    assert c.SessionParticipants.model_validate(reply.result) == result
