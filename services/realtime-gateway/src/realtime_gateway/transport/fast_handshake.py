"""A socket that opens directly on websocket, served from the connection's first bytes without aiohttp.

What one connect cost through aiohttp (README cell 10, py-spy): its TCP accept (a RequestHandler and its task per
connection), HTTP parse and `Request` ~22%, Engine.IO's request (environ translation, the gates) ~10%, aiohttp's
websocket handshake and its 101 ~11%. A socket.io-client (and the bench) opens with
`GET /socket.io/?EIO=4&transport=websocket` + `Upgrade: websocket` and no `sid`; for that one request, here:

- `FirstRequest` is the connection's protocol until its first request head is complete (`\\r\\n\\r\\n`, at most
  `HEAD_LIMIT` bytes, else aiohttp's; a head split over several reads is buffered). Anything that does not start
  like the request above is handed to aiohttp at once with the bytes read so far (aiohttp's `RequestHandler` is
  created then, sees `connection_made` and those bytes, and serves the connection as it always did: polling,
  /health, /metrics, a websocket with a `sid`, an oversized head's 400, a connection that sends nothing and its
  idle timeout).
- `FastHandshakes.environ` parses the head with httptools (the parser uvicorn uses) and serves it only if it FULLY
  understands it and the slow path would accept it: GET, HTTP/1.1, path `/socket.io/`, query `EIO=4`,
  `transport=websocket`, no `sid` / `j`, one `Host`, `Upgrade: websocket`, `Connection` with `upgrade`,
  `Sec-WebSocket-Version: 13`, a `Sec-WebSocket-Key` of 16 bytes, no body, no sub-protocol offer, no
  permessage-deflate offer while `GATEWAY_WEBSOCKET_COMPRESSION` is on, an `Origin` engine.io would accept, not
  draining (`ops/drain.py`), the client address (`X-Forwarded-For` only from trusted proxies) under its cap
  (`clients/admission.py`). Anything else, refusals included, goes to aiohttp, whose gates and engine.io give the
  same answer as before (503, 429, 400, 403...): the fast path never answers an error itself.
- Admitted: engine.io's own `_handle_connect(environ, "websocket")` runs with a small WSGI-like environ (the
  headers engine.io reads, the client's address as `REMOTE_ADDR`, and this handshake under `FAST_HANDSHAKE`):
  the sid, the OPEN packet (pingInterval, pingTimeout, maxPayload, upgrades []), the Engine.IO connect handlers
  (address count, python-socketio's environ, the CONNECT deadline), the ping wheel, then the websocket driver
  (`transport/compression.py`), which for a fast handshake writes the 101 (`Sec-WebSocket-Accept`, `X-Request-ID`:
  the caller's valid one or a new one, as `servicekit.requestid.echo_request_id` does) and hands the transport to a
  `DetachedWebSocket` (`detached_websocket.adopt`). Bytes that came after the head (a client that pipelined its
  first frames) are fed to it. The Socket.IO CONNECT, its token check and recovery are unchanged.

Only with lean + detached websockets (`GATEWAY_LEAN_WEBSOCKET_SESSIONS`, `GATEWAY_DETACHED_WEBSOCKETS`) and
`GATEWAY_FAST_HANDSHAKE`. Seams (aiohttp 3.14, python-engineio 4.15, pinned; tests/unit/test_library_internals.py):
the runner's `_make_server` and its `web.Server` as the connection factory (`__call__` -> `RequestHandler`), the
handler's `connection_made` / `data_received`; engine.io's `_handle_connect(environ, transport)` and the environ
keys its websocket path reads (`HTTP_CONNECTION`, `HTTP_UPGRADE`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast
from urllib.parse import parse_qs

import httptools
from aiohttp import web
from aiohttp.tcp_helpers import tcp_keepalive, tcp_nodelay
from servicekit.forwarded import TrustedProxies, client_address
from servicekit.logcontext import new_request_id, valid_request_id

from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.detached_websocket import _finish_later, _spawn

log = logging.getLogger(__name__)

FAST_HANDSHAKE = "gateway.fast_handshake"
"""The environ key under which engine.io's websocket driver finds the `FastHandshake` to answer."""
HEAD_LIMIT = 8190
"""A first request head longer than this is aiohttp's to answer: its limits (`max_line_size`, `max_field_size`,
8190 each) then decide (a 400 for a line or header too long), as they did for every request."""
PREFIX = b"GET /socket.io/?"
PATH = b"/socket.io/"
SWITCHING = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
             b"Sec-WebSocket-Accept: ")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ONE_EACH = (b"host", b"upgrade", b"connection", b"sec-websocket-key", b"sec-websocket-version", b"origin",
             b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto", b"x-request-id",
             b"sec-websocket-extensions")
