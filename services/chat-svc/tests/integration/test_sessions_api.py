"""The REST API and its events on the shared stack (no admin online there: sessions wait until claimed)."""

import pytest
from contracts.events.payloads import ChatMessageCreated, ChatSessionAssigned, ChatSessionUpdated
from contracts.events.registry import CHAT_MESSAGE_CREATED, CHAT_SESSION_ASSIGNED, CHAT_SESSION_UPDATED
from contracts.payloads import ChatMessageData, SessionData
from contracts.payloads.system_text import render

from .conftest import BASE, admin_headers, claimed_session, new_id, supervisor_headers, user_headers

pytestmark = pytest.mark.integration


def assert_422(response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]], error


# --- POST /sessions -----------------------------------------------------------------------------------------


async def test_a_users_first_message_opens_a_waiting_session_and_publishes_message_and_session_events(stack, user_id):
    response = await stack.client.post(f"{BASE}/sessions", json={"content": "my order is late"},
                                       headers=user_headers(user_id))
    assert response.status_code == 201
    session = SessionData.model_validate(response.json())
    assert (session.user_id, session.admin_id, session.status, session.priority) == (user_id, None, "waiting", 3)
    assert (session.unread_count, session.last_message) == (1, "my order is late")

    [created, notice] = await stack.tap.wait(session.session_id, CHAT_MESSAGE_CREATED, count=2)
    assert notice.message.system_code == "no_agent_online"  # nobody is online in this stack
    assert isinstance(created, ChatMessageCreated)
    assert (created.user_id, created.admin_id) == (user_id, None)
    assert created.message.sender_type == "user" and created.message.message_content == "my order is late"
    [updated] = await stack.tap.wait(session.session_id, CHAT_SESSION_UPDATED)
    assert isinstance(updated, ChatSessionUpdated) and updated.session == session
    assert stack.tap.of(session.session_id, CHAT_SESSION_ASSIGNED) == []


async def test_writing_again_adds_to_the_open_session_with_200(stack, user_id):
    first = await stack.open_session(user_id, "one")
    response = await stack.client.post(f"{BASE}/sessions", json={"content": "two"}, headers=user_headers(user_id))
    assert response.status_code == 200
    body = response.json()
    assert body["session_id"] == first["session_id"]
    assert (body["unread_count"], body["last_message"]) == (2, "two")
    assert body["priority"] == 3


async def test_an_end_user_cannot_choose_the_queue_priority_a_new_session_gets_the_default(stack, user_id, admin_id):
    earlier = (await stack.open_session(new_id()))["session_id"]
    response = await stack.client.post(f"{BASE}/sessions", json={"content": "hi", "priority": 5},
                                       headers=user_headers(user_id))
    assert response.status_code == 201, response.text  # still accepted, so older clients keep working
    session = response.json()
    assert session["priority"] == 3
    assert (await stack.session(session["session_id"]))["priority"] == 3
    queue = (await stack.client.get(f"{BASE}/sessions?scope=waiting&page_size=100",
                                    headers=admin_headers(admin_id))).json()
    ids = [s["session_id"] for s in queue["items"]]
    assert ids.index(earlier) < ids.index(session["session_id"])  # not first in the queue any more


async def test_only_supervisors_change_a_sessions_priority_and_the_queue_follows(stack, user_id, admin_id):
    earlier = (await stack.open_session(new_id()))["session_id"]
    session_id = (await stack.open_session(user_id))["session_id"]
    url = f"{BASE}/sessions/{session_id}"
    refused = await stack.client.patch(url, json={"priority": 5}, headers=user_headers(user_id))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    by_agent = await stack.client.patch(url, json={"priority": 5}, headers=admin_headers(admin_id))
    assert by_agent.status_code == 403 and by_agent.json()["error"]["code"] == "supervisors_only"
    assert (await stack.session(session_id))["priority"] == 3

    changed = await stack.client.patch(url, json={"priority": 5}, headers=supervisor_headers(admin_id))
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == 5 and changed.json()["status"] == "waiting"
    updates = await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=2)  # opened, then re-prioritised
    assert updates[-1].session.priority == 5
    queue = (await stack.client.get(f"{BASE}/sessions?scope=waiting&page_size=100",
                                    headers=admin_headers(admin_id))).json()
    ids = [s["session_id"] for s in queue["items"]]
    assert ids.index(session_id) < ids.index(earlier)

    assert_422(await stack.client.patch(url, json={"priority": 0}, headers=supervisor_headers(admin_id)), "priority")
    assert_422(await stack.client.patch(url, json={"status": "closed"}, headers=supervisor_headers(admin_id)), "status")
    missing = await stack.client.patch(f"{BASE}/sessions/999999999999", json={"priority": 2},
                                       headers=supervisor_headers(admin_id))
    assert missing.status_code == 404
    claimed = await claimed_session(stack, new_id(), admin_id)
    await stack.client.post(f"{BASE}/sessions/{claimed}/close", headers=admin_headers(admin_id))
    closed = await stack.client.patch(f"{BASE}/sessions/{claimed}", json={"priority": 2}, headers=supervisor_headers(admin_id))
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "session_closed"


