"""Client -> server events: commands answered through acks, typing, unknown events, bad payloads, limits."""

import asyncio
from typing import Any

import aiohttp
import pytest
from contracts.events import commands as c
from contracts.events import registry as r
from contracts.events.payloads import ChatSessionUpdated
from contracts.identity import Principal
from contracts.payloads import SessionData
from contracts.time import now_beijing
from servicekit.commands import CommandFailed, serve_commands
from servicekit_testing.metrics import value

pytestmark = pytest.mark.integration

ADMIN1, ADMIN2, USER1, USER2 = 301, 302, 401, 402


@pytest.fixture
async def services(broker):
    """Stand-ins for chat-svc and notification-svc command handlers, over the real broker."""
    seen: list[tuple[str, Principal, Any]] = []
    sessions = {
        1: c.SessionParticipants(session_id=1, user_id=USER1, admin_id=ADMIN1, status="active"),
        2: c.SessionParticipants(session_id=2, user_id=USER1, admin_id=ADMIN1, status="closed"),
        3: c.SessionParticipants(session_id=3, user_id=USER2, admin_id=None, status="waiting"),
    }

    async def send_message(principal, payload, command):
        seen.append((command.command, principal, payload))
        if payload.session_id == 404:
            raise CommandFailed("not_found", "no such session")
        if payload.session_id == 999:
            await asyncio.sleep(5)
        return {"message_id": 1, "session_id": payload.session_id}

    async def participants(principal, payload, command):
        seen.append((command.command, principal, payload))
        if payload.session_id not in sessions:
            raise CommandFailed("not_found", "no such session")
        return sessions[payload.session_id]

    async def mark_read(principal, payload, command):
        seen.append((command.command, principal, payload))
        return {"notification_id": payload.notification_id, "is_read": True}

    await serve_commands(broker.connection, broker.publisher, service="chat-svc",
                         handlers={c.CHAT_SEND_MESSAGE: send_message, c.CHAT_SESSION_PARTICIPANTS: participants})
    await serve_commands(broker.connection, broker.publisher, service="notification-svc",
                         handlers={c.NOTIFICATION_MARK_READ: mark_read})
    return seen


async def test_commands_are_forwarded_with_the_token_identity_and_acked(start_gateway, connect_client, services):
    gw = await start_gateway()
    admin = await connect_client(gw, ADMIN1, "admin")
    ack = await admin.call("notification:mark_read", {"notification_id": 12})
    assert ack == {"ok": True, "data": {"notification_id": 12, "is_read": True}}
    ack = await admin.call("chat:send_message", {"session_id": 5, "content": "您好"})
    assert ack == {"ok": True, "data": {"message_id": 1, "session_id": 5}}
    assert [(name, who.user_id) for name, who, _ in services] == [
        ("notification.mark_read", ADMIN1), ("chat.send_message", ADMIN1)]
    assert await admin.call("chat:send_message", {"session_id": 404, "content": "x"}) == {
        "ok": False, "error": {"code": "not_found", "message": "no such session"}}


async def test_a_command_nobody_answers_in_time_is_a_timeout_ack(start_gateway, connect_client, services):
    gw = await start_gateway(command_timeout_seconds=0.5)
    user = await connect_client(gw, USER1, "user")
    ack = await user.call("chat:send_message", {"session_id": 999, "content": "slow"})
    assert ack == {"ok": False, "error": {"code": "timeout", "message": "no answer within 0.5s"}}
    assert user.sio.connected


async def test_bad_payloads_and_unknown_events_get_error_acks_and_the_socket_stays(start_gateway, connect_client,
                                                                                    services):
    gw = await start_gateway()
    user = await connect_client(gw, USER1, "user")
    cases = [
        ("chat:send_message", {"session_id": "1", "content": "x"}, "invalid_payload", "session_id"),
        ("chat:send_message", {"session_id": 1, "content": "x", "sender_id": 9}, "invalid_payload", "sender_id"),
        ("chat:send_message", {"session_id": 1, "content": "   "}, "invalid_payload", "content"),
        ("notification:mark_read", "12", "invalid_payload", "object"),
        ("notification:mark_read", None, "invalid_payload", "object"),
        ("chat:typing", {}, "invalid_payload", "session_id"),
        ("notification:new", {"notification_id": 1}, "unknown_event", "notification:new"),
        ("hack", {"x": 1}, "unknown_event", "hack"),
    ]
    for event, data, code, mentions in cases:
        ack = await user.call(event, data)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, data, ack)
        assert mentions in ack["error"]["message"]
    await user.sio.emit("hack")  # no ack asked: nothing comes back, nothing breaks
    assert user.sio.connected
    assert (await user.call("chat:send_message", {"session_id": 5, "content": "ok"}))["ok"] is True
    assert [name for name, _, _ in services] == ["chat.send_message"]


async def test_an_image_message_with_a_url_over_the_socket_is_refused_with_invalid_payload(start_gateway,
                                                                                           connect_client, services):
    """chat:send_message's image messages carry an uploaded picture's id (as REST): an image URL never reaches
    chat-svc, so no reader's browser is made to fetch it."""
    gw = await start_gateway()
    user = await connect_client(gw, USER1, "user")
    image = {"session_id": 5, "content": "https://attacker.example/pixel.png", "message_type": "image"}
    ack = await user.call("chat:send_message", image)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload", ack
    assert "message_type" in ack["error"]["message"]
    assert services == [] and user.sio.connected


