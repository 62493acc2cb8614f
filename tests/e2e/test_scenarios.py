"""The four browser scenarios of issue 6, through the edge, in headless Chromium, in the pages' default language
(zh-CN: the browsers are Chinese, conftest.py); where a test reads visible text, it reads the Chinese.

Kept in this order in one module: the first needs admin1 to be the only admin online when user1 writes, so
that the session is assigned to admin1.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, open_admin_tab, session_item, tid, user_id_of, user_login

XSS = "<img src=x onerror=alert(1)>"


async def test_1_user_and_admin_chat_live(pages: Pages) -> None:
    admin = await admin_login(pages, "admin1", "/admin/customer-service.html")
    user = await user_login(pages, "user1")

    # user1 opens a session with the first message; admin1 is told it was assigned to them.
    user_id = await user_id_of(user)
    await tid(user, "composer-input").fill("你好，我的包裹还没有到")
    await tid(user, "composer-send").click()
    # This user's session, by name: a session other tests left waiting may be assigned to admin1 at its login.
    await expect(tid(admin, "toast").filter(has_text=f"用户 #{user_id} 的会话").filter(has_text="已分配给您")) \
        .to_be_visible()
    item = session_item(admin, user_id)
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text(f"用户 #{user_id}")
    await expect(item).to_contain_text("进行中")
    await expect(item).to_have_attribute("data-status", "active")
    # The user's page follows the assignment: its state and the system line.
    await expect(tid(user, "session-status")).to_have_attribute("data-status", "active")
    await expect(user.locator('[data-testid="message"][data-message-type="system"]').first).to_be_visible()

    await item.click()
    await expect(tid(admin, "message-text").filter(has_text="你好，我的包裹还没有到")).to_be_visible()
    await expect(tid(admin, "conv-title")).to_have_text(f"会话 #{await item.get_attribute('data-session-id')} · 用户 #{user_id}")
    # Times in Chinese: a message just written says so.
    await expect(user.locator('[data-testid="message"].mine [data-testid="message-time"]').first).to_have_text("刚刚")

    # admin1 types: user1 sees it; admin1 sends: the ack marks it sent, user1 gets it.
    await tid(admin, "composer-input").press_sequentially("很抱歉", delay=20)
    await expect(tid(user, "typing-indicator")).to_have_text("客服正在输入…")
    await tid(admin, "composer-input").press_sequentially("，我帮您查一下。", delay=5)
    await tid(admin, "composer-send").click()
    reply = admin.locator('[data-testid="message"].mine').filter(has_text="我帮您查一下")
    await expect(reply).to_have_attribute("data-state", "sent")
    await expect(tid(user, "message-text").filter(has_text="很抱歉，我帮您查一下。")).to_be_visible()

    # And the other way round.
    await tid(user, "composer-input").press_sequentially("订单号 42，谢谢", delay=20)
    await expect(tid(admin, "typing-indicator")).to_have_text(f"用户 #{user_id} 正在输入…")
    await tid(user, "composer-input").press("Enter")
    await expect(tid(admin, "message-text").filter(has_text="订单号 42，谢谢")).to_be_visible()
    await expect(user.locator('[data-testid="message"].mine').filter(has_text="订单号 42")).to_have_attribute("data-state", "sent")

    # admin1 closes the session; user1 sees it closed. admin1's list ("mine", active) drops it at once, not
    # after its next reload: what the list holds when the "会话已结束" (session closed) toast appears is recorded.
    session_id = await item.get_attribute("data-session-id")
    await admin.evaluate("""(sid) => {
      window.__listWhenClosed = null;
      const watch = new MutationObserver(() => {
        const toasts = [...document.querySelectorAll('[data-testid="toast"]')];
        if (window.__listWhenClosed !== null || !toasts.some((t) => t.textContent.includes("会话已结束"))) return;
        const node = document.querySelector(`[data-testid="session-item"][data-session-id="${sid}"]`);
        window.__listWhenClosed = node ? node.dataset.status : "gone";
        watch.disconnect();
      });
      watch.observe(document.body, { childList: true, subtree: true });
    }""", session_id)
    await tid(admin, "conv-close").click()
    await expect(tid(admin, "conv-closed")).to_be_visible()
    await admin.wait_for_function("() => window.__listWhenClosed !== null")
    assert await admin.evaluate("() => window.__listWhenClosed") == "gone"
    await expect(item).to_have_count(0)
    await expect(tid(user, "session-status")).to_have_attribute("data-status", "closed")
    await expect(tid(user, "session-status")).to_contain_text("此会话已结束")

    await pages.screenshot(admin, "admin1-customer-service")
    await pages.screenshot(user, "user1-h5-chat")
    assert not pages.problems, pages.problems


async def test_2_broadcast_reaches_every_admin_and_read_state_follows(pages: Pages) -> None:
    a1_context = await pages.context()
    a1_tab1 = await admin_login(pages, "admin1", "/admin/notifications.html", context=a1_context)
    a1_tab2 = await open_admin_tab(pages, a1_context, "/admin/notifications.html")
    a3 = await admin_login(pages, "admin3", "/admin/notifications.html")
    a2 = await admin_login(pages, "admin2", "/admin/notifications.html")

    before = {}
    for name, page in (("a1_tab1", a1_tab1), ("a1_tab2", a1_tab2), ("a3", a3)):
        await expect(tid(page, "notification-list")).to_have_attribute("aria-busy", "false")
        before[name] = int(await tid(page, "unread-badge").get_attribute("data-count"))

    title = f"Maintenance tonight {uuid.uuid4().hex[:6]}"
    await tid(a2, "send-title").fill(title)
    await tid(a2, "send-content").fill("The platform is read-only from 22:00 to 22:30.")
    await tid(a2, "send-submit").click()
    await expect(tid(a2, "send-result")).to_contain_text("已广播给全部管理员")

    for name, page in (("a1_tab1", a1_tab1), ("a1_tab2", a1_tab2), ("a3", a3)):
        await expect(tid(page, "toast").filter(has_text=title)).to_be_visible()  # live, no reload
        await expect(tid(page, "notification-item").filter(has_text=title)).to_have_attribute("data-read", "false")
        await expect(tid(page, "unread-badge")).to_have_attribute("data-count", str(before[name] + 1))

    # admin1 marks it read in one tab; the other tab's badge drops (notification:update).
    await tid(a1_tab1, "notification-item").filter(has_text=title).locator('[data-testid="mark-read"]').click()
    await expect(tid(a1_tab1, "unread-badge")).to_have_attribute("data-count", str(before["a1_tab1"]))
    await expect(tid(a1_tab2, "unread-badge")).to_have_attribute("data-count", str(before["a1_tab2"]))
    await expect(tid(a1_tab2, "notification-item").filter(has_text=title)).to_have_attribute("data-read", "true")
    # admin3's own read state is untouched.
    await expect(tid(a3, "unread-badge")).to_have_attribute("data-count", str(before["a3"] + 1))

    # system:* events become banners (an alert raised over REST by admin1, a supervisor: agents may not).
    raised = await a1_tab1.evaluate("""async () => {
        const token = JSON.parse(localStorage.getItem('platform.admin.session')).token;
        const r = await fetch('/api/v4/system/alerts', {method: 'POST', headers: {'Content-Type': 'application/json',
          Authorization: 'Bearer ' + token}, body: JSON.stringify({level: 'warning', title: 'Queue backlog',
          message: 'Orders are processed with a delay of about 5 minutes.'})});
        return r.status;
    }""")
    assert raised in (200, 201, 202)
    for page in (a1_tab1, a1_tab2, a3):
        await expect(tid(page, "system-banner").filter(has_text="Queue backlog")).to_have_attribute("data-level", "warning")

    await pages.screenshot(a1_tab2, "admin1-second-tab")
    await pages.screenshot(a3, "admin3-notifications")
    assert not pages.problems, pages.problems


async def test_3_html_in_user_content_is_shown_as_text(pages: Pages) -> None:
    admin = await admin_login(pages, "admin1", "/admin/customer-service.html")
    user = await user_login(pages, "user2")

    await tid(user, "composer-input").fill(XSS)
    await tid(user, "composer-send").click()
    await expect(tid(user, "message-text").filter(has_text=XSS)).to_have_count(1)

    await tid(admin, "tab-all").click()
    await session_item(admin, await user_id_of(user)).first.click()
    await expect(tid(admin, "message-text").filter(has_text=XSS)).to_have_count(1)
    assert await tid(admin, "message-text").filter(has_text=XSS).text_content() == XSS
    await tid(admin, "composer-input").fill(f"You wrote: {XSS}")
    await tid(admin, "composer-send").click()
    await expect(tid(user, "message-text").filter(has_text=f"You wrote: {XSS}")).to_be_visible()

    # The same text in a notification's title and content.
    notifications = await open_admin_tab(pages, admin.context, "/admin/notifications.html")
    await tid(notifications, "send-title").fill(f"Title {XSS}")
    await tid(notifications, "send-content").fill(f"Content {XSS}")
    await tid(notifications, "send-submit").click()
    await expect(tid(notifications, "notification-title").filter(has_text=f"Title {XSS}")).to_be_visible()
    await expect(tid(notifications, "toast").filter(has_text=f"Title {XSS}")).to_be_visible()

    for page in (admin, user, notifications):
        assert await page.locator('main img, .messages img, .notif-list img, .toasts img').count() == 0
    await user.wait_for_timeout(300)
    assert pages.dialogs == [], "injected script ran"
    await pages.screenshot(admin, "admin-sees-text")
    await pages.screenshot(user, "user-sees-text")
    await pages.screenshot(notifications, "notification-as-text")
    assert not pages.problems, pages.problems


async def test_4_bad_token_gives_a_clear_message(pages: Pages) -> None:
    future = int((time.time() + 3600) * 1000)
    admin_session = ('{"token": "%s", "user": {"user_id": 1, "user_type": "admin", "username": "admin1"}, '
                     '"expiresAt": %d}')
    user_session = ('{"token": "%s", "user": {"user_id": 4, "user_type": "user", "username": "user1"}, '
                    '"expiresAt": %d}')

    # A token the server refuses: admin pages go back to login and say why.
    context = await pages.context()
    page = await pages.new_page(context)
    await page.goto("/admin/login.html")
    for target in ("/admin/notifications.html", "/admin/customer-service.html"):
        await page.evaluate("([k, v]) => localStorage.setItem(k, v)",
                            ["platform.admin.session", admin_session % ("not-a-real.token.value", future)])
        await page.goto(target)
        await page.wait_for_url("**/admin/login.html?**")
        await expect(tid(page, "login-message")).to_have_text("登录已失效（服务器拒绝），请重新登录。")
        await expect(tid(page, "login-form")).to_be_visible()
    await pages.screenshot(page, "admin-bad-token")

    # An expired one: the page says so before calling anything.
    await page.evaluate("([k, v]) => localStorage.setItem(k, v)",
                        ["platform.admin.session", admin_session % ("x.y.z", future - 7_200_000)])
    await page.goto("/admin/notifications.html")
    await expect(tid(page, "login-message")).to_have_text("登录已过期，请重新登录。")

    # A real user token on an admin page: sent to login with the reason.
    user = await user_login(pages, "user3")
    token = await user.evaluate("() => JSON.parse(localStorage.getItem('platform.h5.session')).token")
    await page.evaluate("([k, v]) => localStorage.setItem(k, v)",
                        ["platform.admin.session", admin_session.replace('"admin"', '"user"') % (token, future)])
    await page.goto("/admin/notifications.html")
    await expect(tid(page, "login-message")).to_have_text(re.compile("仅供管理员使用"))

    # H5: the login form comes back with the message, not a blank page.
    h5 = await pages.new_page(await pages.context(mobile=True))
    await h5.goto("/h5/chat.html")
    await h5.evaluate("([k, v]) => localStorage.setItem(k, v)",
                      ["platform.h5.session", user_session % ("bad" + token[3:], future)])
    await h5.goto("/h5/chat.html")
    await expect(tid(h5, "h5-login")).to_be_visible()
    await expect(tid(h5, "h5-auth-message")).to_have_text(re.compile("登录已失效"))
    await pages.screenshot(h5, "h5-bad-token")
    assert not pages.problems, pages.problems


async def test_5_reconnect_state_is_visible(pages: Pages, stack) -> None:
    """Not one of the issue's four: the gateway goes away and comes back; the page says so and recovers."""
    admin = await admin_login(pages, "admin2", "/admin/notifications.html")
    gateway = stack["realtime-gateway"]
    await gateway.stop()
    try:
        await expect(tid(admin, "conn-status")).to_have_attribute("data-state", re.compile("reconnecting|unavailable"))
        await expect(tid(admin, "conn-status")).to_contain_text(re.compile("重连|重试"))
        await expect(tid(admin, "conn-retry")).to_be_visible()  # while it waits to retry: try now
        await pages.screenshot(admin, "reconnecting")
    finally:
        gateway.start()
        await gateway.wait_healthy(30)
    await expect(tid(admin, "conn-status")).to_have_attribute("data-state", "connected", timeout=30_000)
    assert not pages.problems, pages.problems


