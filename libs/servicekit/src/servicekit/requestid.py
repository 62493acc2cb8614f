"""`X-Request-ID` on every HTTP request: taken from the caller (the edge makes one when the client sent none),
or made here; bound in the log context for the whole request (so every log line of it, and every event it puts
in the outbox, carries it) and echoed in the response.

    install_request_id(app)      # outermost middleware: even the error handlers' lines carry the id
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servicekit.logcontext import bind, new_request_id, valid_request_id

if TYPE_CHECKING:  # types only: the gateway (aiohttp, no Starlette) imports this module for `echo_request_id`
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_HEADER = HEADER.lower().encode()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope.get("headers", ()) if k == _HEADER), b"").decode("latin-1")
        request_id = valid_request_id(sent) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                message = {**message, "headers": [*headers, (_HEADER, encoded)]}
            await send(message)

        with bind(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def install_request_id(app: Any) -> None:
    """Add the middleware to a Starlette/FastAPI app (call it last: the last middleware added runs first)."""
    app.add_middleware(RequestIdMiddleware)


async def echo_request_id(request: Any, response: Any) -> None:
    """aiohttp `on_response_prepare` hook (the gateway): every response, a WebSocket upgrade included, carries the
    caller's valid `X-Request-ID` or a new one. Nothing is bound for the log: a WebSocket's handler task lives as
    long as the socket, and every event on it would carry the handshake's id (commands get their own instead)."""
    if HEADER not in response.headers:
        response.headers[HEADER] = valid_request_id(request.headers.get(HEADER)) or new_request_id()
