"""Issue 5's acceptance over the whole running stack: a real action at a service produces each server->client
event at exactly the right sockets and at no others (admin vs user, admin1 vs admin2, user vs user).

Clients are python-socketio clients with real tokens from auth-svc; actions go through the services' REST APIs
and the gateway's socket commands; events travel outbox -> RabbitMQ -> gateway.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.integration.conftest import AUTH, CHAT, GATEWAY, NOTIFICATION
from tests.integration.sockets import Person, connect_person
from tests.integration.stack import Stack

SETTLE = 1.0  # after the wanted event arrived: long enough for a misrouted copy to arrive too


@pytest.fixture
async def people(stack: Stack) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    opened: list[Person] = []

    async def person(username: str, **kwargs) -> Person:
        opened.append(await connect_person(stack.url(AUTH), stack.url(GATEWAY), username, **kwargs))
        return opened[-1]

    yield person
    await asyncio.gather(*(p.sio.disconnect() for p in opened), return_exceptions=True)


async def _post(stack: Stack, service: str, path: str, who: Person, body: dict | None = None) -> dict:
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=10) as client:
        response = await client.post(path, json=body, headers=who.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _none_of(people: list[Person], *events: str) -> None:
    for person in people:
        for event in events:
            assert person.events(event) == [], f"{person.username} got {event}: {person.events(event)}"


async def test_notifications_reach_their_admin_or_all_admins_and_read_state_only_its_owner(stack, people):
    admin1, admin1_tab2, admin2, user1 = (
        await people("admin1"), await people("admin1"), await people("admin2"), await people("user1")
    )
    targeted = await _post(stack, NOTIFICATION, "/api/v4/notifications/send", admin2,
                           {"type": "order", "title": "For admin1", "content": "order 42", "target_user_id": admin1.user_id})
    [new] = await admin1.wait_for("notification:new", lambda d: d["notification_id"] == targeted["notification_id"])
    assert new == targeted and new["created_at"].endswith("+08:00")
    await admin1_tab2.wait_for("notification:new")

    broadcast = await _post(stack, NOTIFICATION, "/api/v4/notifications/send", admin2,
                            {"type": "system", "title": "Everyone", "content": "maintenance tonight"})
    for admin in (admin1, admin1_tab2, admin2):
        await admin.wait_for("notification:broadcast", lambda d: d["notification_id"] == broadcast["notification_id"])

    ack = await admin1.call("notification:mark_read", {"notification_id": broadcast["notification_id"]})
    assert ack == {"ok": True, "data": {"notification_id": broadcast["notification_id"], "is_read": True}}
    update = {"notification_id": broadcast["notification_id"], "is_read": True}
    assert (await admin1_tab2.wait_for("notification:update")) == [update]  # the other tab hears it too
    assert (await admin1.wait_for("notification:update")) == [update]

    await asyncio.sleep(SETTLE)
    assert len(admin1.events("notification:broadcast")) == 1 and len(admin2.events("notification:broadcast")) == 1
    _none_of([admin2], "notification:new", "notification:update")
    _none_of([user1], "notification:new", "notification:broadcast", "notification:update")


async def test_system_events_reach_admins_and_maintenance_for_all_reaches_users_too(stack, people):
    admin1, admin2, user1 = await people("admin1"), await people("admin2"), await people("user2")
    alert = await _post(stack, NOTIFICATION, "/api/v4/system/alerts", admin1,
                        {"level": "critical", "title": "Disk", "message": "disk 95%"})
    status = await _post(stack, NOTIFICATION, "/api/v4/system/status", admin1,
                         {"component": "payments", "status": "degraded", "message": "slow"})
    admins_only = await _post(stack, NOTIFICATION, "/api/v4/system/maintenance", admin1, {
        "title": "DB", "message": "db upgrade", "audience": "admins",
        "starts_at": "2030-01-01T22:00:00.000+08:00", "ends_at": "2030-01-01T23:00:00.000+08:00"})
    for_all = await _post(stack, NOTIFICATION, "/api/v4/system/maintenance", admin1, {
        "title": "App", "message": "app upgrade", "audience": "all",
        "starts_at": "2030-01-02T22:00:00.000+08:00", "ends_at": "2030-01-02T23:00:00.000+08:00"})
    for admin in (admin1, admin2):
        assert (await admin.wait_for("system:alert")) == [alert]
        assert (await admin.wait_for("system:status_change")) == [status]
        assert (await admin.wait_for("system:maintenance", count=2)) == [admins_only, for_all]
    assert (await user1.wait_for("system:maintenance")) == [for_all]
    await asyncio.sleep(SETTLE)
    assert user1.events("system:maintenance") == [for_all]
    _none_of([user1], "system:alert", "system:status_change")


async def test_a_chat_reaches_its_user_and_its_admin_only_both_ways_with_typing(stack, people):
    admins = [await people("admin1"), await people("admin2"), await people("admin3")]
    user, other_user = await people("user3"), await people("user4")
    await asyncio.sleep(0.5)  # presence: the gateway has told chat-svc these admins are online

    session = await _post(stack, CHAT, "/api/v4/customer-service/sessions", user, {"content": "hello, I need help"})
    sid = session["session_id"]
    mine = lambda d: d["session_id"] == sid
    try:
        async with asyncio.timeout(15):
            while not any(a.events("chat:session_assigned", mine) for a in admins):
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"session {session} never assigned; admins saw {[a.received for a in admins]}") from None
    [agent] = [a for a in admins if a.events("chat:session_assigned", mine)]
    [assignment] = agent.events("chat:session_assigned", mine)
    assert (assignment["admin_id"], assignment["user_id"], assignment["reason"]) == (agent.user_id, user.user_id, "auto")

    await user.wait_for("chat:new_message", mine, count=2)  # the user's message and the "joined" system message
    # the agent joined after the first message: it hears the "joined" message live, and reads the rest as history
    await agent.wait_for("chat:new_message", lambda d: mine(d) and d["message_type"] == "system")
    await user.wait_for("chat:session_update", lambda d: mine(d) and d["status"] == "active")

    ack = await agent.call("chat:send_message", {"session_id": sid, "content": "How can I help?"})
    assert ack["ok"] is True and ack["data"]["sender_type"] == "admin"
    [reply] = await user.wait_for("chat:new_message", lambda d: mine(d) and d["message_content"] == "How can I help?")
    assert reply["message_id"] == ack["data"]["message_id"]

    await user.sio.emit("chat:typing", {"session_id": sid})
    [typing] = await agent.wait_for("chat:typing", mine)
    assert (typing["sender_type"], typing["sender_id"]) == ("user", user.user_id)

    await _post(stack, CHAT, f"/api/v4/customer-service/sessions/{sid}/close", agent)
    await user.wait_for("chat:session_update", lambda d: mine(d) and d["status"] == "closed")

    await asyncio.sleep(SETTLE)
    others = [a for a in admins if a is not agent]
    for person in [*others, other_user]:
        for event in ("chat:new_message", "chat:session_update", "chat:session_assigned", "chat:typing"):
            assert person.events(event, mine) == [], f"{person.username} got {event}"
    assert user.events("chat:typing") == [] and user.events("chat:session_assigned") == []


async def test_read_positions_reach_the_other_side_live_and_a_user_ending_the_chat_tells_its_agent(stack, people):
    """Issue 17: `chat:read` both ways, to the session's two participants only; the user ends the session."""
    admins = [await people("admin1"), await people("admin2"), await people("admin3")]
    user, other_user = await people("user2"), await people("user4")
    await asyncio.sleep(0.5)  # presence: the gateway has told chat-svc these admins are online

    session = await _post(stack, CHAT, "/api/v4/customer-service/sessions", user, {"content": "did you read this?"})
    sid = session["session_id"]
    mine = lambda d: d["session_id"] == sid
    [active, *_] = await user.wait_for("chat:session_update", lambda d: mine(d) and d["status"] == "active")
    [agent] = [a for a in admins if a.user_id == active["admin_id"]]

    agent_read = await _post(stack, CHAT, f"/api/v4/customer-service/sessions/{sid}/read", agent)
    [read] = await user.wait_for("chat:read", lambda d: mine(d) and d["reader_type"] == "admin")
    assert (read["reader_id"], read["last_read_message_id"]) == (agent.user_id, agent_read["admin_last_read_message_id"])
    assert read["read_at"].endswith("+08:00")

    ack = await agent.call("chat:send_message", {"session_id": sid, "content": "Yes, I did."})
    reply_id = ack["data"]["message_id"]
    await _post(stack, CHAT, f"/api/v4/customer-service/my/sessions/{sid}/read", user, {"last_read_message_id": reply_id})
    [read] = await agent.wait_for("chat:read", lambda d: mine(d) and d["reader_type"] == "user")
    assert (read["reader_id"], read["last_read_message_id"]) == (user.user_id, reply_id)

    ended = await _post(stack, CHAT, f"/api/v4/customer-service/my/sessions/{sid}/close", user)
    assert (ended["status"], ended["close_reason"]) == ("closed", "user")
    [closed] = await agent.wait_for("chat:session_update", lambda d: mine(d) and d["status"] == "closed")
    assert closed["close_reason"] == "user"
    [note] = await agent.wait_for("chat:new_message", lambda d: mine(d) and d.get("system_code") == "session_closed_by_user")
    assert note["system_params"] == {"user_id": user.user_id}

    await asyncio.sleep(SETTLE)
    for person in [*(a for a in admins if a is not agent), other_user]:
        assert person.events("chat:read", mine) == [], f"{person.username} got chat:read"


