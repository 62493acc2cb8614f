"""Issue 17 in the browser: an agent who leaves a user's message unanswered past the first reply deadline sees a
reminder in the console, a toast and a banner in the console's language (the e2e stack runs chat-svc with a
4-second first deadline: tests/e2e/conftest.py)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, session_item, tid, user_id_of
from tests.e2e.test_agents import register_user

CONSOLE = "/admin/customer-service.html"


async def test_an_unanswered_message_brings_its_agent_a_reminder_in_the_console(pages: Pages) -> None:
    agent = await admin_login(pages, "admin2", CONSOLE)
    user = await register_user(pages)
    user_id = await user_id_of(user)
    await tid(user, "composer-input").fill("你好，有人吗？")
    await tid(user, "composer-send").click()
    item = session_item(agent, user_id)
    await expect(item).to_have_count(1)
    session_id = await item.get_attribute("data-session-id")

    reminder = tid(agent, "toast").filter(has_text="回复提醒").filter(has_text=f"会话 #{session_id} 的用户已等待回复超过 4 秒")
    await expect(reminder).to_be_visible(timeout=20_000)
    banner = tid(agent, "system-banner").filter(has_text="告警：回复提醒").filter(has_text=f"会话 #{session_id} ")
    await expect(banner).to_have_attribute("data-level", "warning")
    await pages.screenshot(agent, "admin2-reply-reminder")

    await item.click()
    await tid(agent, "conv-close").click()
    await expect(tid(agent, "conv-closed")).to_be_visible()
    assert not pages.problems, pages.problems
