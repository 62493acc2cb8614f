"""The customer panel: a user's summary and their earlier sessions with messages, in cursor pages."""

from datetime import datetime

import pytest

from .conftest import BASE, admin_headers, new_id, supervisor_headers, user_headers

pytestmark = pytest.mark.integration


async def past_sessions(stack, user_id: int, count: int) -> list[int]:
    """`count` closed sessions of `user_id` (each: two user messages), oldest first."""
    ids = []
    for n in range(count):
        sid = (await stack.open_session(user_id, f"第{n}次-一"))["session_id"]
        await stack.open_session(user_id, f"第{n}次-二")
        closed = await stack.client.post(f"{BASE}/my/sessions/{sid}/close", headers=user_headers(user_id))
        assert closed.status_code == 200, closed.text
        ids.append(sid)
    return ids


async def test_the_summary_gives_tier_first_contact_and_the_number_of_sessions(stack):
    user = new_id()
    empty = await stack.client.get(f"{BASE}/customers/{user}/summary", headers=admin_headers(new_id()))
    assert (empty.json()["sessions_count"], empty.json()["first_contact_at"], empty.json()["tier"]) == (0, None, "standard")
    ids = await past_sessions(stack, user, 2)
    await stack.client.put(f"{BASE}/customers/{user}", json={"tier": "vip"}, headers=supervisor_headers(new_id()))
    summary = (await stack.client.get(f"{BASE}/customers/{user}/summary", headers=admin_headers(new_id()))).json()
    first = await stack.session(ids[0])
    assert (summary["sessions_count"], summary["tier"]) == (2, "vip")
    created = first["created_at"]  # the contract's times carry milliseconds
    assert datetime.fromisoformat(summary["first_contact_at"]) == created.replace(microsecond=created.microsecond // 1000 * 1000)
    assert summary["first_contact_at"].endswith("+08:00")


async def test_earlier_sessions_come_newest_first_with_their_messages_page_by_page_before_a_cursor(stack):
    user = new_id()
    ids = await past_sessions(stack, user, 3)
    current = (await stack.open_session(user, "现在的问题"))["session_id"]
    url = f"{BASE}/customers/{user}/sessions"
    first = (await stack.client.get(url, params={"before": current, "limit": 2}, headers=admin_headers(new_id()))).json()
    assert [i["session"]["session_id"] for i in first["items"]] == [ids[2], ids[1]]
    assert first["has_more"] and first["next_before"] == ids[1]
    # (between them the platform's "no agent online" notice: a system message)
    said = [m["message_content"] for m in first["items"][0]["messages"] if m["message_type"] != "system"]
    assert said[:2] == ["第2次-一", "第2次-二"]
    second = (await stack.client.get(url, params={"before": first["next_before"], "limit": 2},
                                     headers=admin_headers(new_id()))).json()
    assert [i["session"]["session_id"] for i in second["items"]] == [ids[0]]
    assert (second["has_more"], second["next_before"]) == (False, None)


async def test_a_long_session_brings_only_its_newest_messages_and_says_there_are_more(make_stack):
    stack = await make_stack(history_messages_per_session=2)
    user = new_id()
    sid = (await stack.open_session(user, "一"))["session_id"]
    for text in ("二", "三"):
        await stack.open_session(user, text)
    page = (await stack.client.get(f"{BASE}/customers/{user}/sessions", headers=admin_headers(new_id()))).json()
    (item,) = page["items"]
    assert item["session"]["session_id"] == sid and item["more_messages"] is True
    assert [m["message_content"] for m in item["messages"]] == ["二", "三"]


async def test_end_users_cannot_read_a_customers_history(stack):
    user = new_id()
    for path in ("summary", "sessions"):
        response = await stack.client.get(f"{BASE}/customers/{user}/{path}", headers=user_headers(user))
        assert response.status_code == 403
