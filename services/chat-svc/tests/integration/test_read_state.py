"""Issue 17, read state both ways: the user's and the agent's "read up to message X", per session, reaching
the other side as `chat.read_state_changed` (the gateway makes it `chat:read` for both participants)."""

import pytest
from contracts.events.registry import CHAT_READ_STATE_CHANGED

from .conftest import BASE, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration
A = 11


async def test_each_sides_read_position_reaches_the_other_side_and_never_moves_back(make_stack):
    stack = await make_stack()
    await stack.connections("gw-1", A, 1)
    user = new_id()
    session_id = (await stack.open_session(user, "你好"))["session_id"]
    reply = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": "您好"},
                                    headers=admin_headers(A))
    reply_id = reply.json()["message_id"]

    agent_read = await stack.client.post(f"{BASE}/sessions/{session_id}/read", headers=admin_headers(A))
    assert agent_read.status_code == 200, agent_read.text
    assert (agent_read.json()["admin_last_read_message_id"], agent_read.json()["unread_count"]) == (reply_id, 0)
    user_read = await stack.client.post(f"{BASE}/my/sessions/{session_id}/read", json={"last_read_message_id": reply_id},
                                        headers=user_headers(user))
    assert user_read.status_code == 200, user_read.text
    assert user_read.json()["user_last_read_message_id"] == reply_id

    events = await stack.tap.wait(session_id, CHAT_READ_STATE_CHANGED, count=2)
    seen = [(e.read.reader_type, e.read.reader_id, e.read.last_read_message_id, e.user_id, e.admin_id)
            for e in events]
    assert seen == [("admin", A, reply_id, user, A), ("user", user, reply_id, user, A)]

    back = await stack.client.post(f"{BASE}/my/sessions/{session_id}/read", json={"last_read_message_id": 1},
                                   headers=user_headers(user))
    assert back.json()["user_last_read_message_id"] == reply_id
    assert len(await stack.tap.wait(session_id, CHAT_READ_STATE_CHANGED, count=2)) == 2  # no event: nothing moved


async def test_only_the_sessions_user_and_its_agent_record_a_read_position(make_stack):
    stack = await make_stack()
    await stack.connections("gw-1", A, 1)
    session_id = (await stack.open_session(new_id()))["session_id"]
    stranger = await stack.client.post(f"{BASE}/my/sessions/{session_id}/read", headers=user_headers(new_id()))
    other_admin = await stack.client.post(f"{BASE}/sessions/{session_id}/read", headers=admin_headers(new_id()))
    assert (stranger.status_code, other_admin.status_code) == (403, 403)
