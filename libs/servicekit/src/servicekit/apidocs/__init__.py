"""API docs served by every service from local files: Swagger UI under ``<prefix>/docs`` and the OpenAPI
document under ``<prefix>/openapi.json``, where ``<prefix>`` is the service's path at the edge
(``/api/v4/auth``), so both are reachable through it.

No CDN (the edge's Content-Security-Policy allows ``'self'`` only, and CDNs are unreliable in mainland China):
Swagger UI's files come from the ``fastapi-offline`` package (pinned in uv.lock), and the page starts it with
``init.js`` from this folder instead of FastAPI's inline script. Swagger UI's stylesheet draws a few icons from
``data:`` URLs, which the policy's ``img-src 'self'`` refuses: they are served as files of their own
(``<prefix>/docs/img/<n>``) and the stylesheet points there.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import unquote

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
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
<link rel="stylesheet" href="{docs}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{docs}/assets/swagger-ui-bundle.js"></script>
<script src="{docs}/init.js"></script>
</body>
</html>
"""

_DATA_URL = re.compile(r"""url\((["']?)data:([^;,]+)((?:;[^;,]+)*),(.*?)\1\)""")


@cache
def stylesheet() -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """Swagger UI's CSS with each ``data:`` image replaced by ``img/<n>``, and those images (media type, bytes)."""
    images: list[tuple[str, bytes]] = []

    def extract(match: re.Match[str]) -> str:
        media_type, params, payload = match.group(2), match.group(3), match.group(4)
        if ";base64" in params:
            data = base64.b64decode(payload)
        else:  # a CSS string: backslash-newlines and escaped quotes, then percent-encoding
            data = unquote(payload.replace('\\"', '"').replace("\\'", "'")).encode()
        images.append((media_type, data))
        return f'url("img/{len(images) - 1}")'

    css = _DATA_URL.sub(extract, (SWAGGER_UI / "swagger-ui.css").read_text())
    return css, tuple(images)


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

    @router.get(f"{docs}/swagger-ui.css")
    async def docs_css() -> Response:
        return Response(stylesheet()[0], media_type="text/css")

    @router.get(docs + "/img/{number}")
    async def docs_image(number: int) -> Response:
        images = stylesheet()[1]
        if not 0 <= number < len(images):
            return Response(status_code=404)
        media_type, data = images[number]
        return Response(data, media_type=media_type)

    @router.get(f"{docs}/init.js")
    async def docs_init() -> FileResponse:
        return FileResponse(INIT_JS, media_type="text/javascript")

    app.include_router(router)
    app.mount(f"{docs}/assets", StaticFiles(directory=SWAGGER_UI), name=f"{app.title}-docs-assets")

