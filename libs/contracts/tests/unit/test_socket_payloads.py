import json
import re

import pytest
from contracts.payloads import (
    AlertData,
    AssignmentData,
    ChatMessageData,
    MaintenanceData,
    NotificationData,
    NotificationUpdateData,
    SessionData,
    StatusData,
    TypingData,
)
from contracts.socketio import (
    AckError,
    AckOk,
    MarkReadPayload,
    RegisterUserPayload,
    SendMessagePayload,
    TypingPayload,
    ack_error,
    ack_ok,
    parse_ack,
)
from pydantic import BaseModel, ValidationError

T = "2025-11-23T20:00:00.000+08:00"
T2 = "2025-11-23T22:00:00.000+08:00"
NOTIFICATION = {
    "notification_id": 123, "type": "system", "title": "维护", "content": "今晚22:00",
    "created_at": T, "is_read": False,
}  # fmt: skip
MESSAGE = {
    "message_id": 456, "session_id": 789, "sender_type": "admin", "sender_id": 1,
    "message_content": "您好", "message_type": "text", "created_at": T,
}  # fmt: skip
SESSION = {
    "session_id": 789, "user_id": 5, "admin_id": None, "status": "waiting", "priority": 3,
    "unread_count": 0, "last_message": "", "created_at": T, "updated_at": T2,
}  # fmt: skip
MAINTENANCE = {
    "maintenance_id": 1, "title": "t", "message": "m", "starts_at": T, "ends_at": T2, "audience": "all",
}  # fmt: skip
IMAGE = {**MESSAGE, "message_type": "image"}

SAMPLES: list[tuple[type[BaseModel], dict]] = [
    (NotificationData, NOTIFICATION),
    (NotificationData, {**NOTIFICATION, "link": "/admin/orders/9", "target_user_id": 7}),
    (NotificationUpdateData, {"notification_id": 1, "is_read": True}),
    (ChatMessageData, MESSAGE),
    (ChatMessageData, {**IMAGE, "message_content": "https://cdn.example.com/a.png"}),  # stored before uploads
    (ChatMessageData, {**IMAGE, "message_content": "0b6f1c1e-8a43-4d7e-9a51-3f1f0c2d4e5a"}),  # an attachment id
    (SessionData, SESSION),
    (SessionData, {**SESSION, "admin_id": 2, "status": "active", "unread_count": 4, "last_message": "hi"}),
    (
        AssignmentData,
        {"session_id": 1, "user_id": 2, "admin_id": 3, "priority": 5, "assigned_at": T, "reason": "auto"},
    ),
    (TypingData, {"session_id": 1, "sender_type": "user", "sender_id": 2}),
    (StatusData, {"component": "chat", "status": "degraded", "message": "slow", "changed_at": T}),
    (AlertData, {"alert_id": 1, "level": "critical", "title": "DB", "message": "down", "created_at": T}),
    (MaintenanceData, MAINTENANCE),
    (MarkReadPayload, {"notification_id": 1}),
    (SendMessagePayload, {"session_id": 1, "content": "hello"}),
    (SendMessagePayload, {"session_id": 1, "content": "0b6f1c1e-8a43-4d7e-9a51-3f1f0c2d4e5a", "message_type": "image"}),
    (TypingPayload, {"session_id": 1}),
    (RegisterUserPayload, {"user_id": 1, "user_type": "admin"}),
    (AckOk, {"ok": True}),
    (AckOk, {"ok": True, "data": {"message_id": 1}}),
    (AckError, {"ok": False, "error": {"code": "not_found", "message": "no such session"}}),
]


