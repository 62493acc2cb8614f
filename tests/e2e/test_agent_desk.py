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
    user = await register_user(pages)
    user_id = await user_id_of(user)
    await tid(user, "composer-input").fill("我的退款到哪了？")
    await tid(user, "composer-send").click()
    await open_from_all(agent, user_id)

    await tid(agent, "quick-reply-manage").click()  # next to the composer: add one of the agent's own
    await tid(agent, "quick-reply-title").fill(f"退款进度查询 {tag}")
    await tid(agent, "quick-reply-content").fill(f"您好，您的退款正在处理中（{tag}）。")
    await tid(agent, "quick-reply-save").click()
    await expect(tid(agent, "quick-reply-row").filter(has_text=tag)).to_have_count(1)
    await tid(agent, "quick-reply-close").click()

    box = tid(agent, "composer-input")
    await box.click()
    await box.press_sequentially("您好 /退款")
    choice = tid(agent, "quick-reply-item").filter(has_text=tag)
    await expect(choice).to_have_count(1)
    await expect(tid(agent, "quick-reply-item").filter(has_text="退款").first).to_have_attribute("aria-selected", "true")
    await box.press("Backspace")
    await box.press("Backspace")
    await box.press_sequentially(tag)  # "/<tag>": narrows the list to this test's reply
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


async def admin_id_of(page) -> int:
    return await page.evaluate("() => JSON.parse(localStorage.getItem('platform.admin.session')).user.user_id")


async def set_availability(page, value: str) -> None:
    select = tid(page, "availability")
    await select.select_option(value)
    await expect(select).to_have_attribute("data-availability", value)


async def test_an_agent_transfers_to_an_online_agent_picked_from_the_list_with_a_note_they_see(pages: Pages) -> None:
    sender = await admin_login(pages, "admin2", CONSOLE)
    receiver = await admin_login(pages, "admin3", CONSOLE)
    receiver_id = await admin_id_of(receiver)
    note = f"用户要开专票，抬头已核对 {uuid.uuid4().hex[:6]}"
    await set_availability(receiver, "busy")  # the new session goes to the sender
    try:
        user = await register_user(pages)
        user_id = await user_id_of(user)
        await tid(user, "composer-input").fill("我要开发票")
        await tid(user, "composer-send").click()
        await expect(session_item(sender, user_id)).to_have_count(1)
        await set_availability(receiver, "online")

        await session_item(sender, user_id).click()
        await tid(sender, "conv-transfer").click()
        picker = tid(sender, "transfer-picker")
        await expect(picker).to_be_visible()
        target = picker.locator(f'[data-testid="transfer-agent"][data-admin-id="{receiver_id}"]')
        await expect(target).to_have_attribute("data-status", "online")
        await expect(target.locator('[data-testid="transfer-agent-status"]')).to_have_text("在线")
        await expect(tid(sender, "transfer-agent")).not_to_have_count(0)
        await target.click()
        await expect(target).to_have_attribute("aria-selected", "true")
        await tid(sender, "transfer-note").fill(note)
        await pages.screenshot(sender, "admin2-transfer-picker")
        await tid(sender, "transfer-confirm").click()
        await expect(picker).to_be_hidden()

        await expect(tid(receiver, "toast").filter(has_text=note)).to_be_visible()
        await expect(session_item(receiver, user_id)).to_have_count(1)
        await session_item(receiver, user_id).click()
        await expect(tid(receiver, "note-item").filter(has_text=note)).to_have_count(1)
        await tid(receiver, "composer-input").fill("您好，我来继续为您处理发票。")
        await tid(receiver, "composer-send").click()
        await expect(tid(user, "message-text").filter(has_text="继续为您处理发票")).to_have_count(1)
        await expect(tid(user, "message-list")).not_to_contain_text(note)  # the note never reaches the user
        await tid(receiver, "conv-close").click()
        await expect(tid(receiver, "conv-closed")).to_be_visible()
    finally:
        await set_availability(receiver, "online")
    assert not pages.problems, pages.problems


async def test_a_private_note_shows_in_the_console_and_never_on_the_h5_page(pages: Pages) -> None:
    agent = await admin_login(pages, "admin2", CONSOLE)
    user = await register_user(pages)
    user_id = await user_id_of(user)
    secret = f"内部：该用户曾多次投诉 {uuid.uuid4().hex[:6]}"
    await tid(user, "composer-input").fill("你好")
    await tid(user, "composer-send").click()
    await expect(session_item(agent, user_id)).to_have_count(1)
    await session_item(agent, user_id).click()

    await tid(agent, "notes-panel").locator("summary").click()
    await tid(agent, "note-input").fill(secret)
    await tid(agent, "note-add").click()
    await expect(tid(agent, "note-item").filter(has_text=secret)).to_have_count(1)
    await expect(tid(agent, "notes-count")).to_have_attribute("data-count", "1")
    await expect(tid(agent, "message-list")).not_to_contain_text(secret)  # a note is not a message

    await tid(agent, "composer-input").fill("您好，请问有什么可以帮您？")
    await tid(agent, "composer-send").click()  # after the note: once the user sees this, the note had its chance
    await expect(tid(user, "message-text").filter(has_text="有什么可以帮您")).to_have_count(1)
    await expect(user.locator("body")).not_to_contain_text(secret)
    await user.reload()
    await expect(tid(user, "message-text").filter(has_text="有什么可以帮您")).to_have_count(1)
    await expect(user.locator("body")).not_to_contain_text(secret)
    await pages.screenshot(agent, "admin2-private-note")
    await tid(agent, "conv-close").click()
    await expect(tid(agent, "conv-closed")).to_be_visible()
    assert not pages.problems, pages.problems


async def test_a_chinese_search_finds_a_message_and_opens_its_session_at_it(pages: Pages) -> None:
    agent = await admin_login(pages, "admin2", CONSOLE)
    user = await register_user(pages)
    user_id = await user_id_of(user)
    tag = uuid.uuid4().hex[:6]
    for text in (f"你好 {tag}", f"我想查询退款进度，订单号 {tag}", "谢谢"):
        await tid(user, "composer-input").fill(text)
        await tid(user, "composer-send").click()
        await expect(tid(user, "message-text").filter(has_text=text)).to_have_count(1)

    await tid(agent, "search-panel").locator("summary").click()
    await tid(agent, "search-words").fill(f"退款 {tag}")
    await tid(agent, "search-submit").click()
    hit = tid(agent, "search-hit")
    await expect(hit).to_have_count(1)
    await expect(hit).to_contain_text("我想查询退款进度")
    await expect(hit).to_contain_text(f"用户 #{user_id}")
    await hit.click()
    found = agent.locator('[data-testid="message"][data-highlight="true"]')
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(f"我想查询退款进度，订单号 {tag}")
    await expect(tid(agent, "customer-panel")).to_have_attribute("data-user-id", str(user_id))
    await expect(tid(agent, "customer-sessions-count")).to_have_text("1")
    await pages.screenshot(agent, "admin2-search")
    await end_session(user)
    assert not pages.problems, pages.problems