async def test_an_image_message_with_an_attachment_id_reaches_chat_svc_with_its_message_type(
    start_gateway, connect_client, services
):
    gw = await start_gateway()
    user = await connect_client(gw, USER1, "user")
    picture = "0b6f1c1e-8a43-4d7e-9a51-3f1f0c2d4e5a"
    ack = await user.call("chat:send_message", {"session_id": 5, "content": picture, "message_type": "image"})
    assert ack["ok"] is True, ack
    video = await user.call("chat:send_message", {"session_id": 5, "content": "x", "message_type": "video"})
    assert video["ok"] is False and video["error"]["code"] == "invalid_payload", video
    [(name, _, payload)] = services
    assert (name, payload.message_type, payload.content) == ("chat.send_message", "image", picture)


async def test_register_user_must_match_the_token(start_gateway, connect_client):
    gw = await start_gateway()
    admin = await connect_client(gw, ADMIN1, "admin")
    assert await admin.call("register_user", {"user_id": ADMIN1, "user_type": "admin"}) == {
        "ok": True, "data": {"user_id": ADMIN1, "user_type": "admin"}}
    ack = await admin.call("register_user", {"user_id": ADMIN2, "user_type": "admin"})
    assert ack["error"]["code"] == "forbidden"
    sid = admin.sio.get_sid()
    assert set(gw.gateway.sio.rooms(sid)) == {sid, f"user:{ADMIN1}", f"admin:{ADMIN1}", "admins"}


async def test_every_client_event_is_rate_limited_per_socket(start_gateway, connect_client):
    gw = await start_gateway(rate_limit_per_second=0.1, rate_limit_burst=3)
    noisy = await connect_client(gw, USER1, "user")
    calm = await connect_client(gw, USER2, "user")
    codes = [(await noisy.call("hack", {}))["error"]["code"] for _ in range(4)]
    assert codes == ["unknown_event"] * 3 + ["rate_limited"]
    assert (await calm.call("hack", {}))["error"]["code"] == "unknown_event"
    assert noisy.sio.connected


async def typing(client, data):
    await asyncio.sleep(0.21)
    return await client.call("chat:typing", data)


async def test_typing_reaches_only_the_other_participant(start_gateway, connect_client, broker, services):
    gw = await start_gateway(typing_interval_seconds=0.2)
    admin1 = await connect_client(gw, ADMIN1, "admin")
    admin2 = await connect_client(gw, ADMIN2, "admin")
    user1 = await connect_client(gw, USER1, "user")
    user2 = await connect_client(gw, USER2, "user")

    # session 1 is not cached yet: the gateway asks chat-svc (the participants query)
    assert await typing(user1, {"session_id": 1}) == {"ok": True}
    assert await admin1.wait_for("chat:typing") == [{"session_id": 1, "sender_type": "user", "sender_id": USER1}]
    assert await typing(admin1, {"session_id": 1}) == {"ok": True}
    assert await user1.wait_for("chat:typing") == [{"session_id": 1, "sender_type": "admin", "sender_id": ADMIN1}]
    assert [n for n, _, _ in services] == ["chat.session_participants"]  # then cached

    # outsiders are refused; a closed session refuses everyone; unknown sessions are chat-svc's not_found
    # (typing() first waits out the 0.2 s per-socket typing interval)
    assert (await typing(admin2, {"session_id": 1}))["error"]["code"] == "forbidden"
    assert (await typing(user2, {"session_id": 1}))["error"]["code"] == "forbidden"
    assert (await typing(user2, {"session_id": 2}))["error"]["code"] == "forbidden"  # not theirs
    assert (await typing(user1, {"session_id": 2}))["error"]["code"] == "forbidden"  # closed
    assert (await typing(user1, {"session_id": 77}))["error"]["code"] == "not_found"

    # rate limit: a second one within the interval is dropped
    assert (await typing(admin1, {"session_id": 1}))["ok"] is True
    assert (await admin1.call("chat:typing", {"session_id": 1}))["error"]["code"] == "rate_limited"

    # the cache follows chat events: session 1 closes
    now = now_beijing()
    await broker.publish(r.CHAT_SESSION_UPDATED, ChatSessionUpdated(session=SessionData(
        session_id=1, user_id=USER1, admin_id=ADMIN1, status="closed", priority=1, unread_count=0,
        last_message="bye", created_at=now, updated_at=now)))
    await admin1.wait_for("chat:session_update")
    assert (await typing(admin1, {"session_id": 1}))["error"]["code"] == "forbidden"

    await typing(user2, {"session_id": 3})  # waiting session, nobody to tell yet
    await asyncio.sleep(0.2)
    assert len(user1.events("chat:typing")) == 2 and len(admin1.events("chat:typing")) == 1
    assert admin2.events("chat:typing") == [] and user2.events("chat:typing") == []


async def test_metrics_count_the_commands_sent_and_the_amqp_messages_that_carried_them(
    start_gateway, connect_client, services,
):
    gw = await start_gateway()
    admin = await connect_client(gw, ADMIN1, "admin")
    acks = await asyncio.gather(*(admin.call("chat:send_message", {"session_id": 5, "content": f"第{i}条"})
                                  for i in range(4)))
    assert all(ack["ok"] for ack in acks), acks
    async with aiohttp.ClientSession() as session, session.get(f"{gw.url}/metrics") as response:
        metrics = await response.text()
    commands = value(metrics, "gateway_commands_sent_total")
    messages = value(metrics, "gateway_command_messages_sent_total")
    assert commands == 4
    assert 1 <= messages <= commands  # commands of one loop pass share one message (GATEWAY_COMMAND_BATCH)