_REFUSED_HEADERS = (b"content-length", b"transfer-encoding", b"sec-websocket-protocol")
_ENVIRON_HEADERS = {
    b"host": "HTTP_HOST", b"origin": "HTTP_ORIGIN", b"x-forwarded-host": "HTTP_X_FORWARDED_HOST",
    b"x-forwarded-proto": "HTTP_X_FORWARDED_PROTO",
}


class _Head:
    """httptools callbacks: the URL and the headers (names lower-cased) of one request head."""

    __slots__ = ("headers", "url")

    def __init__(self) -> None:
        self.url = b""
        self.headers: dict[bytes, bytes] | None = {}

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self.headers
        if headers is None:
            return
        key = name.lower()
        if key in headers and key in _ONE_EACH:
            self.headers = None  # a header the fast path reads, twice: aiohttp decides
            return
        headers[key] = value


class FastHandshake:
    """One admitted handshake: what the websocket driver needs to answer it (the 101) and take its transport."""

    __slots__ = ("accept", "protocol", "request_id", "transport")

    def __init__(self, protocol: FirstRequest, transport: asyncio.Transport, accept: bytes, request_id: str) -> None:
        self.protocol = protocol
        self.transport = transport
        self.accept = accept
        self.request_id = request_id

    def write_101(self) -> None:
        """The switch to websocket, kept with the OPEN packet that follows it (one write at the end of the turn)."""
        WRITES.write(self.transport, b"".join((
            SWITCHING, self.accept, b"\r\nX-Request-ID: ", self.request_id.encode(), b"\r\n\r\n",
        )))

    def rest(self) -> bytes:
        """The bytes read after the request head (pipelined frames); the transport's reader is now the websocket."""
        return self.protocol.take_rest()


