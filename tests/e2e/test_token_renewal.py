"""Issue 14 (finding 9) in the browser: access tokens are short, so the pages renew theirs silently with the
refresh token (after a refusal, once; and ahead of expiry), and make their socket again with the new one;
logging out ends the refresh token at the server."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, connected, tid

KEY = "platform.admin.session"


async def stored(page: Page) -> dict:
    return await page.evaluate("(k) => JSON.parse(localStorage.getItem(k))", KEY)


async def test_pages_renew_their_token_silently_and_the_socket_reconnects_with_the_new_one(
    pages: Pages, base_url: str
) -> None:
    admin = await admin_login(pages, "admin3", "/admin/notifications.html")
    first = await stored(admin)
    assert first["refreshToken"] and first["refreshExpiresAt"] > first["expiresAt"]

    # A token every server refuses (as an expired one would be), though the page thinks it still valid: the
    # REST call's 401 and the socket's refusal each renew once (one refresh between them), and the page goes on.
    await admin.evaluate("([k, t]) => { const s = JSON.parse(localStorage.getItem(k)); s.token = t; "
                         "localStorage.setItem(k, JSON.stringify(s)); }", [KEY, "bad" + first["token"][3:]])
    await admin.reload()
    await connected(admin)
    await expect(tid(admin, "list-error")).to_have_text("")
    assert admin.url.endswith("/admin/notifications.html")
    second = await stored(admin)
    assert second["token"] != first["token"] and second["refreshToken"] != first["refreshToken"]

    # A token about to expire: renewed ahead of time, and the socket is made again with the new token.
    await admin.evaluate("""(k) => {
      window.__states = [];
      const pill = document.querySelector('[data-testid="conn-status"]');
      new MutationObserver(() => window.__states.push(pill.dataset.state))
        .observe(pill, { attributes: true, attributeFilter: ["data-state"] });
      const s = JSON.parse(localStorage.getItem(k));
      s.expiresAt = Date.now() + 8000;
      localStorage.setItem(k, JSON.stringify(s));
      window.dispatchEvent(new StorageEvent("storage", { key: k }));  // as if another tab had written it
    }""", KEY)
    await admin.wait_for_function("([k, t]) => JSON.parse(localStorage.getItem(k)).token !== t",
                                  arg=[KEY, second["token"]], timeout=15_000)
    await admin.wait_for_function("() => window.__states.includes('connecting')", timeout=15_000)
    await connected(admin)
    assert admin.url.endswith("/admin/notifications.html")
    third = await stored(admin)
    assert third["refreshToken"] != second["refreshToken"]
    await pages.screenshot(admin, "renewed")

    # Logging out ends the login at the server: its refresh token no longer works.
    await tid(admin, "logout").click()
    await admin.wait_for_url("**/admin/login.html?**")
    async with httpx.AsyncClient(base_url=base_url) as http:
        refused = await http.post("/api/v4/auth/refresh", json={"refresh_token": third["refreshToken"]})
    assert refused.status_code == 401
    assert not pages.problems, pages.problems
