"""servicekit.apidocs: Swagger UI from local files, under the edge's CSP (scripts and images from 'self' only)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from servicekit.apidocs import install_docs


def _app() -> FastAPI:
    app = FastAPI(title="demo", docs_url=None, redoc_url=None)
    install_docs(app, "/api/v4/demo")
    return app


async def test_the_docs_page_has_no_inline_script_and_every_asset_it_names_is_served() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        page = (await client.get("/api/v4/demo/docs")).text
        assert "<script>" not in page and "data-openapi-url=\"/api/v4/demo/openapi.json\"" in page
        for asset in ("/api/v4/demo/docs/swagger-ui.css", "/api/v4/demo/docs/assets/swagger-ui-bundle.js",
                      "/api/v4/demo/docs/init.js", "/api/v4/demo/docs/assets/favicon.png",
                      "/api/v4/demo/openapi.json"):
            assert f'"{asset}"' in page, asset
            assert (await client.get(asset)).status_code == 200, asset


async def test_the_stylesheet_has_no_data_urls_and_its_icons_are_served_as_files() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        css = (await client.get("/api/v4/demo/docs/swagger-ui.css")).text
        assert "data:" not in css and 'url("img/0")' in css
        icon = await client.get("/api/v4/demo/docs/img/0")
        missing = await client.get("/api/v4/demo/docs/img/999")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/")
    assert missing.status_code == 404
