"""Steps the browser tests share: log in through the pages themselves, wait for the live connection."""

from __future__ import annotations

import uuid

from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.conftest import DEFAULT_LOCALE, PASSWORD, Pages

expect.set_options(timeout=15_000)


def tid(page: Page, testid: str, *, within: str | None = None):
    selector = f'[data-testid="{testid}"]'
    return page.locator(f"{within} {selector}" if within else selector)


async def connected(page: Page) -> None:
    """The page's Socket.IO connection is up (its status pill says so)."""
    await expect(tid(page, "conn-status")).to_have_attribute("data-state", "connected")


async def admin_login(pages: Pages, username: str, target: str, context: BrowserContext | None = None) -> Page:
    """Logs `username` in on admin/login.html and lands on `target` (an admin page), live."""
    context = context or await pages.context()
    page = await pages.new_page(context)
    await page.goto(f"/admin/login.html?next={target}")
    await tid(page, "login-username").fill(username)
    await tid(page, "login-password").fill(PASSWORD)
    await tid(page, "login-submit").click()
    await page.wait_for_url(f"**{target}")
    await connected(page)
    return page


def session_item(page: Page, user_id: int | str):
    """The admin console's list entry for `user_id`'s session (by its data attribute, whatever the language)."""
    return page.locator(f'[data-testid="session-item"][data-user-id="{user_id}"]')


async def user_id_of(page: Page) -> int:
    """The logged-in end user's id, from the H5 page's stored session."""
    return await page.evaluate("() => JSON.parse(localStorage.getItem('platform.h5.session')).user.user_id")


async def open_admin_tab(pages: Pages, context: BrowserContext, target: str) -> Page:
    """Another tab of an already logged-in admin (the token is shared through localStorage)."""
    page = await pages.new_page(context)
    await page.goto(target)
    await connected(page)
    return page


async def user_login(pages: Pages, username: str, locale: str = DEFAULT_LOCALE) -> Page:
    """Logs an end user in on the H5 page (phone-sized window, a browser in `locale`), live."""
    context = await pages.context(mobile=True, locale=locale)
    page = await pages.new_page(context)
    await page.goto("/h5/chat.html")
    await tid(page, "h5-username").fill(username)
    await tid(page, "h5-password").fill(PASSWORD)
    await tid(page, "h5-login-submit").click()
    await expect(tid(page, "h5-chat")).to_be_visible()
    await connected(page)
    return page


async def register_on_h5(page: Page, name: str = "e2e") -> None:
    """A new end user, as one comes: opens the H5 page on `page` (routes installed on it still apply) and registers
    there as `<name><random>`, then waits for the live connection."""
    await page.goto("/h5/chat.html")
    await tid(page, "h5-username").fill(f"{name}{uuid.uuid4().hex[:8]}")
    await tid(page, "h5-password").fill("correct horse 42")
    await tid(page, "h5-register").click()
    await expect(tid(page, "h5-chat")).to_be_visible()
    await connected(page)
