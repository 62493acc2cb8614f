"""Issue 16: the system messages of an assignment, a transfer and a close carry a code and parameters
(contracts.payloads.system_text) over REST and over `chat.message_created`, with the fallback text rendered in
the configured language (Chinese by default)."""

import pytest
from contracts.events.registry import CHAT_MESSAGE_CREATED

from .conftest import BASE, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration
A, B = 11, 22


def coded(message: dict) -> tuple[str | None, dict | None, str]:
    return message.get("system_code"), message.get("system_params"), message["message_content"]


async def test_assignment_transfer_and_close_write_coded_system_messages_over_rest_and_the_event(make_stack):
    stack = await make_stack(admin_capacity=2)
    await stack.connections("gw-1", A, 1)
    await stack.connections("gw-1", B, 1)
    user = new_id()
    session_id = (await stack.open_session(user, "你好"))["session_id"]
    holder = (await stack.session(session_id))["admin_id"]
    other = B if holder == A else A
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/transfer", json={"admin_id": other},
                                       headers=admin_headers(holder))
    assert response.status_code == 200, response.text
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/close", headers=admin_headers(other))
    assert response.status_code == 200, response.text

    expected = [
        ("agent_joined", {"agent_id": holder}, f"客服 #{holder} 已加入会话"),
        ("greeting", {"text_zh_cn": "您好，有什么可以帮助您的？", "text_en": "Hello, how can I help you?"},
         "您好，有什么可以帮助您的？"),
        ("session_transferred", {"from_agent_id": holder, "to_agent_id": other},
         f"会话已由客服 #{holder} 转接给客服 #{other}"),
        ("session_closed_by_agent", {"agent_id": other}, f"客服 #{other} 已结束会话"),
    ]
    page = await stack.client.get(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user))
    assert page.status_code == 200
    items = page.json()["items"]
    assert coded(items[0])[:2] == (None, None)  # the user's own message has no code
    assert [coded(m) for m in items[1:]] == expected
    assert {m["message_type"] for m in items[1:]} == {"system"}

    events = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=5)
    on_the_wire = [e.message.model_dump(mode="json") for e in events]
    assert [coded(m) for m in on_the_wire[1:]] == expected
    assert "system_code" not in on_the_wire[0]  # omitted, not null: the spec's payload as it was


async def test_the_fallback_text_follows_the_configured_language(make_stack):
    stack = await make_stack(system_text_locale="en")
    await stack.connections("gw-1", A, 1)
    user = new_id()
    session_id = (await stack.open_session(user))["session_id"]
    items = (await stack.client.get(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user))).json()
    assert coded(items["items"][-2]) == ("agent_joined", {"agent_id": A}, f"Agent #{A} joined the conversation")
    assert coded(items["items"][-1])[::2] == ("greeting", "Hello, how can I help you?")
