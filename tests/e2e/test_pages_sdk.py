"""Issue 18: the H5 and admin pages connect through the platform's client SDK (clients/sdk, its pages build), which
the edge serves from the pages' own origin (the CSP stays `script-src 'self'`). The vendor socket.io-client 4.7.2
is still served at /vendor/ (tests use it as the unmodified client), but no page loads it any more."""

from __future__ import annotations

from playwright.async_api import Page

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, connected, user_login

ADMIN_PAGES = ("/admin/notifications.html", "/admin/customer-service.html")


async def loaded_scripts(page: Page) -> list[str]:
    """The paths of every resource the page fetched (module scripts included), from the Resource Timing API."""
    return await page.evaluate(
        "() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)")


async def test_every_page_connects_through_the_sdk_from_its_own_origin_and_never_loads_the_vendor_client(
    pages: Pages,
) -> None:
    admin = await admin_login(pages, "admin2", ADMIN_PAGES[0])
    user = await user_login(pages, "user2")
    seen = {ADMIN_PAGES[0]: await loaded_scripts(admin), "/h5/chat.html": await loaded_scripts(user)}
    await admin.goto(ADMIN_PAGES[1])
    await connected(admin)
    seen[ADMIN_PAGES[1]] = await loaded_scripts(admin)
    for path, scripts in seen.items():
        assert "/sdk/index.js" in scripts, (path, scripts)
        assert not [s for s in scripts if s.startswith("/vendor/")], (path, scripts)
    assert not pages.problems, pages.problems  # no CSP refusal: the SDK comes from 'self'
