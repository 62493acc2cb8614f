"""API docs served by every service from local files: Swagger UI under ``<prefix>/docs`` and the OpenAPI
document under ``<prefix>/openapi.json``, where ``<prefix>`` is the service's path at the edge
(``/api/v4/auth``), so both are reachable through it.

No CDN (the edge's Content-Security-Policy allows ``'self'`` only, and CDNs are unreliable in mainland China):
Swagger UI's files come from the ``fastapi-offline`` package (pinned in uv.lock), and the page starts it with
``init.js`` from this folder instead of FastAPI's inline script.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"
"""swagger-ui-bundle.js, swagger-ui.css, favicon.png"""
INIT_JS = Path(__file__).parent / "init.js"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="{docs}/assets/favicon.png">
<link rel="stylesheet" href="{docs}/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{docs}/assets/swagger-ui-bundle.js"></script>
<script src="{docs}/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, prefix: str) -> None:
    """``GET <prefix>/docs``, ``<prefix>/docs/init.js``, ``<prefix>/docs/assets/*`` and ``<prefix>/openapi.json``.
    Call before the service's routers: ``<prefix>/{id}`` routes would otherwise take these paths."""
    docs, openapi = f"{prefix}/docs", f"{prefix}/openapi.json"
    router = APIRouter(include_in_schema=False)
    page = _PAGE.format(title=escape(f"{app.title} API"), docs=escape(docs), openapi=escape(openapi))

    @router.get(openapi)
    async def openapi_document(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @router.get(docs)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get(f"{docs}/init.js")
    async def docs_init() -> FileResponse:
        return FileResponse(INIT_JS, media_type="text/javascript")

    app.include_router(router)
    app.mount(f"{docs}/assets", StaticFiles(directory=SWAGGER_UI), name=f"{app.title}-docs-assets")

