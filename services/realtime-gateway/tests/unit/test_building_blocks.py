"""Rate limits, rooms, connections, payload validation, dedup, the participants cache: pure logic."""

from uuid import uuid4

import pytest
from contracts.events import payloads as p
from contracts.identity import Principal
from contracts.payloads import ChatMessageData, SessionData
from contracts.socketio.client import MarkReadPayload, SendMessagePayload
from contracts.time import now_beijing
from realtime_gateway.clients.auth import refusal, refusal_code, token_of
from realtime_gateway.clients.connections import Connections
from realtime_gateway.clients.ratelimit import PerSocketLimiter, TokenBucket
from realtime_gateway.clients.rooms import rooms_for
from realtime_gateway.clients.typing_relay import Participants, ParticipantsCache
from realtime_gateway.clients.validation import InvalidPayload, parse_payload, single_argument
from realtime_gateway.delivery.dedup import RecentIds
from realtime_gateway.settings import Settings
from servicekit.jwt import KeySetUnavailable, TokenError

ADMIN = Principal(user_id=4, user_type="admin", username="a")
USER = Principal(user_id=7, user_type="user", username="u")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_refills_at_its_rate():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now = 0.5
    assert bucket.take() and not bucket.take()
    clock.now = 100
    assert sum(bucket.take() for _ in range(10)) == 3


def test_per_socket_limits_are_independent_and_forgotten_on_disconnect():
    clock = Clock()
    limiter = PerSocketLimiter.one_per(0.5, clock)
    assert limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")
    clock.now = 0.5
    assert limiter.allow("a")
    limiter.forget("a")
    assert len(limiter) == 1
    unlimited = PerSocketLimiter.one_per(0, clock)
    assert all(unlimited.allow("x") for _ in range(100))


def test_rooms_come_from_the_token():
    assert rooms_for(ADMIN) == ["user:4", "admin:4", "admins"]
    assert rooms_for(USER) == ["user:7", "users"]


def test_only_a_supervisors_token_joins_the_supervisors_room():
    supervisor = Principal(user_id=5, user_type="admin", username="s", role="supervisor")
    assert rooms_for(supervisor) == ["user:5", "admin:5", "admins", "supervisors"]
    assert "supervisors" not in rooms_for(Principal(user_id=6, user_type="admin", username="a", role="agent"))
    assert "supervisors" not in rooms_for(ADMIN)  # a token from before roles: an agent


def test_connections_count_tabs_per_account():
    c = Connections()
    assert c.add("s1", ADMIN) == 1 and c.add("s2", ADMIN) == 2 and c.add("s3", USER) == 1
    assert (c.sockets, c.admins_online, c.users_online) == (3, 1, 1)
    assert c.admin_sockets() == {4: 2}
    assert c.remove("s1") == (ADMIN, 1)
    assert c.remove("s2") == (ADMIN, 0)
    assert c.remove("s2") is None
    assert c.admin_sockets() == {} and c.principal("s3") == USER


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"notification_id": "1"}, "notification_id"),
        ({"notification_id": 0}, "notification_id"),
        ({"notification_id": 1, "extra": True}, "extra"),
        ({}, "notification_id"),
    ],
)
def test_bad_payload_names_the_field(data, field):
    with pytest.raises(InvalidPayload) as raised:
        parse_payload("notification:mark_read", MarkReadPayload, data)
    assert raised.value.message.startswith(f"notification:mark_read: {field}:")
    assert raised.value.ack()["error"]["code"] == "invalid_payload"


def test_payload_must_be_one_object():
    with pytest.raises(InvalidPayload, match="must be an object, got array"):
        parse_payload("chat:send_message", SendMessagePayload, [1])
    with pytest.raises(InvalidPayload, match="exactly one"):
        single_argument("chat:send_message", ())
    assert parse_payload("chat:send_message", SendMessagePayload, {"session_id": 1, "content": "hi"}).content == "hi"


def test_recent_ids_forget_the_oldest():
    ids = RecentIds(2)
    a, b, c = uuid4(), uuid4(), uuid4()
    for i in (a, b, c):
        ids.add(i)
    assert a not in ids and b in ids and c in ids and len(ids) == 2


