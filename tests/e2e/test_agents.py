"""Issue 17 in the browser: an agent switches to away in the console header and a new session goes to the other
agent; the supervisor's console shows it live.

admin1-3 are shared with the other browser tests: every availability changed here is set back to online at the
end, and the session opened here is closed."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, register_on_h5, session_item, tid, user_id_of

CONSOLE = "/admin/customer-service.html"


async def register_user(pages: Pages):
    """A fresh end user, registered on the H5 page (no other test knows them)."""
    page = await pages.new_page(await pages.context(mobile=True))
    await register_on_h5(page, "e2e-")
    return page


async def set_availability(page, value: str) -> None:
    select = tid(page, "availability")
    await select.select_option(value)
    await expect(select).to_have_attribute("data-availability", value)


async def test_an_agent_switches_to_away_and_a_new_session_goes_to_the_other_agent(pages: Pages) -> None:
    supervisor = await admin_login(pages, "admin1", CONSOLE)
    away_agent = await admin_login(pages, "admin2", CONSOLE)
    other_agent = await admin_login(pages, "admin3", CONSOLE)
    changed = []
    try:
        await expect(tid(supervisor, "agents-panel")).to_be_visible()  # admin1 is the seeded supervisor
        await expect(tid(away_agent, "agents-panel")).to_be_hidden()
        await set_availability(supervisor, "busy")  # the supervisor watches, takes no session
        changed.append(supervisor)
        admin2_id = await away_agent.evaluate(
            "() => JSON.parse(localStorage.getItem('platform.admin.session')).user.user_id")

        await set_availability(away_agent, "away")
        changed.append(away_agent)
        row = supervisor.locator(f'[data-testid="agent-row"][data-admin-id="{admin2_id}"]')
        await expect(row).to_have_attribute("data-status", "away")  # live, through chat:agent_update
        await expect(row.locator('[data-testid="agent-status"]')).to_have_text("离开")

        user = await register_user(pages)
        user_id = await user_id_of(user)
        await tid(user, "composer-input").fill("你好，请问有人在吗？")
        await tid(user, "composer-send").click()
        await expect(tid(other_agent, "toast").filter(has_text=f"用户 #{user_id} 的会话").filter(has_text="已分配给您")) \
            .to_be_visible()
        await expect(session_item(other_agent, user_id)).to_have_count(1)
        await expect(tid(user, "session-status")).to_have_attribute("data-status", "active")
        await expect(tid(away_agent, "toast").filter(has_text=f"用户 #{user_id}")).to_have_count(0)
        await expect(session_item(away_agent, user_id)).to_have_count(0)

        await pages.screenshot(supervisor, "admin1-agents-panel")
        await session_item(other_agent, user_id).click()
        await tid(other_agent, "conv-close").click()
        await expect(tid(other_agent, "conv-closed")).to_be_visible()
    finally:
        for page in changed:
            await set_availability(page, "online")
    assert not pages.problems, pages.problems
