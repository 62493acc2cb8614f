"""The agents' search: words in Chinese and English, a user, Beijing days, newest first in cursor pages."""

import uuid
from datetime import timedelta

import pytest
from contracts.time import now_beijing
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration
SEARCH = f"{BASE}/search"


async def search(stack, **params) -> dict:
    response = await stack.client.get(SEARCH, params=params, headers=admin_headers(new_id()))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_chinese_word_finds_the_message_containing_it_with_its_session(stack):
    tag = uuid.uuid4().hex[:8]
    user = new_id()
    sid = (await stack.open_session(user, f"你好 {tag}"))["session_id"]
    await stack.open_session(user, f"请问我的退款进度怎么样了 {tag}")
    found = await search(stack, q=f"退款 {tag}")
    (hit,) = found["items"]
    assert hit["message"]["message_content"] == f"请问我的退款进度怎么样了 {tag}"
    assert (hit["session"]["session_id"], hit["session"]["user_id"]) == (sid, user)


async def test_latin_words_match_whatever_their_case_and_every_word_is_required(stack):
    tag = uuid.uuid4().hex[:8]
    user = new_id()
    await stack.open_session(user, f"My ORDER never arrived {tag}")
    await stack.open_session(user, f"order number please {tag}")
    assert len((await search(stack, q=f"order {tag}"))["items"]) == 2
    assert [h["message"]["message_content"] for h in (await search(stack, q=f"Order ARRIVED {tag}"))["items"]] == \
        [f"My ORDER never arrived {tag}"]


async def test_percent_and_underscore_are_searched_as_themselves(stack):
    tag = uuid.uuid4().hex[:8]
    await stack.open_session(new_id(), f"打 9_5 折 {tag}")
    await stack.open_session(new_id(), f"打 905 折 {tag}")
    assert [h["message"]["message_content"] for h in (await search(stack, q=f"9_5 {tag}"))["items"]] == \
        [f"打 9_5 折 {tag}"]


async def test_a_user_and_a_range_of_beijing_days_narrow_the_search_newest_first_page_by_page(stack):
    user, tag = new_id(), uuid.uuid4().hex[:8]
    sid = (await stack.open_session(user, f"一 {tag}"))["session_id"]
    for word in ("二", "三"):
        await stack.open_session(user, f"{word} {tag}")
    await stack.open_session(new_id(), f"别人 {tag}")
    # the first message was written on the previous Beijing day
    yesterday = now_beijing() - timedelta(days=1)
    async with stack.app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE chat.messages SET created_at = :at WHERE session_id = :s AND content = :c"),
                           {"at": yesterday, "s": sid, "c": f"一 {tag}"})
    today = now_beijing().date().isoformat()

    mine = await search(stack, user_id=user, q=tag, limit=2)
    assert [h["message"]["message_content"] for h in mine["items"]] == [f"三 {tag}", f"二 {tag}"]
    older = await search(stack, user_id=user, q=tag, limit=2, before=mine["next_before"])
    assert ([h["message"]["message_content"] for h in older["items"]], older["has_more"]) == ([f"一 {tag}"], False)
    assert len((await search(stack, user_id=user, date_from=today, date_to=today))["items"]) == 2
    only_yesterday = await search(stack, user_id=user, date_to=yesterday.date().isoformat())
    assert [h["message"]["message_content"] for h in only_yesterday["items"]] == [f"一 {tag}"]


async def test_a_search_for_nothing_or_a_backwards_range_is_refused_and_users_may_not_search(stack):
    agent = admin_headers(new_id())
    nothing = await stack.client.get(SEARCH, headers=agent)
    backwards = await stack.client.get(SEARCH, params={"q": "x", "date_from": "2026-12-07", "date_to": "2026-12-06"},
                                       headers=agent)
    by_user = await stack.client.get(SEARCH, params={"q": "x"}, headers=user_headers(new_id()))
    assert [nothing.status_code, backwards.status_code, by_user.status_code] == [422, 422, 403]


async def test_the_word_search_is_answered_from_the_trigram_index(stack):
    async with stack.app.state.engine.begin() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await conn.execute(text(
            "EXPLAIN SELECT id FROM chat.messages WHERE content ILIKE '%refund order%'"))).scalars())
    assert "messages_content_trgm" in plan