async def test_image_messages_with_an_external_url_are_refused_with_422_images_are_uploads(stack, user_id):
    image = {"content": "https://attacker.example/pixel.png", "message_type": "image"}
    refused = await stack.client.post(f"{BASE}/sessions", json=image, headers=user_headers(user_id))
    assert_422(refused, "content")
    assert "attachment_id of a picture uploaded" in refused.json()["error"]["details"][0]["message"]
    session_id = (await stack.open_session(user_id))["session_id"]
    assert_422(await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json=image,
                                       headers=user_headers(user_id)), "content")
    assert (await stack.session(session_id))["last_message"] == "hello"


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_creates_nothing(stack, user_id):
    headers = {**user_headers(user_id), "Idempotency-Key": "k-1"}
    first = await stack.client.post(f"{BASE}/sessions", json={"content": "hi"}, headers=headers)
    retry = await stack.client.post(f"{BASE}/sessions", json={"content": "hi"}, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    session_id = first.json()["session_id"]
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED)
    assert [m.message.system_code for m in created] == [None, "no_agent_online"]  # once: the message, its notice
    other = await stack.client.post(f"{BASE}/sessions", json={"content": "else"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


async def test_admins_cannot_open_sessions(stack, admin_id):
    response = await stack.client.post(f"{BASE}/sessions", json={"content": "x"}, headers=admin_headers(admin_id))
    assert response.status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({}, "content"),
    ({"content": "   "}, "content"),
    ({"content": "x" * 5001}, "content"),
    ({"content": "x", "priority": 6}, "priority"),
    ({"content": "x", "priority": "5"}, "priority"),
    ({"content": "x", "message_type": "system"}, "message_type"),
    ({"content": "ftp://x", "message_type": "image"}, "content"),
    ({"content": "x", "user_id": 5}, "user_id"),
])
async def test_a_bad_new_message_is_422_naming_the_field(stack, user_id, body, field):
    assert_422(await stack.client.post(f"{BASE}/sessions", json=body, headers=user_headers(user_id)), field)


# --- reading sessions ---------------------------------------------------------------------------------------


async def test_users_list_and_read_only_their_own_sessions(stack, user_id):
    mine = await stack.open_session(user_id)
    other = await stack.open_session(new_id())
    listed = (await stack.client.get(f"{BASE}/my/sessions", headers=user_headers(user_id))).json()
    assert listed == {"items": [mine], "total": 1, "page": 1, "page_size": 20}
    assert (await stack.client.get(f"{BASE}/sessions/{mine['session_id']}", headers=user_headers(user_id))).json() == mine
    forbidden = await stack.client.get(f"{BASE}/sessions/{other['session_id']}", headers=user_headers(user_id))
    assert forbidden.status_code == 403
    assert (await stack.client.get(f"{BASE}/sessions/999999999999", headers=user_headers(user_id))).status_code == 404
    assert_422(await stack.client.get(f"{BASE}/sessions/abc", headers=user_headers(user_id)), "session_id")
    assert_422(await stack.client.get(f"{BASE}/my/sessions?page_size=101", headers=user_headers(user_id)), "page_size")
    assert (await stack.client.get(f"{BASE}/my/sessions", headers=admin_headers(new_id()))).status_code == 403


async def test_admins_list_their_own_the_waiting_queue_and_all(stack, admin_id):
    mine = await claimed_session(stack, new_id(), admin_id)
    waiting_low = (await stack.open_session(new_id(), priority=1))["session_id"]
    waiting_high = (await stack.open_session(new_id(), priority=5))["session_id"]
    headers = admin_headers(admin_id)

    body = (await stack.client.get(f"{BASE}/sessions?scope=mine", headers=headers)).json()
    assert [s["session_id"] for s in body["items"]] == [mine] and body["total"] == 1
    queue = (await stack.client.get(f"{BASE}/sessions?scope=waiting&page_size=100", headers=headers)).json()
    ids = [s["session_id"] for s in queue["items"]]
    assert ids.index(waiting_high) < ids.index(waiting_low)
    assert all(s["status"] == "waiting" for s in queue["items"])
    closed = (await stack.client.get(f"{BASE}/sessions?scope=mine&status=closed", headers=headers)).json()
    assert closed["total"] == 0
    everything = (await stack.client.get(f"{BASE}/sessions?scope=all&page=1&page_size=2", headers=headers)).json()
    assert everything["total"] >= 3 and len(everything["items"]) == 2
    assert (await stack.client.get(f"{BASE}/sessions/{waiting_low}", headers=headers)).status_code == 200

    assert (await stack.client.get(f"{BASE}/sessions", headers=user_headers(new_id()))).status_code == 403
    assert_422(await stack.client.get(f"{BASE}/sessions?scope=everyone", headers=headers), "scope")
    assert_422(await stack.client.get(f"{BASE}/sessions?page=0", headers=headers), "page")
    assert_422(await stack.client.get(f"{BASE}/sessions?status=open", headers=headers), "status")