# --- observability: one id finds every log line of one notification or chat message ----------------------


def _log_lines(stack: Stack, service: str) -> list[dict]:
    """The service's JSON log lines (the harness's own `=====` markers are skipped; any other line that is not
    one JSON object fails the test)."""
    lines = []
    for line in stack[service].log_path.read_text(errors="replace").splitlines():
        if not line.strip() or line.startswith("====="):
            continue
        try:
            fields = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"{service} wrote a log line that is not JSON: {line[:300]}") from None
        assert {"time", "level", "service", "logger", "message"} <= fields.keys(), line
        lines.append(fields)
    return lines


async def _lines_with(stack: Stack, service: str, key: str, value: str, where=lambda f: True) -> list[dict]:
    """Lines whose `key` is `value` (waiting a little: a log line is written after the event it reports)."""
    async with asyncio.timeout(20):
        while not (found := [f for f in _log_lines(stack, service) if f.get(key) == value and where(f)]):
            await asyncio.sleep(0.1)
    return found


async def test_a_request_id_sent_with_a_notification_is_in_the_log_lines_of_notification_svc_and_the_gateway(
    stack, people,
):
    admin1, admin2 = await people("admin1"), await people("admin2")
    rid = f"it-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=stack.url(NOTIFICATION), timeout=10) as client:
        response = await client.post(
            "/api/v4/notifications/send", headers={**admin2.headers, "X-Request-ID": rid},
            json={"type": "order", "title": "traced", "content": "find me", "target_user_id": admin1.user_id})
    assert response.status_code == 201 and response.headers["x-request-id"] == rid
    notification_id = response.json()["notification_id"]
    await admin1.wait_for("notification:new", lambda d: d["notification_id"] == notification_id)

    served = await _lines_with(stack, NOTIFICATION, "request_id", rid)
    assert all(line["service"] == NOTIFICATION for line in served)
    # the send also moved admin1's unread badge (notification.unread_counts_changed, same request id)
    [delivered] = [line for line in await _lines_with(stack, GATEWAY, "request_id", rid)
                   if line["message"].startswith("delivered notification.created")]
    assert delivered["service"] == GATEWAY
    assert delivered["event_id"]


