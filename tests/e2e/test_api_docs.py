"""Each service's API docs (Swagger UI from local files, servicekit.apidocs) load through the edge under its
Content-Security-Policy: no violation, no page error, the operations drawn, and the OpenAPI JSON reachable."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Pages

pytestmark = pytest.mark.integration

PREFIXES = ["/api/v4/auth", "/api/v4/notifications", "/api/v4/customer-service"]
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda prefix: prefix.rsplit("/", 1)[-1])
async def test_api_docs_load_through_the_edge_without_csp_violations(pages: Pages, prefix: str) -> None:
    context = await pages.context()
    page = await pages.new_page(context)
    await page.add_init_script(RECORD_VIOLATIONS)
    response = await page.goto(f"{prefix}/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]  # the edge's policy applies
    await page.locator(".swagger-ui .opblock").first.wait_for()  # the document was fetched and drawn
    await page.locator(".swagger-ui .opblock-summary").first.click()  # an operation open: its errors drawn
    await page.locator(".swagger-ui .responses-wrapper").first.wait_for()
    assert await page.evaluate("window.__cspViolations") == []
    assert pages.problems == []
    document = await context.request.get(f"{prefix}/openapi.json")
    assert document.ok and prefix in "".join((await document.json())["paths"])
    await pages.screenshot(page, prefix.rsplit("/", 1)[-1])