class FastHandshakes:
    """The checks that admit a handshake to the fast path, and engine.io's connect for the admitted ones."""

    def __init__(self, eio: Any, *, draining: Callable[[], bool], address_count: Callable[[str], int],
                 address_limit: Callable[[], int], trusted: TrustedProxies, compression: bool,
                 idle_timeout: float, on_served: Callable[[], None] = lambda: None) -> None:
        self.eio = eio
        self.draining = draining
        self.address_count = address_count
        self.address_limit = address_limit
        self.trusted = trusted
        self.compression = compression
        self.idle_timeout = idle_timeout
        self.on_served = on_served
        self.served = 0
        """Handshakes served here (`gateway_fast_handshakes_total`)."""
        self.handed_over = 0
        """Connections handed to aiohttp."""

    def environ(self, head: bytes, transport: asyncio.Transport, protocol: FirstRequest) -> dict[str, Any] | None:
        """The environ for engine.io if this request head is served here, else None (aiohttp's)."""
        parsed = _Head()
        parser = httptools.HttpRequestParser(parsed)
        try:
            parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            pass
        except httptools.HttpParserError:
            return None
        headers = parsed.headers
        if headers is None or parser.get_method() != b"GET" or parser.get_http_version() != "1.1":
            return None
        path, _, query_bytes = parsed.url.partition(b"?")
        if path != PATH:
            return None
        query_string = query_bytes.decode("latin-1")
        query = parse_qs(query_string)
        if query.get("EIO") != ["4"] or query.get("transport") != ["websocket"] or "sid" in query or "j" in query:
            return None
        if any(name in headers for name in _REFUSED_HEADERS):
            return None
        host, upgrade, connection = headers.get(b"host"), headers.get(b"upgrade"), headers.get(b"connection")
        if not host or upgrade is None or connection is None or upgrade.strip().lower() != b"websocket":
            return None
        connection_str = connection.decode("latin-1")
        if "upgrade" not in [token.strip() for token in connection_str.lower().split(",")]:
            return None
        if headers.get(b"sec-websocket-version") != b"13":
            return None
        key = headers.get(b"sec-websocket-key", b"").strip()
        try:
            if len(base64.b64decode(key, validate=True)) != 16:
                return None
        except (binascii.Error, ValueError):
            return None
        if self.compression and b"permessage-deflate" in headers.get(b"sec-websocket-extensions", b"").lower():
            return None
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "QUERY_STRING": query_string,
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "HTTP_UPGRADE": upgrade.decode("latin-1"), "HTTP_CONNECTION": connection_str,
        }
        for name, env_key in _ENVIRON_HEADERS.items():
            value = headers.get(name)
            if value is not None:
                environ[env_key] = value.decode("latin-1")
        if not self._origin_allowed(environ):
            return None
        if self.draining():
            return None
        peer = transport.get_extra_info("peername")
        if not isinstance(peer, tuple) or not peer:
            return None
        forwarded = headers.get(b"x-forwarded-for")
        address = client_address(str(peer[0]), forwarded.decode("latin-1") if forwarded is not None else None,
                                 self.trusted) or "unknown"
        if self.address_count(address) >= self.address_limit():
            return None
        sent_id = headers.get(b"x-request-id")
        request_id = (valid_request_id(sent_id.decode("latin-1")) if sent_id is not None else None) or new_request_id()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
        environ["REMOTE_ADDR"] = address
        environ[FAST_HANDSHAKE] = FastHandshake(protocol, transport, accept, request_id)
        return environ

    def _origin_allowed(self, environ: dict[str, Any]) -> bool:
        """engine.io's origin check (`handle_request`) for a configured list; any other configuration: aiohttp's."""
        allowed = self.eio.cors_allowed_origins
        origin = environ.get("HTTP_ORIGIN")
        if allowed == [] or not origin:
            return True
        if isinstance(allowed, list | tuple):
            return origin in allowed
        return False

    def connect(self, environ: dict[str, Any], protocol: FirstRequest) -> None:
        """engine.io's connect for `environ`, driven by hand while it does not suspend (no task for it)."""
        self.served += 1
        self.on_served()
        coro = self.eio._handle_connect(environ, "websocket")
        try:
            pending = coro.send(None)
        except StopIteration as stop:
            protocol.connected(stop.value)
            return
        except BaseException as exc:  # noqa: BLE001 - engine.io's connect failed: the connection is dropped
            protocol.failed(exc)
            return
        task = _spawn(_finish_later(cast(Coroutine[Any, Any, Any], coro), pending))
        task.add_done_callback(protocol.connect_done)


_READING, _SERVING, _DONE = 0, 1, 2


