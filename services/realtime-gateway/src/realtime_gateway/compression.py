"""Our aiohttp websocket driver for engine.io: WebSocket permessage-deflate as a setting, and the fan-out hook.

python-engineio 4.15 has no option for compression: its aiohttp driver builds `WebSocketResponse()` with
aiohttp's default `compress=True`, so deflate is negotiated whenever a client offers it (browsers and Node do),
at a zlib pass per recipient and ~4x memory per socket. We give this server (only: the driver table is shared
module state, so it is copied, not mutated) a driver that passes our choice. While engine.io's websocket handler
runs, `on_open(handler, request, compressed)` (a context manager: `fanout.FanOutManager.websocket_opened`) may
register the socket's transport for direct writes.
"""

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers.aiohttp import WebSocket

OnOpen = Callable[[Any, Any, bool], AbstractContextManager[None]]


def set_websocket_compression(sio: socketio.AsyncServer, enabled: bool, on_open: OnOpen | None = None) -> None:
    class ConfiguredWebSocket(WebSocket):  # type: ignore[misc]
        async def __call__(self, environ):  # type: ignore[no-untyped-def]
            request = environ["aiohttp.request"]
            self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=enabled)
            await self._sock.prepare(request)
            self.environ = environ
            opened = on_open(self.handler, request, bool(self._sock.compress)) if on_open else contextlib.nullcontext()
            with opened:
                await self.handler(self)
            return self._sock

    sio.eio._async = {**sio.eio._async, "websocket": ConfiguredWebSocket}
