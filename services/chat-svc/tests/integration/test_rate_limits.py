"""Per-user limits on the write routes (servicekit.ratelimit): 429 `rate_limited` + Retry-After, others unaffected."""

import asyncio

import pytest
from servicekit.ratelimit import RateLimit
from sqlalchemy import text

from .conftest import BASE, new_id, user_headers

pytestmark = pytest.mark.integration

# An hour-long window: nothing slides out while the test runs, so the counts are exact.
LIMIT = RateLimit(requests=30, per_seconds=3600)


async def test_300_quick_message_posts_get_429_with_retry_after_beyond_the_limit_and_another_user_is_unaffected(
    make_stack,
):
    stack = await make_stack(message_rate_limit=LIMIT)
    flooder, other = new_id(), new_id()
    flood_session = (await stack.open_session(flooder))["session_id"]
    other_session = (await stack.open_session(other))["session_id"]

    async def post(user_id: int, session_id: int, n: int):
        return await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": f"m{n}"},
                                       headers=user_headers(user_id))

    answers = []
    for burst in range(30):  # 300 POSTs, ten at a time
        answers += await asyncio.gather(*(post(flooder, flood_session, burst * 10 + i) for i in range(10)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == LIMIT.requests and statuses.count(429) == 300 - LIMIT.requests, statuses
    assert statuses[:20] == [201] * 20  # the first burst and a half fit
    refused = [a for a in answers if a.status_code == 429]
    for answer in refused:
        assert int(answer.headers["Retry-After"]) >= 1
        error = answer.json()["error"]
        assert error["code"] == "rate_limited" and "retry in" in error["message"]
        assert error["details"]["limit"] == LIMIT.requests
    async with stack.app.state.engine.connect() as conn:  # nothing refused was stored
        stored = await conn.scalar(text("SELECT count(*) FROM chat.messages WHERE session_id = :s"),
                                   {"s": flood_session})
    assert stored == 2 + LIMIT.requests  # the opening message and its notice (nobody online), then the accepted

    mine = [await post(other, other_session, n) for n in range(5)]
    assert [a.status_code for a in mine] == [201] * 5


async def test_opening_sessions_is_limited_per_user(make_stack):
    stack = await make_stack(session_rate_limit=RateLimit(requests=3, per_seconds=3600))
    flooder, other = new_id(), new_id()
    answers = [await stack.client.post(f"{BASE}/sessions", json={"content": f"hi {n}"}, headers=user_headers(flooder))
               for n in range(5)]
    assert [a.status_code for a in answers] == [201, 200, 200, 429, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited" and int(answers[3].headers["Retry-After"]) >= 1
    assert (await stack.client.post(f"{BASE}/sessions", json={"content": "hi"}, headers=user_headers(other))
            ).status_code == 201