class FirstRequest(asyncio.Protocol):
    """A connection until its first request head is read: served by `FastHandshakes`, or handed to aiohttp."""

    __slots__ = ("_buffer", "_handshakes", "_server", "_state", "_timer", "lost", "transport")

    def __init__(self, server: web.Server, handshakes: FastHandshakes) -> None:
        self._server = server
        self._handshakes = handshakes
        self._buffer = b""
        self._state = _READING
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None
        self.lost = False
        """The connection ended before its websocket was taken over (engine.io's connect had suspended)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        # aiohttp's own rule for a connection that sends nothing (its keep-alive timeout from connection_made)
        self._timer = asyncio.get_running_loop().call_later(self._handshakes.idle_timeout, self._idle)

    def _idle(self) -> None:
        self._timer = None
        if self._state == _READING and self.transport is not None:
            self.transport.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        if self._state != _READING:
            self._buffer += data  # engine.io's connect suspended: the websocket gets these once it is taken over
            return
        buffer = self._buffer + data if self._buffer else data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > HEAD_LIMIT or not buffer.startswith(PREFIX[:len(buffer)]):
                self._hand_over(buffer)
            else:
                self._buffer = buffer
            return
        if end + 4 > HEAD_LIMIT or not buffer.startswith(PREFIX):
            self._hand_over(buffer)
            return
        transport = self.transport
        assert transport is not None
        handshakes = self._handshakes
        environ = handshakes.environ(buffer[:end + 4], transport, self)
        if environ is None:
            self._hand_over(buffer)
            return
        self._stop_timer()
        self._state = _SERVING
        self._buffer = buffer[end + 4:]
        tcp_keepalive(transport)  # the socket options aiohttp's RequestHandler sets on every connection it serves
        tcp_nodelay(transport, True)
        handshakes.connect(environ, self)

    def _hand_over(self, buffer: bytes) -> asyncio.Protocol:
        """aiohttp serves this connection from here on, starting with the bytes read so far."""
        self._stop_timer()
        self._state = _DONE
        self._buffer = b""
        self._handshakes.handed_over += 1
        transport = self.transport
        assert transport is not None
        handler = self._server()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if buffer:
            handler.data_received(buffer)
        return handler

    def take_rest(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        self._state = _DONE
        return rest

    def connected(self, answer: Any) -> None:
        """engine.io's connect returned: None once the websocket was taken over, or an HTTP answer (a refusal)."""
        self._state = _DONE
        if answer is None:
            return
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if isinstance(answer, dict):  # engine.io's response (e.g. 401 for a connection its handlers refused)
            status = str(answer.get("status", "400 BAD REQUEST"))
            body = answer.get("response", b"")
            body = body if isinstance(body, bytes) else str(body).encode()
            headers = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in answer.get("headers", ()))
            transport.write(b"".join((
                f"HTTP/1.1 {status}\r\n".encode("latin-1"), headers,
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1"), body,
            )))
        transport.close()

    def failed(self, exc: BaseException) -> None:
        self._state = _DONE
        log.error("websocket handshake failed", exc_info=exc)
        if self.transport is not None:
            self.transport.abort()

    def connect_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self.failed(asyncio.CancelledError())
        elif (exc := task.exception()) is not None:
            self.failed(exc)
        else:
            self.connected(task.result())

    def eof_received(self) -> bool | None:
        if self._state == _READING and self._buffer:  # half a request head, then EOF: aiohttp's to answer
            buffer, self._buffer = self._buffer, b""
            return self._hand_over(buffer).eof_received()
        return False  # nothing read yet, or the websocket is being set up: close

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._stop_timer()


class FirstRequestServer:
    """aiohttp's `web.Server` (the connection factory a TCPSite serves) whose connections start as `FirstRequest`;
    everything else (its connection table, shutdown) is the wrapped server's."""

    def __init__(self, server: web.Server, handshakes: FastHandshakes) -> None:
        self._wrapped = server
        self.handshakes = handshakes

    def __call__(self) -> FirstRequest:
        return FirstRequest(self._wrapped, self.handshakes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class FastHandshakeRunner(web.AppRunner):
    """`web.AppRunner` whose server starts each connection as a `FirstRequest` (when `handshakes` is not None)."""

    def __init__(self, app: web.Application, handshakes: FastHandshakes | None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._handshakes = handshakes

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        if self._handshakes is None:
            return server
        return cast(web.Server, FirstRequestServer(server, self._handshakes))
