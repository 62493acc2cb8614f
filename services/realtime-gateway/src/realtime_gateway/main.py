"""Builds the gateway: a python-socketio `AsyncServer` attached to an aiohttp app at `/socket.io`.

Start: `python -m realtime_gateway --host 127.0.0.1 --port 8010`. Nothing connects at import time.
"""

from typing import Any

import socketio
from aiohttp import web
from servicekit.logging import configure_logging

from realtime_gateway.settings import Settings

SERVICE_NAME = "realtime-gateway"
SIO_KEY = web.AppKey("sio", socketio.AsyncServer)
SETTINGS_KEY = web.AppKey("settings", Settings)


def create_sio(settings: Settings) -> socketio.AsyncServer:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=settings.cors_allowed_origins)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        # Token verification (servicekit.jwt.JwksVerifier against settings.jwks_url) arrives with the gateway
        # issue. Until then nobody can be authenticated, so every connection is refused rather than accepted
        # as if it were.
        raise socketio.exceptions.ConnectionRefusedError("unauthorized", {"code": "token_missing"})

    return sio


def connected_sockets(sio: socketio.AsyncServer, namespace: str = "/") -> int:
    """Sockets that passed the connect handler and have not disconnected, as python-socketio's manager
    records them (connections still in the connect handler or being refused are not counted)."""
    manager = sio.manager
    return sum(1 for sid, _ in manager.get_participants(namespace, None) if manager.is_connected(sid, namespace))


async def health(request: web.Request) -> web.Response:
    sio = request.app[SIO_KEY]
    return web.json_response(
        {"status": "ok", "service": SERVICE_NAME, "websocket": {"connected_sockets": connected_sockets(sio)}}
    )


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    configure_logging(SERVICE_NAME, settings.log_level)
    app = web.Application()
    app[SETTINGS_KEY] = settings
    sio = create_sio(settings)
    sio.attach(app, socketio_path="/socket.io")
    app[SIO_KEY] = sio
    app.router.add_get("/health", health)
    return app
