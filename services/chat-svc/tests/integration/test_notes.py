"""Private notes on a session (chat_svc.notes): admins only, apart from the session's messages; a transfer's note
is one of them, meant for the receiving agent."""

import pytest
from contracts.events.registry import CHAT_NOTE_ADDED

from .conftest import BASE, admin_headers, new_id, supervisor_headers, user_headers

pytestmark = pytest.mark.integration


async def test_a_note_is_kept_for_admins_apart_from_the_messages_and_published_without_the_user(stack):
    user, author = new_id(), new_id()
    session = await stack.open_session(user, "我要退款")
    sid = session["session_id"]
    written = await stack.client.post(f"{BASE}/sessions/{sid}/notes", json={"content": "老客户，语气温和些"},
                                      headers=admin_headers(author))
    assert written.status_code == 201, written.text
    assert (written.json()["author_id"], written.json()["transfer_to"]) == (author, None)

    listed = await stack.client.get(f"{BASE}/sessions/{sid}/notes", headers=supervisor_headers(new_id()))
    assert [n["content"] for n in listed.json()["items"]] == ["老客户，语气温和些"]
    messages = await stack.client.get(f"{BASE}/sessions/{sid}/messages", headers=admin_headers(author))
    said = [m["message_content"] for m in messages.json()["items"] if m["message_type"] != "system"]
    assert said == ["我要退款"]  # (besides the platform's "no agent online" notice)
    assert (await stack.session(sid))["last_message"] == "我要退款"

    (event,) = await stack.tap.wait(sid, CHAT_NOTE_ADDED)
    assert event.note.content == "老客户，语气温和些" and "user_id" not in event.model_dump()


async def test_end_users_can_neither_read_nor_write_notes_even_on_their_own_session(stack):
    user = new_id()
    sid = (await stack.open_session(user))["session_id"]
    read = await stack.client.get(f"{BASE}/sessions/{sid}/notes", headers=user_headers(user))
    write = await stack.client.post(f"{BASE}/sessions/{sid}/notes", json={"content": "x"}, headers=user_headers(user))
    assert [read.status_code, write.status_code] == [403, 403]


async def test_a_note_on_an_unknown_session_is_a_404(stack):
    response = await stack.client.post(f"{BASE}/sessions/{2**62}/notes", json={"content": "x"},
                                       headers=admin_headers(new_id()))
    assert response.status_code == 404


async def test_a_transfer_note_becomes_a_private_note_for_the_receiving_agent(make_stack):
    stack = await make_stack(admin_capacity=1)
    first, second = new_id(), new_id()
    await stack.connections("gw-1", first, 1)
    sid = (await stack.open_session(new_id(), "发票问题"))["session_id"]
    assert (await stack.session(sid))["admin_id"] == first
    await stack.connections("gw-1", second, 1)
    moved = await stack.client.post(f"{BASE}/sessions/{sid}/transfer",
                                    json={"admin_id": second, "note": "用户要专票，已核对抬头"},
                                    headers=admin_headers(first))
    assert moved.status_code == 200 and moved.json()["admin_id"] == second, moved.text
    (event,) = await stack.tap.wait(sid, CHAT_NOTE_ADDED)
    assert (event.admin_id, event.note.author_id, event.note.transfer_to) == (second, first, second)
    assert event.note.content == "用户要专票，已核对抬头"
    messages = await stack.client.get(f"{BASE}/sessions/{sid}/messages", headers=admin_headers(second))
    assert "专票" not in messages.text
