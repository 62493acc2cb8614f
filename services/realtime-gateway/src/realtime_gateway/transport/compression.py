"""Our aiohttp websocket driver for engine.io: WebSocket permessage-deflate as a setting, the fan-out hook, and
a close path that costs nothing when the peer is already gone.

python-engineio 4.15 has no option for compression: its aiohttp driver builds `WebSocketResponse()` with
aiohttp's default `compress=True`, so deflate is negotiated whenever a client offers it (browsers and Node do),
at a zlib pass per recipient and ~4x memory per socket. We give this server (only: the driver table is shared
module state, so it is copied, not mutated) a driver that passes our choice. While engine.io's websocket handler
runs, the socket's transport is registered for direct writes (`on_open(handler, request, compressed)` returns a
token that `on_close(token)` takes back: `fanout.FanOutManager.websocket_opened` / `websocket_closed`).

The driver contract engine.io relies on (`wait()` returns the next message, or None when the connection is
closed; `send()`; `close()`) is kept, but each call is the cheap one. In a disconnect storm every socket goes
through `wait()` and `close()` once, so what they cost is paid thousands of times in a row:
- `wait()` returns None when aiohttp reports the connection closed (CLOSE, CLOSING, CLOSED, ERROR), which
  engine.io's loop treats exactly like the OSError the stock driver raises (both end the loop), without raising
  an exception through engine.io's per-message task and `wait_for`.
- `close()` does nothing once aiohttp has closed the response (after a peer's EOF it already has).
- The response itself (`PeerAwareResponse`) skips aiohttp's close frame when the TCP connection is already
  gone: aiohttp would build the frame, raise ClientConnectionResetError ("Cannot write to closing transport")
  from its writer and catch it again, once per dropped socket (3-12% of a storm's instructions).
- `send()` awaits aiohttp's coroutine directly instead of asking `inspect` on every packet whether it is one.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.web import WebSocketResponse
from engineio.async_drivers.aiohttp import WebSocket

from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.connection_environ import release_request_environ
from realtime_gateway.transport.detached_websocket import adopt, take_over
from realtime_gateway.transport.fast_handshake import FAST_HANDSHAKE, FastHandshake
from realtime_gateway.transport.protocol_guard import (
    BINARY,
    ENGINEIO_TYPES,
    REFUSE_CLOSE_SECONDS,
    ProtocolGuard,
    screen_engineio_text,
)
from realtime_gateway.transport.send_queue import SendQueue
from realtime_gateway.transport.websocket_session import serve_websocket

OnOpen = Callable[[Any, Any, bool], Any]
"""`on_open(engine.io handler, aiohttp request, compressed) -> token` (None: nothing to undo)."""
OnClose = Callable[[Any], None]
"""`on_close(token)`, called once the handler has returned (or raised)."""


class PeerAwareResponse(WebSocketResponse):
    """aiohttp's WebSocketResponse whose `close()` is cheap when the peer's TCP connection is already lost.

    aiohttp closes the response itself when its reader fails or ends (the peer reset or half-closed the
    connection): it marks it closed, tries to send a close frame, gets ClientConnectionResetError from the
    writer because the transport is gone (or closing), stores it and reports close code 1006. Here the same end
    state (closed, code 1006 ABNORMAL_CLOSURE, the parser released) is reached without the attempt. Relies on
    aiohttp internals (`_closed`, `_set_closed`, `_req`, `_close_code`, `_parser`; pinned `==3.14.*`);
    `tests/unit/test_library_internals.py` checks them against the installed aiohttp."""

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True) -> bool:
        request = self._req
        transport = None if request is None else request.transport
        if not self._closed and self._writer is not None and (transport is None or transport.is_closing()):
            self._set_closed()
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._parser = None
            return True
        return await super().close(code=code, message=message, drain=drain)


# misc: python-engineio ships no types, so its WebSocket is Any to mypy (subclassing Any); our methods stay typed.
class GatewayWebSocket(WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp `WebSocket` with our compression choice, the fan-out hook and cheap close paths.

    `compress`, `on_open` and `on_close` are class attributes set by `set_websocket_compression` on a subclass
    made for one server."""

    compress: bool = False
    on_open: OnOpen | None = None
    on_close: OnClose | None = None
    lean: bool = False
    """Sockets that open directly on websocket are served by `websocket_session.serve_websocket` (one task, pushed
    writes, pings from the server's `PingWheel`) instead of engine.io's stock handler."""
    buffer_limit: int = 64 * 1024
    """Lean sessions: above this many unsent bytes in the transport, packets queue (aiohttp's backpressure)."""
    detached: bool = False
    """Lean sessions without deflate are taken over after the handshake (`detached_websocket.take_over`): no task
    and no coroutine per open socket."""
    guard: ProtocolGuard | None = None
    """Refuses binary frames and unknown Engine.IO packet types (`transport/protocol_guard.py`); set per server."""
    _eio_socket: Any = None
    _transport: Any = None

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse | None:
        fast = environ.get(FAST_HANDSHAKE)
        if fast is not None:
            self._adopt(fast, environ)
            return None
        request = environ["aiohttp.request"]
        self._sock = sock = PeerAwareResponse(max_msg_size=self.server.max_http_buffer_size, compress=self.compress)
        await sock.prepare(request)
        self._transport = request.transport
        self.environ = environ
        on_open, on_close = type(self).on_open, type(self).on_close
        token = on_open(self.handler, request, bool(sock.compress)) if on_open is not None else None
        # engine.io gives its driver the bound `AsyncSocket._websocket_handler`: its socket tells us the sid and
        # whether engine.io has closed the session (a client's CLOSE packet).
        self._eio_socket = getattr(self.handler, "__self__", None)
        sid = getattr(self._eio_socket, "sid", None)
        guard = type(self).guard
        if guard is not None and sid is not None:
            guard.websockets[sid] = self
            self.environ = _connection_environ(guard, sid, environ)
        try:
            eio_socket = self._eio_socket
            if (
                type(self).lean and eio_socket is not None and not eio_socket.connected
                and isinstance(eio_socket.queue, SendQueue) and request.transport is not None
            ):
                if type(self).detached and not sock.compress:
                    take_over(request, sock, eio_socket, guard=guard, environ=self.environ,
                              buffer_limit=type(self).buffer_limit, route=token, on_end=on_close)
                    token = None  # the detached websocket gives it back when its connection ends
                    if guard is not None and sid is not None:
                        sid = None  # it is registered with the guard under its sid until then
                    return sock
                await serve_websocket(eio_socket, self, request.transport, bool(sock.compress), type(self).buffer_limit)
            else:
                await self.handler(self)
        finally:
            if token is not None and on_close is not None:
                on_close(token)
            if guard is not None and sid is not None and guard.websockets.get(sid) is self:
                del guard.websockets[sid]
        return sock

    def _adopt(self, fast: FastHandshake, environ: dict[str, Any]) -> None:
        """A handshake served without aiohttp (`transport/fast_handshake.py`): the 101, then the transport is a
        `DetachedWebSocket`'s, as `take_over` leaves a lean uncompressed socket; bytes the client sent after its
        request head are its first frames."""
        eio_socket = getattr(self.handler, "__self__", None)
        cls = type(self)
        if not (cls.lean and cls.detached and eio_socket is not None and not eio_socket.connected
                and isinstance(eio_socket.queue, SendQueue)):
            raise RuntimeError("a fast handshake needs lean, detached websocket sessions")
        transport = fast.transport
        fast.write_101()
        on_open, on_close = cls.on_open, cls.on_close
        token = on_open(self.handler, fast, False) if on_open is not None else None
        guard = cls.guard
        kept = _connection_environ(guard, eio_socket.sid, environ) if guard is not None else environ
        ws = adopt(transport, eio_socket, guard=guard, environ=kept, buffer_limit=cls.buffer_limit, route=token,
                   on_end=on_close)
        rest = fast.rest()
        if fast.protocol.lost:
            ws.connection_lost(None)
        elif rest:
            ws.data_received(rest)

    async def wait(self) -> str | bytes | None:
        eio_socket = self._eio_socket
        if eio_socket is not None and eio_socket.closed:
            return None  # engine.io closed the session (the client's CLOSE packet): end its loop now
        msg = await self._sock.receive()
        if msg.type is WSMsgType.TEXT:
            data: str = msg.data
            if data[:1] in ENGINEIO_TYPES:
                return data
            violation = screen_engineio_text(data)
        elif msg.type is WSMsgType.BINARY:
            violation = BINARY  # no client event of ours carries binary: refused before engine.io reads it
        else:
            return None
        guard = type(self).guard
        if guard is not None and violation is not None:
            await guard.refuse(eio_socket.sid if eio_socket is not None else "", violation, self.environ,
                               msg.data if msg.type is WSMsgType.TEXT else None)
            return None
        return msg.data

    async def refuse(self, code: int, reason: str) -> None:
        """Close with `code` and `reason`; the TCP connection is closed after `REFUSE_CLOSE_SECONDS` even if the
        peer never answers the close frame."""
        if self._sock.closed:
            return
        self._flush_kept()
        try:
            async with asyncio.timeout(REFUSE_CLOSE_SECONDS):
                await self._sock.close(code=code, message=reason.encode()[:123])
        except TimeoutError:
            pass  # aiohttp closed the transport when the wait was cancelled

    async def send(self, message: str | bytes) -> None:
        self._flush_kept()
        if isinstance(message, bytes):
            await self._sock.send_bytes(message)
        else:
            await self._sock.send_str(message)

    async def close(self) -> None:
        if not self._sock.closed:
            self._flush_kept()
            await self._sock.close()

    def _flush_kept(self) -> None:
        """Frames kept for this socket's transport this turn (transport/coalesced_writes.py) go before ours."""
        transport = self._transport
        if transport is not None:
            WRITES.flush(transport)


