"""The notification inbox in the browser (zh-CN): the unread badge is the server's number in every tab of an
admin, on the notifications page and in the customer-service page's header, and archiving moves a notification
out of the inbox into the archive view."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, connected, open_admin_tab, tid


async def test_archiving_in_one_tab_moves_the_badge_of_every_tab_of_that_admin_and_fills_the_archive(
    pages: Pages,
) -> None:
    context = await pages.context()
    inbox = await admin_login(pages, "admin1", "/admin/notifications.html", context=context)
    desk = await open_admin_tab(pages, context, "/admin/customer-service.html")
    sender = await admin_login(pages, "admin2", "/admin/notifications.html")
    for page in (inbox, desk):
        await connected(page)
    await expect(tid(inbox, "notification-list")).to_have_attribute("aria-busy", "false")
    before = int(await tid(inbox, "unread-badge").get_attribute("data-count"))
    await expect(tid(desk, "unread-badge")).to_have_attribute("data-count", str(before))

    title = f"归档测试 {uuid.uuid4().hex[:6]}"
    await tid(sender, "send-title").fill(title)
    await tid(sender, "send-content").fill("请处理后归档。")
    await tid(sender, "send-submit").click()
    for page in (inbox, desk):
        await expect(tid(page, "unread-badge")).to_have_attribute("data-count", str(before + 1))

    item = tid(inbox, "notification-item").filter(has_text=title)
    await item.locator('[data-testid="archive"]').click()
    await expect(item).to_have_count(0)
    for page in (inbox, desk):  # archiving marks read: the server's number drops in both tabs
        await expect(tid(page, "unread-badge")).to_have_attribute("data-count", str(before))

    await tid(inbox, "filter-archived").check()
    archived = tid(inbox, "notification-item").filter(has_text=title)
    await expect(archived).to_have_attribute("data-read", "true")
    await expect(archived.locator('[data-testid="unarchive"]')).to_have_text("移回收件箱")
    await pages.screenshot(inbox, "admin1-archive")
    assert not pages.problems, pages.problems