def test_participants_cache_learns_from_chat_events_and_evicts():
    cache = ParticipantsCache(2)
    now = now_beijing()
    session = SessionData(session_id=1, user_id=7, admin_id=None, status="waiting", priority=1, unread_count=0,
                          last_message="", created_at=now, updated_at=now)
    cache.observe(p.ChatSessionUpdated(session=session))
    assert cache.get(1) == Participants(1, 7, None, "waiting")
    cache.observe(p.ChatSessionAssigned(assignment={"session_id": 1, "user_id": 7, "admin_id": 4, "priority": 1,
                                                    "assigned_at": now, "reason": "auto"}))
    assert cache.get(1) == Participants(1, 7, 4, "waiting")
    cache.put(Participants(2, 8, None, None))
    cache.put(Participants(3, 9, None, None))
    assert cache.get(1) is None and len(cache) == 2


def test_participants_cache_learns_a_sessions_status_from_a_message_carrying_its_state():
    cache = ParticipantsCache(2)
    now = now_beijing()
    message = ChatMessageData(message_id=5, session_id=1, sender_type="user", sender_id=7, message_content="hi",
                              message_type="text", created_at=now)
    cache.observe(p.ChatMessageCreated(message=message, user_id=7, admin_id=4))
    assert cache.get(1) == Participants(1, 7, 4, None)
    session = SessionData(session_id=1, user_id=7, admin_id=4, status="active", priority=1, unread_count=1,
                          last_message="hi", created_at=now, updated_at=now)
    cache.observe(p.ChatMessageCreated(message=message, user_id=7, admin_id=4, session=session))
    assert cache.get(1) == Participants(1, 7, 4, "active")


def test_only_participants_have_someone_to_tell():
    s = Participants(1, 7, 4, "active")
    assert s.other_than(ADMIN) == 7 and s.other_than(USER) == 4
    assert s.other_than(Principal(user_id=5, user_type="admin", username="x")) is None


def test_refusals_always_say_unauthorized_except_when_keys_are_unavailable():
    expired = refusal(TokenError("token_expired"))
    assert expired.error_args == {"message": "unauthorized: token expired", "data": {"code": "token_expired"}}
    assert refusal(TokenError("token_missing")).error_args["message"] == "unauthorized: missing token"
    unavailable = refusal(KeySetUnavailable("down"))
    assert unavailable.error_args["message"].startswith("unavailable:")
    assert "unauthorized" not in unavailable.error_args["message"]
    assert refusal_code(unavailable) == "unavailable"
    assert token_of({"token": "x"}) == "x" and token_of(None) is None and token_of({"token": 1}) is None


def test_settings_read_the_gateway_prefix_and_json_lists(monkeypatch):
    monkeypatch.setenv("GATEWAY_CORS_ALLOWED_ORIGINS", '["https://example.test"]')
    monkeypatch.setenv("GATEWAY_PORT", "8011")
    monkeypatch.setenv("GATEWAY_JWKS_URL", "http://auth:8001/.well-known/jwks.json")
    settings = Settings()
    assert settings.cors_allowed_origins == ["https://example.test"]
    assert settings.port == 8011 and settings.jwks_url.startswith("http://auth:")
    assert settings.websocket_compression is False and settings.command_timeout_seconds == 5
    gateway_id = settings.resolved_gateway_id()
    assert gateway_id.startswith("gw-") and "-8011-" in gateway_id
    assert Settings(gateway_id="gw-a").resolved_gateway_id() == "gw-a"


def test_run_loop_sets_the_collector_from_the_setting(monkeypatch):
    """The collector itself is servicekit.gctune's (tested there, in a child process)."""
    import realtime_gateway.__main__ as entry

    calls = []
    monkeypatch.setattr(entry, "tune_gc", calls.append)

    async def nothing() -> None:
        return None

    entry.run_loop(nothing(), "asyncio", 12_345)
    assert calls == [12_345]
    assert Settings().gc_gen0_threshold == 50_000
    assert Settings(gc_gen0_threshold=0).gc_gen0_threshold == 0