def _connection_environ(guard: ProtocolGuard, sid: str, environ: dict[str, Any]) -> dict[str, Any]:
    """The environ a websocket keeps once upgraded: the connection's {REMOTE_ADDR} the guard holds
    (transport/connection_environ.py), the request's own being emptied (engine.io reads nothing from it once the
    upgrade is done); the request's own if the guard holds none."""
    kept = guard.environ_of(sid)
    if kept is None or kept is environ:
        return environ
    release_request_environ(environ)
    return kept


def set_websocket_compression(
    sio: socketio.AsyncServer, enabled: bool, on_open: OnOpen | None = None, on_close: OnClose | None = None,
    guard: ProtocolGuard | None = None, lean: bool = False, buffer_limit: int = 64 * 1024, detached: bool = False,
) -> None:
    """Give `sio`'s engine.io server our websocket driver: permessage-deflate negotiated only if `enabled`,
    `on_open` / `on_close` around each websocket's handler, `guard` refusing binary / garbage frames, and (`lean`)
    direct websocket sockets served by `websocket_session.serve_websocket`, or (`detached`, without deflate) taken
    over after the handshake (`detached_websocket`)."""
    driver = type("ConfiguredWebSocket", (GatewayWebSocket,), {
        "compress": enabled, "on_open": staticmethod(on_open) if on_open else None,
        "on_close": staticmethod(on_close) if on_close else None, "guard": guard, "lean": lean,
        "buffer_limit": buffer_limit, "detached": lean and detached,
    })
    sio.eio._async = {**sio.eio._async, "websocket": driver}
