"""Issue 17 in the browser (zh-CN): read ticks both ways ("已读" on one's own messages once the other side has
read them, live) and an end user ending their own chat from the H5 page, which the agent's console shows with
its reason."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, register_on_h5, session_item, tid, user_id_of


async def test_read_ticks_go_both_ways_live_and_the_user_ends_the_chat_from_the_h5_page(pages: Pages) -> None:
    admin = await admin_login(pages, "admin1", "/admin/customer-service.html")
    user = await pages.new_page(await pages.context(mobile=True))
    await register_on_h5(user, "reader")  # a new user: no session of theirs yet
    user_id = await user_id_of(user)

    await tid(user, "composer-input").fill("请帮我看看订单")
    await tid(user, "composer-send").click()
    question = user.locator('[data-testid="message"].mine').filter(has_text="请帮我看看订单")
    await expect(question.locator('[data-testid="message-read-state"]')).to_have_text("未读")
    await expect(tid(admin, "toast").filter(has_text=f"用户 #{user_id} 的会话").filter(has_text="已分配给您")).to_be_visible()
    await expect(tid(user, "end-session")).to_have_text("结束会话")

    await session_item(admin, user_id).click()  # the agent opens the conversation: the user's page says "已读"
    await expect(question).to_have_attribute("data-read", "true")
    await expect(question.locator('[data-testid="message-read-state"]')).to_have_text("已读")

    await tid(admin, "composer-input").fill("好的，请稍等")
    await tid(admin, "composer-send").click()
    reply = admin.locator('[data-testid="message"].mine').filter(has_text="好的，请稍等")
    await expect(tid(user, "message-text").filter(has_text="好的，请稍等")).to_be_visible()
    await expect(reply.locator('[data-testid="message-read-state"]')).to_have_text("已读")  # the user's page is open

    await tid(user, "end-session").click()
    await expect(tid(user, "session-status")).to_contain_text("此会话已结束")
    await expect(tid(user, "end-session")).to_be_hidden()
    await expect(tid(admin, "conv-closed")).to_have_text("此会话已结束（由用户结束）。")
    await expect(tid(admin, "message-text").filter(has_text=f"用户 #{user_id} 已结束会话")).to_be_visible()
    await pages.screenshot(user, "user-read-and-ended")
    await pages.screenshot(admin, "admin-read-and-ended")
    assert not pages.problems, pages.problems