async def test_a_chat_message_sent_over_a_socket_is_found_by_one_id_in_the_gateway_and_chat_svc(stack, people):
    user = await people("user5")
    session = await _post(stack, CHAT, "/api/v4/customer-service/sessions", user, {"content": "trace this chat"})
    sid = session["session_id"]
    ack = await user.call("chat:send_message", {"session_id": sid, "content": "second message"})
    assert ack["ok"] is True, ack

    [command] = await _lines_with(stack, GATEWAY, "user_id", user.user_id,
                                  lambda f: f["message"] == "command chat.send_message: ok")
    rid = command["request_id"]
    carried_out = await _lines_with(stack, CHAT, "request_id", rid)
    assert {line["service"] for line in carried_out} == {CHAT}
    delivered = await _lines_with(stack, GATEWAY, "request_id", rid,
                                  lambda f: f["message"].startswith("delivered chat.message"))
    assert delivered[0]["session_id"] == str(sid)


async def test_every_service_answers_prometheus_text_with_its_request_or_delivery_histograms(stack, people):
    await people("admin3")  # at least one delivery and some requests have happened by now
    async with httpx.AsyncClient(timeout=10) as client:
        texts = {name: (await client.get(f"{stack.url(name)}/metrics")).text
                 for name in (AUTH, NOTIFICATION, CHAT, GATEWAY)}
    for name in (AUTH, NOTIFICATION, CHAT):
        assert "http_request_duration_seconds_bucket{" in texts[name], name
    assert "# TYPE gateway_delivery_latency_seconds histogram" in texts[GATEWAY]


