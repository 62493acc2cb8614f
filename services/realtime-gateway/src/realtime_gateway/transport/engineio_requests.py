"""Engine.IO v4 HTTP rules python-engineio does not apply itself (checked with the Socket.IO maintainers'
protocol test suite, `socketio/socket.io-protocol/test-suite`):

- a request to `/socket.io/` without a `transport` query (engine.io assumes polling) or with an unknown one: 400;
- a method other than GET / POST / OPTIONS: 400 (aiohttp's router would say 405);
- a second WebSocket for a session that is already upgraded (or upgrading): the WebSocket is opened and closed
  at once (1008), as Node's engine.io does, instead of a 400 to the upgrade request.

Errors use the services' shape `{"error": {"code", "message", "details"}}`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, web

TRANSPORTS = ("polling", "websocket")
METHODS = ("GET", "POST", "OPTIONS")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _bad_request(code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "details": {}}}, status=400)


def engineio_request_rules(sio: Any, path: str = "/socket.io") -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    """A gate (`transport/request_gates.py`) applying the rules above to `path` (engine.io's sessions:
    `sio.eio.sockets`): the answer for a request that breaks them, else None."""

    async def gate(request: web.Request) -> web.StreamResponse | None:
        if request.path.rstrip("/") != path:
            return None
        if request.method not in METHODS:
            return _bad_request("bad_method", f"{request.method} is not an Engine.IO method")
        if request.method == "OPTIONS":
            return None
        transport = request.query.get("transport")
        if transport not in TRANSPORTS:
            return _bad_request("bad_transport", "the transport query parameter must be polling or websocket")
        sid = request.query.get("sid")
        if sid is not None and transport == "websocket" and request.headers.get("Upgrade", "").lower() == "websocket":
            sock = sio.eio.sockets.get(sid)
            if sock is not None and (sock.upgraded or sock.upgrading):
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"session already upgraded")
                return ws
        return None

    return gate
