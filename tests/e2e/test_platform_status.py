"""Issue 19 in the browser (zh-CN): a platform service that stops answering is shown as a banner in the agents'
consoles, also in one opened during the outage, and the banner turns to "back" once it recovers (the gateway's
`system:status_change` from the services' heartbeats); the system notices and reports links are a supervisor's.

notification-svc is frozen (SIGSTOP) rather than stopped: the stack is shared, and it resumes where it was.
The stack's default thresholds apply (heartbeat TTL 6 s + 10 s to report, 15 s to recover)."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import GATEWAY, Pages
from tests.e2e.helpers import admin_login, tid
from tests.integration.stack import Stack

SERVICE = "notification-svc"


async def test_a_frozen_service_shows_as_a_banner_in_every_console_and_turns_to_back_when_it_recovers(
    pages: Pages, stack: Stack
) -> None:
    # every service operational first (the gateway gives the services a startup grace, then reports silent ones)
    async with httpx.AsyncClient(base_url=stack.url(GATEWAY), timeout=5) as http, asyncio.timeout(90):
        while set((await http.get("/health")).json()["services"].values()) != {"operational"}:
            await asyncio.sleep(0.5)
    agent = await admin_login(pages, "admin2", "/admin/customer-service.html")
    await expect(tid(agent, "system-banner")).to_have_count(0)
    process = stack[SERVICE].process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    try:
        banner = tid(agent, "system-banner").filter(has_text=f"平台服务 {SERVICE}")
        await expect(banner).to_contain_text(f"{SERVICE}：性能下降", timeout=45_000)
        await expect(banner).to_have_attribute("data-level", "warning")
        late = await admin_login(pages, "admin3", "/admin/customer-service.html")  # opened during the outage
        await expect(tid(late, "system-banner").filter(has_text=f"平台服务 {SERVICE} 暂时不可用")).to_be_visible()
    finally:
        os.kill(process.pid, signal.SIGCONT)
    await expect(banner).to_contain_text(f"平台服务 {SERVICE} 已恢复", timeout=60_000)
    await expect(banner).to_have_attribute("data-level", "info")
    await pages.screenshot(late, "agent-service-status-banner")
    assert not pages.problems, pages.problems


async def test_only_a_supervisor_sees_the_system_notices_and_reports_links(pages: Pages) -> None:
    agent = await admin_login(pages, "admin2", "/admin/notifications.html")
    supervisor = await admin_login(pages, "admin1", "/admin/notifications.html")
    for href in ("/admin/system.html", "/admin/reports.html"):
        await expect(agent.locator(f'nav a[href="{href}"]')).to_be_hidden()
        await expect(supervisor.locator(f'nav a[href="{href}"]')).to_be_visible()
    await expect(agent.locator('nav a[href="/admin/customer-service.html"]')).to_be_visible()
    assert not pages.problems, pages.problems
