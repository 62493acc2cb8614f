"""Issue 16, language: the pages speak Simplified Chinese first and English second, follow the browser's language
on a first visit, can be switched in every page's header, and remember the choice."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.conftest import PASSWORD, Pages
from tests.e2e.helpers import admin_login, session_item, tid, user_id_of, user_login

PAGES = ("/admin/login.html", "/h5/chat.html")


async def html_lang(page: Page) -> str:
    return await page.evaluate("() => document.documentElement.lang")


async def test_an_english_browser_gets_the_whole_chat_scenario_in_english(pages: Pages) -> None:
    admin_context = await pages.context(locale="en-US")
    admin = await admin_login(pages, "admin1", "/admin/customer-service.html", context=admin_context)
    assert await html_lang(admin) == "en"
    await expect(tid(admin, "conn-status").locator("[data-role=text]")).to_have_text("Live")
    await expect(admin.locator("nav")).to_contain_text("Customer service")
    await expect(tid(admin, "tab-mine")).to_contain_text("Mine")

    user = await user_login(pages, "user5", locale="en-US")
    await expect(tid(user, "session-status")).to_have_text("Send us a message and an agent will be with you shortly.")
    user_id = await user_id_of(user)
    await tid(user, "composer-input").fill("Hello, where is my parcel?")
    await tid(user, "composer-send").click()
    # This user's session, by name: a session other tests left waiting may be assigned to admin1 at its login.
    await expect(tid(admin, "toast").filter(has_text=f"from user #{user_id} ").filter(has_text="was assigned to you")) \
        .to_be_visible()
    item = session_item(admin, user_id)
    await expect(item).to_contain_text(f"User #{user_id}")
    await expect(tid(user, "session-status")).to_have_text("You are chatting with agent #1.")
    # A system line is drawn from its code in the page's language (the server's fallback text is Chinese).
    system_lines = user.locator('[data-testid="message"][data-message-type="system"] [data-testid="message-text"]')
    await expect(system_lines.first).to_have_text("Agent #1 joined the conversation")

    await item.click()
    # The conversation is open (opening one resets the composer) before the agent types, as in test_scenarios.
    await expect(tid(admin, "message-text").filter(has_text="Hello, where is my parcel?")).to_be_visible()
    await tid(admin, "composer-input").press_sequentially("Let me check", delay=20)
    await expect(tid(user, "typing-indicator")).to_have_text("Agent is typing…")
    await tid(admin, "composer-send").click()
    await expect(admin.locator('[data-testid="message"].mine').first).to_contain_text("Sent ✓")
    await expect(admin.locator('[data-testid="message"].mine [data-testid="message-time"]').first).to_have_text("just now")
    await expect(tid(user, "message-text").filter(has_text="Let me check")).to_be_visible()
    await expect(user.locator('[data-testid="message"].theirs [data-testid="message-meta"]').first).to_contain_text("Agent #1")

    await tid(admin, "conv-close").click()
    await expect(tid(admin, "toast").filter(has_text="Session closed")).to_be_visible()
    await expect(tid(user, "session-status")).to_contain_text("This conversation has been closed.")
    await expect(system_lines.last).to_have_text("Conversation closed by agent #1")
    await pages.screenshot(admin, "admin-english")
    await pages.screenshot(user, "user-english")
    assert not pages.problems, pages.problems


async def test_the_language_follows_the_browser_can_be_switched_in_the_header_and_is_remembered(pages: Pages) -> None:
    chinese = await pages.new_page(await pages.context())
    await chinese.goto("/admin/login.html")
    assert await html_lang(chinese) == "zh-CN"
    await expect(chinese.locator("h1")).to_have_text("平台管理后台")
    await expect(tid(chinese, "login-submit")).to_have_text("登录")
    assert await chinese.title() == "管理员登录 · 平台管理后台"
    # An API error code in words: the server's message stays English, the page says it in Chinese.
    await tid(chinese, "login-username").fill("admin1")
    await tid(chinese, "login-password").fill(PASSWORD + "-wrong")
    await tid(chinese, "login-submit").click()
    await expect(tid(chinese, "login-error")).to_have_text("用户名或密码错误。")
    await pages.screenshot(chinese, "login-zh")

    # Switched to English in the header: the page is English, and stays so on the next visit to any page.
    await tid(chinese, "lang-switch").select_option("en")
    await expect(tid(chinese, "login-submit")).to_have_text("Log in")
    assert await html_lang(chinese) == "en"
    await chinese.goto("/h5/chat.html")
    await expect(tid(chinese, "h5-login-submit")).to_have_text("Log in")
    await expect(tid(chinese, "lang-switch")).to_have_value("en")
    await tid(chinese, "lang-switch").select_option("zh-CN")
    await expect(tid(chinese, "h5-login-submit")).to_have_text("登录")
    assert await html_lang(chinese) == "zh-CN"

    # A browser in neither language gets Chinese; one preferring English among others gets English.
    for locale, expected, word in (("fr-FR", "zh-CN", "登录"), ("en-GB", "en", "Log in")):
        page = await pages.new_page(await pages.context(locale=locale))
        for path in PAGES:
            await page.goto(path)
            assert await html_lang(page) == expected, (locale, path)
        await expect(tid(page, "h5-login-submit")).to_have_text(word)
    assert not pages.problems, pages.problems