def _spec_json_examples(spec_text: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", spec_text, re.DOTALL)]


def test_every_json_example_of_the_spec_parses_and_reserializes_identically(spec_text):
    examples = _spec_json_examples(spec_text)
    assert len(examples) >= 2
    for example in examples:
        model = NotificationData if "notification_id" in example else ChatMessageData
        assert model.model_validate(example).model_dump(mode="json") == example
        assert json.loads(model.model_validate_json(json.dumps(example)).model_dump_json()) == example


@pytest.mark.parametrize(("model", "data"), SAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_round_trip_is_lossless(model, data):
    parsed = model.model_validate(data)
    assert parsed.model_dump(mode="json") == data
    assert model.model_validate_json(parsed.model_dump_json()) == parsed
    assert model.model_validate(parsed.model_dump()) == parsed


def test_optional_not_nullable_fields_are_omitted_when_none():
    dumped = NotificationData.model_validate(NOTIFICATION).model_dump()
    assert "link" not in dumped and "target_user_id" not in dumped


def test_nullable_admin_id_is_always_present():
    assert SessionData.model_validate(SESSION).model_dump(mode="json")["admin_id"] is None
    with pytest.raises(ValidationError) as exc:
        SessionData.model_validate({k: v for k, v in SESSION.items() if k != "admin_id"})
    assert exc.value.errors()[0]["loc"] == ("admin_id",)


def test_server_to_client_models_ignore_unknown_keys_for_additive_changes():
    parsed = NotificationData.model_validate({**NOTIFICATION, "priority_hint": "high"})
    assert "priority_hint" not in parsed.model_dump()


BAD: list[tuple[type[BaseModel], dict, tuple]] = [
    (NotificationData, {**NOTIFICATION, "type": "promo"}, ("type",)),
    (SessionData, {**SESSION, "priority": 0}, ("priority",)),
    (SessionData, {**SESSION, "priority": 6}, ("priority",)),
    (SessionData, {**SESSION, "status": "open"}, ("status",)),
    (SessionData, {**SESSION, "unread_count": -1}, ("unread_count",)),
    (NotificationData, {**NOTIFICATION, "content": ""}, ("content",)),
    (NotificationData, {**NOTIFICATION, "title": "   "}, ("title",)),
    (NotificationData, {**NOTIFICATION, "title": "x" * 201}, ("title",)),
    (NotificationData, {**NOTIFICATION, "content": "x" * 5001}, ("content",)),
    (ChatMessageData, {**MESSAGE, "message_content": "x" * 5001}, ("message_content",)),
    (NotificationData, {**NOTIFICATION, "notification_id": "123"}, ("notification_id",)),
    (NotificationData, {**NOTIFICATION, "notification_id": True}, ("notification_id",)),
    (NotificationData, {**NOTIFICATION, "notification_id": 0}, ("notification_id",)),
    (NotificationData, {**NOTIFICATION, "is_read": "false"}, ("is_read",)),
    (NotificationData, {**NOTIFICATION, "is_read": 0}, ("is_read",)),
    (NotificationData, {k: v for k, v in NOTIFICATION.items() if k != "title"}, ("title",)),
    (NotificationData, {**NOTIFICATION, "created_at": "2025-11-23T20:00:00"}, ("created_at",)),
    (ChatMessageData, {**IMAGE, "message_content": "not a url"}, ("message_content",)),
    (ChatMessageData, {**IMAGE, "message_content": "ftp://x/a.png"}, ("message_content",)),
    (ChatMessageData, {**IMAGE, "message_content": "https:///no-host"}, ("message_content",)),
    (ChatMessageData, {**MESSAGE, "sender_type": "bot"}, ("sender_type",)),
    (MaintenanceData, {**MAINTENANCE, "ends_at": T}, ("ends_at",)),
    (SendMessagePayload, {"session_id": 1, "content": " \n "}, ("content",)),
    (SendMessagePayload, {"session_id": 1, "content": "hi", "sender_id": 9}, ("sender_id",)),
    (SendMessagePayload, {"session_id": 1, "content": "hi", "message_type": "video"}, ("message_type",)),
    (SendMessagePayload, {"session_id": 1, "content": "https://x.example/a.png", "message_type": "image"},
     ("content",)),
    (MarkReadPayload, {"notification_id": "1"}, ("notification_id",)),
    (MarkReadPayload, {}, ("notification_id",)),
    (TypingPayload, {"session_id": 1, "extra": 1}, ("extra",)),
    (RegisterUserPayload, {"user_id": 1, "user_type": "root"}, ("user_type",)),
]


def _case_id(value: object) -> str:
    return getattr(value, "__name__", None) or str(value)[:40]


@pytest.mark.parametrize(("model", "data", "loc"), BAD, ids=_case_id)
def test_bad_payload_is_rejected_naming_the_field(model, data, loc):
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    assert loc in [e["loc"] for e in exc.value.errors()]
    assert loc[0] in str(exc.value)


def test_bad_payload_is_rejected_from_json_too():
    with pytest.raises(ValidationError) as exc:
        MarkReadPayload.model_validate_json('{"notification_id": "123"}')
    assert exc.value.errors()[0]["loc"] == ("notification_id",)


def test_limits_are_inclusive():
    SendMessagePayload(session_id=1, content="x" * 5000)
    NotificationData.model_validate({**NOTIFICATION, "title": "x" * 200, "content": "y" * 5000})


def test_ack_helpers_build_the_two_ack_shapes():
    message = ChatMessageData.model_validate(MESSAGE)
    assert ack_ok() == {"ok": True}
    assert ack_ok(message) == {"ok": True, "data": MESSAGE}
    assert ack_error("invalid_payload", "content: empty") == {
        "ok": False,
        "error": {"code": "invalid_payload", "message": "content: empty"},
    }
    assert isinstance(parse_ack(ack_error("forbidden", "no")), AckError)
    assert isinstance(parse_ack({"ok": True}), AckOk)


def test_ack_error_code_must_be_snake_case():
    with pytest.raises(ValidationError) as exc:
        ack_error("Not Found", "x")
    assert "code" in str(exc.value)


def test_send_message_client_msg_id_is_optional_and_omitted_when_absent():
    plain = SendMessagePayload(session_id=1, content="hi")
    assert plain.model_dump(mode="json") == {"session_id": 1, "content": "hi"}
    keyed = SendMessagePayload.model_validate({"session_id": 1, "content": "hi",
                                               "client_msg_id": "0b7d3c6a-5e4f-4a1b-8c2d-9e8f7a6b5c4d"})
    assert keyed.model_dump(mode="json")["client_msg_id"] == "0b7d3c6a-5e4f-4a1b-8c2d-9e8f7a6b5c4d"


@pytest.mark.parametrize(("client_msg_id", "reason"), [
    ("", "at least 1 character"),
    ("x" * 65, "at most 64 characters"),
    ("has space", "should match pattern"),
    ("消息1", "should match pattern"),
    ("a/b", "should match pattern"),
    (12345, "valid string"),
])
def test_send_message_refuses_a_bad_client_msg_id_with_a_reason(client_msg_id, reason):
    with pytest.raises(ValidationError) as refused:
        SendMessagePayload.model_validate({"session_id": 1, "content": "hi", "client_msg_id": client_msg_id})
    error = refused.value.errors()[0]
    assert error["loc"][0] == "client_msg_id" and reason in error["msg"], error