# --- messages -----------------------------------------------------------------------------------------------


async def test_the_user_and_the_assigned_admin_post_messages_and_outsiders_cannot(stack, user_id, admin_id):
    session_id = await claimed_session(stack, user_id, admin_id)
    url = f"{BASE}/sessions/{session_id}/messages"
    reply = await stack.client.post(url, json={"content": "how can I help?"}, headers=admin_headers(admin_id))
    assert reply.status_code == 201
    message = ChatMessageData.model_validate(reply.json())
    assert (message.sender_type, message.sender_id, message.session_id) == ("admin", admin_id, session_id)
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3)  # user's, system, admin's
    assert created[-1].message == message and (created[-1].user_id, created[-1].admin_id) == (user_id, admin_id)

    assert (await stack.client.post(url, json={"content": "thanks"}, headers=user_headers(user_id))).status_code == 201
    session = (await stack.client.get(f"{BASE}/sessions/{session_id}", headers=user_headers(user_id))).json()
    assert (session["last_message"], session["unread_count"]) == ("thanks", 2)

    assert (await stack.client.post(url, json={"content": "x"}, headers=user_headers(new_id()))).status_code == 403
    assert (await stack.client.post(url, json={"content": "x"}, headers=admin_headers(new_id()))).status_code == 403
    missing = await stack.client.post(f"{BASE}/sessions/999999999999/messages", json={"content": "x"},
                                      headers=user_headers(user_id))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert_422(await stack.client.post(url, json={"content": ""}, headers=user_headers(user_id)), "content")


async def test_messages_page_backwards_and_forwards_oldest_first(stack, user_id):
    session_id = (await stack.open_session(user_id, "m0"))["session_id"]
    for n in range(1, 5):
        await stack.open_session(user_id, f"m{n}")
    url = f"{BASE}/sessions/{session_id}/messages"
    headers = user_headers(user_id)

    newest = (await stack.client.get(f"{url}?limit=2", headers=headers)).json()
    assert [m["message_content"] for m in newest["items"]] == ["m3", "m4"]
    assert newest["has_more"] and newest["next_before_id"] == newest["items"][0]["message_id"]
    older = (await stack.client.get(f"{url}?limit=2&before_id={newest['next_before_id']}", headers=headers)).json()
    assert [m["message_content"] for m in older["items"]] == ["m1", "m2"] and older["has_more"]
    oldest = (await stack.client.get(f"{url}?limit=2&before_id={older['next_before_id']}", headers=headers)).json()
    # the opening message and its notice (nobody online: no_agent_online)
    assert [(m["message_content"], m.get("system_code")) for m in oldest["items"]] == [
        ("m0", None), (render("no_agent_online", {}), "no_agent_online")]
    assert (oldest["has_more"], oldest["next_before_id"]) == (False, None)
    after = (await stack.client.get(f"{url}?after_id={oldest['items'][-1]['message_id']}&limit=3",
                                    headers=headers)).json()
    assert [m["message_content"] for m in after["items"]] == ["m1", "m2", "m3"]
    assert after["has_more"] and after["next_after_id"] == after["items"][-1]["message_id"]

    assert (await stack.client.get(url, headers=admin_headers(new_id()))).status_code == 200
    assert (await stack.client.get(url, headers=user_headers(new_id()))).status_code == 403
    assert (await stack.client.get(f"{BASE}/sessions/999999999999/messages", headers=headers)).status_code == 404
    assert_422(await stack.client.get(f"{url}?limit=0", headers=headers), "limit")
    assert_422(await stack.client.get(f"{url}?before_id=5&after_id=1", headers=headers), "after_id")


# --- admin actions ------------------------------------------------------------------------------------------


