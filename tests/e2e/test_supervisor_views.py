"""Issue 19 in the browser (zh-CN): a user's rating after their chat closes shows in the supervisor's report
(numbers from chat-svc, charts from the locally served Chart.js), and a maintenance notice scheduled from the
supervisor's form shows as a banner for an agent and on the H5 page."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import (
    admin_login,
    connected,
    register_on_h5,
    session_item,
    tid,
    user_id_of,
    user_login,
)


async def test_a_rating_after_close_appears_in_the_supervisors_report(pages: Pages) -> None:
    supervisor = await admin_login(pages, "admin1", "/admin/customer-service.html")  # admin1 is a supervisor
    supervisor_id = await supervisor.evaluate(
        "() => JSON.parse(localStorage.getItem('platform.admin.session')).user.user_id")
    user = await pages.new_page(await pages.context(mobile=True))
    await register_on_h5(user, "rater")
    user_id = await user_id_of(user)

    await tid(user, "composer-input").fill("我的快递到哪了？")
    await tid(user, "composer-send").click()
    await session_item(supervisor, user_id).click()
    await tid(supervisor, "composer-input").fill("已经在派送中了")
    await tid(supervisor, "composer-send").click()
    await expect(tid(user, "message-text").filter(has_text="已经在派送中了")).to_be_visible()

    await expect(tid(user, "rating-panel")).to_be_hidden()  # no prompt while the chat is open
    await tid(user, "end-session").click()
    await expect(tid(user, "rating-form")).to_contain_text("请为本次服务评分")
    await tid(user, "rating-star-4").click()
    await tid(user, "rating-comment").fill("很快，谢谢")
    await tid(user, "rating-submit").click()
    await expect(tid(user, "rating-done")).to_contain_text("感谢您的评价：4 星")
    await expect(tid(user, "rating-edit")).to_have_text("修改评价")

    await supervisor.goto("/admin/reports.html")
    await connected(supervisor)
    row = supervisor.locator(f'[data-testid="report-row"][data-agent="{supervisor_id}"]')
    # admin1 is shared by the other browser tests of the stack: this rating is one of its day's, maybe not the only
    await expect(row.locator('[data-field="satisfaction"]')).to_have_text(re.compile(r"^\d\.\d\d（[1-9]\d* 条）$"))
    await expect(row.locator('[data-field="closed"]')).to_have_text(re.compile(r"^[1-9]\d*$"))
    await expect(tid(supervisor, "report-row").first).to_have_attribute("data-agent", "total")
    assert await supervisor.evaluate("() => typeof Chart") == "function"  # served at /vendor/chart.js/ under the CSP
    await expect(tid(supervisor, "chart-agents")).to_be_visible()
    await pages.screenshot(user, "user-rated")
    await pages.screenshot(supervisor, "supervisor-report")
    assert not pages.problems, pages.problems


async def test_a_maintenance_notice_scheduled_from_the_form_shows_for_an_agent_and_on_the_h5_page(pages: Pages) -> None:
    supervisor = await admin_login(pages, "admin1", "/admin/system.html")
    agent = await admin_login(pages, "admin2", "/admin/customer-service.html")
    user = await user_login(pages, "user3")
    await expect(tid(supervisor, "supervisors-only")).to_be_hidden()

    title = f"数据库升级 {uuid.uuid4().hex[:6]}"
    await tid(supervisor, "maintenance-title").fill(title)
    await tid(supervisor, "maintenance-message").fill("期间聊天记录只读")
    await tid(supervisor, "maintenance-starts").fill("2030-01-01T22:00")
    await tid(supervisor, "maintenance-ends").fill("2030-01-01T23:30")
    await expect(tid(supervisor, "maintenance-audience")).to_have_value("all")
    await tid(supervisor, "maintenance-submit").click()
    await expect(tid(supervisor, "maintenance-result")).to_contain_text(f"已安排维护「{title}」")

    for page in (agent, user, supervisor):
        banner = tid(page, "system-banner").filter(has_text=title)
        await expect(banner).to_contain_text("维护：")
        await expect(banner).to_contain_text("期间聊天记录只读")

    # An agent on the same form is told it is for supervisors; the service refuses them anyway (403).
    await agent.goto("/admin/system.html")
    await connected(agent)
    await expect(tid(agent, "supervisors-only")).to_have_text("只有主管可以发布告警和安排维护。")
    await tid(agent, "alert-title").fill("不该发出")
    await tid(agent, "alert-message").fill("x")
    await tid(agent, "alert-submit").click()
    await expect(tid(agent, "alert-error")).to_have_text("只有主管可以执行此操作。")
    await pages.screenshot(supervisor, "supervisor-system-notices")
    await pages.screenshot(user, "user-maintenance-banner")
    assert not pages.problems, pages.problems
