"""Issue 17 in the browser: a waiting H5 user watches their place in the queue fall from 3 to 1, in Chinese, having
been told at once that no agent is online, and then gets the greeting in Chinese.

The e2e stack is shared by every browser test. Isolation, and what is checked rather than assumed:
- Admins come online only while a test has an admin page open (tests/e2e/conftest.py closes every page at the
  end of its test), so none is online here; the test checks it (each session it opens must stay waiting, else
  it fails saying an admin was online) instead of hoping.
- Sessions other tests left waiting would stand in the queue too: the three fresh users are marked VIP (priority
  5), so they go ahead of every default-priority session, and the test first checks that no other waiting session
  has priority 5.
- The two sessions ahead leave the queue by being claimed over REST (claiming needs no presence), by whichever
  seeded admin has room.
"""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.helpers import tid, user_login

CS = "/api/v4/customer-service"


async def register(http: httpx.AsyncClient) -> tuple[str, dict]:
    name = f"queue{uuid.uuid4().hex[:10]}"
    response = await http.post("/api/v4/auth/register", json={"username": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return name, response.json()


def bearer(body: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


async def claim_by_any_admin(http: httpx.AsyncClient, admins: list[dict], session_id: int) -> None:
    for admin in admins:
        response = await http.post(f"{CS}/sessions/{session_id}/claim", headers=bearer(admin))
        if response.status_code == 200:
            return
        assert response.json()["error"]["code"] == "admin_at_capacity", response.text
    raise AssertionError(f"no seeded admin had room to claim session {session_id}")


async def test_a_waiting_h5_user_watches_their_position_fall_from_3_to_1_then_gets_the_greeting_in_chinese(
        pages, base_url):
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        admins = []
        for name in ("admin1", "admin2", "admin3"):
            response = await http.post("/api/v4/auth/login", json={"username": name, "password": PASSWORD})
            admins.append(response.json())
        waiting = (await http.get(f"{CS}/sessions", params={"scope": "waiting", "page_size": 100},
                                  headers=bearer(admins[0]))).json()
        assert [s for s in waiting["items"] if s["priority"] == 5] == [], "another test left a VIP session waiting"

        (_, first), (_, second), (watcher_name, watcher) = [await register(http) for _ in range(3)]
        for user in (first, second, watcher):
            marked = await http.put(f"{CS}/customers/{user['user']['user_id']}", json={"tier": "vip"},
                                    headers=bearer(admins[0]))
            assert marked.status_code == 200, marked.text
        ahead = []
        for user in (first, second):
            opened = await http.post(f"{CS}/sessions", json={"content": "在吗？"}, headers=bearer(user))
            assert opened.json()["status"] == "waiting", "an admin was online: the session was assigned at once"
            ahead.append(opened.json()["session_id"])

        page = await user_login(pages, watcher_name)
        await tid(page, "composer-input").fill("你好，我想咨询订单问题")
        await tid(page, "composer-send").click()
        place = tid(page, "queue-position")
        await expect(place).to_have_attribute("data-position", "3")
        await expect(place).to_contain_text("您前面还有 2 位 · 预计等待")
        await expect(tid(page, "session-status")).to_have_attribute("data-status", "waiting")
        await pages.screenshot(page, "position-3")

        await claim_by_any_admin(http, admins, ahead[0])
        await expect(place).to_have_attribute("data-position", "2")
        await expect(place).to_contain_text("您前面还有 1 位")
        await claim_by_any_admin(http, admins, ahead[1])
        await expect(place).to_have_attribute("data-position", "1")
        await expect(place).to_contain_text("下一位就是您")
        await pages.screenshot(page, "position-1")
        # nobody online: the page showed the notice at once; when an admin takes it, the greeting, in Chinese
        await expect(tid(page, "message-text").filter(has_text="暂时没有客服在线，您的留言已收到")).to_be_visible()
        mine = (await http.get(f"{CS}/my/sessions", headers=bearer(watcher))).json()["items"][0]["session_id"]
        await claim_by_any_admin(http, admins, mine)
        await expect(tid(page, "message-text").filter(has_text="您好，有什么可以帮助您的？")).to_be_visible()
        await pages.screenshot(page, "greeting")
    assert pages.problems == []
