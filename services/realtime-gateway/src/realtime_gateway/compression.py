"""WebSocket permessage-deflate as a setting.

python-engineio 4.15 has no option for it: its aiohttp driver builds `WebSocketResponse()` with aiohttp's
default `compress=True`, so deflate is negotiated whenever a client offers it (browsers and Node do), at a
zlib pass per recipient and ~4x memory per socket. We give this server (only: the driver table is shared
module state, so it is copied, not mutated) a driver that passes our choice.
"""

import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers.aiohttp import WebSocket


def set_websocket_compression(sio: socketio.AsyncServer, enabled: bool) -> None:
    class ConfiguredWebSocket(WebSocket):  # type: ignore[misc]
        async def __call__(self, environ):  # type: ignore[no-untyped-def]
            request = environ["aiohttp.request"]
            self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=enabled)
            await self._sock.prepare(request)
            self.environ = environ
            await self.handler(self)
            return self._sock

    sio.eio._async = {**sio.eio._async, "websocket": ConfiguredWebSocket}
