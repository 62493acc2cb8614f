"""Issue 19 in the browser (zh-CN): the agent's desk in the customer-service console. admin1-3 are shared with
the other browser tests: whatever is created here has unique words in it, sessions opened here are closed."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, session_item, tid, user_id_of
from tests.e2e.test_agents import register_user

CONSOLE = "/admin/customer-service.html"


async def end_session(user) -> None:
    await tid(user, "end-session").click()
    await expect(tid(user, "end-session")).to_be_hidden()


async def open_from_all(page, user_id: int) -> None:
    await tid(page, "tab-all").click()
    await session_item(page, user_id).first.click()
    await expect(tid(page, "composer")).to_be_visible()


async def test_typing_a_slash_and_a_chinese_word_inserts_the_quick_reply_for_editing(pages: Pages) -> None:
    agent = await admin_login(pages, "admin2", CONSOLE)
    tag = uuid.uuid4().hex[:6]
    await tid(agent, "quick-reply-manage").click()
    await tid(agent, "quick-reply-title").fill(f"退款进度查询 {tag}")
    await tid(agent, "quick-reply-content").fill(f"您好，您的退款正在处理中（{tag}）。")
    await tid(agent, "quick-reply-save").click()
    await expect(tid(agent, "quick-reply-row").filter(has_text=tag)).to_have_count(1)
    await tid(agent, "quick-reply-close").click()

    user = await register_user(pages)
    user_id = await user_id_of(user)
    await tid(user, "composer-input").fill("我的退款到哪了？")
    await tid(user, "composer-send").click()
    await open_from_all(agent, user_id)

    box = tid(agent, "composer-input")
    await box.click()
    await box.press_sequentially("您好 /退款")
    choice = tid(agent, "quick-reply-item").filter(has_text=tag)
    await expect(choice).to_have_count(1)
    await expect(tid(agent, "quick-reply-item").filter(has_text="退款").first).to_have_attribute("aria-selected", "true")
    await box.press_sequentially(tag)  # narrows the list to this test's reply
    await expect(tid(agent, "quick-reply-item")).to_have_count(1)
    await box.press("Enter")  # picks it, does not send
    await expect(tid(agent, "quick-reply-list")).to_be_hidden()
    await expect(box).to_have_value(f"您好 您好，您的退款正在处理中（{tag}）。")
    await box.press_sequentially("请稍候。")  # edited before sending
    await expect(box).to_have_value(f"您好 您好，您的退款正在处理中（{tag}）。请稍候。")

    await box.press_sequentially(" /不存在的词")
    await expect(tid(agent, "quick-reply-none")).to_be_visible()
    await box.press("Escape")
    await expect(tid(agent, "quick-reply-list")).to_be_hidden()
    await pages.screenshot(agent, "admin2-quick-reply")
    await end_session(user)
    assert not pages.problems, pages.problems