async def _unread(stack: Stack, who: Person) -> dict:
    async with httpx.AsyncClient(base_url=stack.url(NOTIFICATION), timeout=10) as client:
        response = await client.get("/api/v4/notifications/unread-count", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_one_admins_two_sockets_receive_the_same_unread_badge_and_another_admins_is_untouched(stack, people):
    admin1, admin1_tab2, admin2 = await people("admin1"), await people("admin1"), await people("admin2")
    await _unread(stack, admin2)  # both admins have used the notification API
    before = await _unread(stack, admin1)

    targeted = await _post(stack, NOTIFICATION, "/api/v4/notifications/send", admin2,
                           {"type": "alert", "title": "For admin1", "content": "c", "target_user_id": admin1.user_id})
    more = before["unread_count"] + 1
    for tab in (admin1, admin1_tab2):
        [pushed] = await tab.wait_for("notification:unread_count", lambda d: d["unread_count"] == more)
        assert pushed["by_type"]["alert"] == before["by_type"]["alert"] + 1
    await asyncio.sleep(SETTLE)
    assert admin2.events("notification:unread_count") == []  # a notification targeted to admin1 only

    ack = await admin1.call("notification:mark_read", {"notification_id": targeted["notification_id"]})
    assert ack["ok"] is True
    for tab in (admin1, admin1_tab2):
        await tab.wait_for("notification:unread_count", lambda d: d["unread_count"] == more - 1)
    await asyncio.sleep(SETTLE)
    assert admin1.events("notification:unread_count") == admin1_tab2.events("notification:unread_count")
    assert admin1.events("notification:unread_count")[-1] == await _unread(stack, admin1) == before
    assert admin2.events("notification:unread_count") == []


async def test_a_chat_message_resent_with_its_client_msg_id_is_stored_acked_and_delivered_once(stack, people):
    """A page whose ack was lost sends the same message again (socket, then REST): one message, one delivery."""
    user = await people("user2")
    session = await _post(stack, CHAT, "/api/v4/customer-service/sessions", user, {"content": "before a resend"})
    sid = session["session_id"]
    text, client_msg_id = f"resent {uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    data = {"session_id": sid, "content": text, "client_msg_id": client_msg_id}

    first = await user.call("chat:send_message", data)
    again = await user.call("chat:send_message", data)
    async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as client:
        by_rest = await client.post(f"/api/v4/customer-service/sessions/{sid}/messages", json={"content": text},
                                    headers={**user.headers, "Idempotency-Key": client_msg_id})
        other = await user.call("chat:send_message", {**data, "content": text + " (edited)"})
        await user.wait_for("chat:new_message", lambda d: d["message_content"] == text)
        await asyncio.sleep(SETTLE)
        history = (await client.get(f"/api/v4/customer-service/sessions/{sid}/messages", headers=user.headers)).json()

    assert first["ok"] is True, first
    assert again == first
    assert by_rest.status_code == 201 and by_rest.json()["message_id"] == first["data"]["message_id"]
    assert (other["ok"], other["error"]["code"]) == (False, "idempotency_key_reused")
    assert len(user.events("chat:new_message", lambda d: d["message_content"] == text)) == 1
    assert [m["message_id"] for m in history["items"] if m["message_content"] == text] == [first["data"]["message_id"]]