BIDI_TEXT = "invoice\u202egnp.exe and \u2066isolated\u2069"
BIDI_SHOWN = "invoice[U+202E]gnp.exe and [U+2066]isolated[U+2069]"


async def test_6_bidi_controls_in_names_and_messages_are_shown_neutralised(pages: Pages, base_url: str) -> None:
    """A right-to-left override (U+202E) before "gnp.exe" would show it as "exe.png": every page shows each bidi
    control as a visible marker instead, in messages and system banners."""
    admin = await admin_login(pages, "admin3", "/admin/customer-service.html")
    user = await user_login(pages, "user4")

    await tid(user, "composer-input").fill(BIDI_TEXT)
    await tid(user, "composer-send").click()
    await expect(tid(user, "message-text").filter(has_text=BIDI_SHOWN)).to_have_count(1)

    await tid(admin, "tab-all").click()
    item = session_item(admin, await user_id_of(user)).first
    await item.click()
    await expect(tid(admin, "message-text").filter(has_text=BIDI_SHOWN)).to_have_count(1)

    # A name from a service: a component's status change reaches the admin's page as a banner.
    token = await admin.evaluate("() => JSON.parse(localStorage.getItem('platform.admin.session')).token")
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post("/api/v4/system/status", headers={"Authorization": f"Bearer {token}"},
                                     json={"component": "db\u202e1-tsoh", "status": "degraded", "message": BIDI_TEXT})
        assert response.status_code == 201, response.text
    banner = tid(admin, "system-banner").filter(has_text="db[U+202E]1-tsoh")
    await expect(banner).to_contain_text(BIDI_SHOWN)

    for page in (admin, user):
        shown = await page.locator("body").text_content()
        assert not any(ch in shown for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    await pages.screenshot(admin, "admin-sees-neutralised")
    await pages.screenshot(user, "user-sees-neutralised")
    assert not pages.problems, pages.problems


async def test_7_an_image_message_shows_its_url_as_text_and_nothing_is_fetched(pages: Pages) -> None:
    """Image messages with a URL are refused now (422); one stored before is shown as text, never loaded."""
    admin = await admin_login(pages, "admin3", "/admin/customer-service.html")
    fetched: list[str] = []
    admin.on("request", lambda request: fetched.append(request.url) if "pixel" in request.url else None)
    shown = await admin.evaluate("""async () => {
        const { ChatView } = await import("/js/chat-view.js");
        const list = document.createElement("div");
        const view = new ChatView(list, document.createElement("div"), { type: "admin", id: 1 }, () => "User");
        view.append({ message_id: 1, session_id: 1, sender_type: "user", sender_id: 2, message_type: "image",
                      message_content: "https://attacker.example/pixel.png", created_at: "2030-01-01T00:00:00.000+08:00" });
        document.body.append(list);
        return { images: list.querySelectorAll("img").length, text: list.textContent };
    }""")
    assert shown["images"] == 0 and "[图片] https://attacker.example/pixel.png" in shown["text"]
    await admin.wait_for_timeout(200)
    assert fetched == []
    assert not pages.problems, pages.problems