async def test_claiming_a_waiting_session_assigns_it_with_a_system_message_and_three_events(stack, user_id, admin_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=admin_headers(admin_id))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["admin_id"]) == ("active", admin_id)

    [assigned] = await stack.tap.wait(session_id, CHAT_SESSION_ASSIGNED)
    assert isinstance(assigned, ChatSessionAssigned)
    assert (assigned.assignment.admin_id, assigned.assignment.reason) == (admin_id, "claim")
    system = (await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=2))[-1]
    assert system.message.message_type == "system" and system.message.sender_id == admin_id
    assert system.admin_id == admin_id
    updates = await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=2)  # opened, then claimed
    assert updates[-1].session.model_dump(mode="json") == response.json()

    taken = await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=admin_headers(new_id()))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "not_waiting"
    assert (await stack.client.post(f"{BASE}/sessions/{session_id}/claim", headers=user_headers(user_id))).status_code == 403
    assert (await stack.client.post(f"{BASE}/sessions/999999999999/claim", headers=admin_headers(admin_id))).status_code == 404
    assert_422(await stack.client.post(f"{BASE}/sessions/0/claim", headers=admin_headers(admin_id)), "session_id")


async def test_marking_read_zeroes_the_unread_count_for_the_assigned_admin_only(stack, user_id, admin_id):
    session_id = await claimed_session(stack, user_id, admin_id)
    url = f"{BASE}/sessions/{session_id}/read"
    assert (await stack.client.post(url, headers=admin_headers(new_id()))).status_code == 403
    assert (await stack.client.post(url, headers=user_headers(user_id))).status_code == 403
    response = await stack.client.post(url, headers=admin_headers(admin_id))
    assert response.status_code == 200 and response.json()["unread_count"] == 0
    updates = await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=3)  # opened, claimed, read
    assert updates[-1].session.unread_count == 0
    assert (await stack.client.post(f"{BASE}/sessions/999999999999/read", headers=admin_headers(admin_id))).status_code == 404
    assert_422(await stack.client.post(f"{BASE}/sessions/-1/read", headers=admin_headers(admin_id)), "session_id")


async def test_closing_adds_a_system_message_and_then_nobody_can_post(stack, user_id, admin_id):
    session_id = await claimed_session(stack, user_id, admin_id)
    url = f"{BASE}/sessions/{session_id}/close"
    assert (await stack.client.post(url, headers=admin_headers(new_id()))).status_code == 403
    response = await stack.client.post(url, headers=admin_headers(admin_id))
    assert response.status_code == 200 and response.json()["status"] == "closed"
    messages = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3)
    assert messages[-1].message.message_type == "system"
    assert (await stack.tap.wait(session_id, CHAT_SESSION_UPDATED, count=3))[-1].session.status == "closed"

    closed = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": "hello?"},
                                     headers=user_headers(user_id))
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "session_closed"
    assert (await stack.client.post(url, headers=admin_headers(admin_id))).status_code == 409
    assert (await stack.client.post(f"{BASE}/sessions/999999999999/close", headers=admin_headers(admin_id))).status_code == 404
    reopened = await stack.open_session(user_id, "another question")
    assert reopened["session_id"] != session_id and reopened["status"] == "waiting"


async def test_transfer_is_refused_for_outsiders_offline_targets_and_bad_input(stack, user_id, admin_id):
    session_id = await claimed_session(stack, user_id, admin_id)
    url = f"{BASE}/sessions/{session_id}/transfer"
    offline = await stack.client.post(url, json={"admin_id": new_id()}, headers=admin_headers(admin_id))
    assert offline.status_code == 409 and offline.json()["error"]["code"] == "admin_offline"
    same = await stack.client.post(url, json={"admin_id": admin_id}, headers=admin_headers(admin_id))
    assert same.status_code == 409 and same.json()["error"]["code"] == "same_admin"
    assert (await stack.client.post(url, json={"admin_id": 5}, headers=admin_headers(new_id()))).status_code == 403
    assert (await stack.client.post(url, json={"admin_id": 5}, headers=user_headers(user_id))).status_code == 403
    missing = await stack.client.post(f"{BASE}/sessions/999999999999/transfer", json={"admin_id": 5},
                                      headers=admin_headers(admin_id))
    assert missing.status_code == 404
    assert_422(await stack.client.post(url, json={}, headers=admin_headers(admin_id)), "admin_id")
    assert_422(await stack.client.post(url, json={"admin_id": 2**63}, headers=admin_headers(admin_id)), "admin_id")


async def test_health_reports_database_broker_and_relay(stack):
    response = await stack.client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "outbox_relay": "ok"}


async def test_a_message_retried_with_the_same_idempotency_key_is_posted_once(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    headers = {**user_headers(user_id), "Idempotency-Key": "send-1"}
    url = f"{BASE}/sessions/{session_id}/messages"
    first = await stack.client.post(url, json={"content": "again"}, headers=headers)
    retry = await stack.client.post(url, json={"content": "again"}, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201) and retry.json() == first.json()
    # the opening message, the notice (nobody online: no_agent_online) and this one
    assert len(await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3)) == 3
