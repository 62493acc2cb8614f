"""What a client may send, and what happens when it does not: the connection is closed, with a reason, and one
rate-limited WARNING line per client address (no stack trace: client garbage is not our bug).

Rules (Socket.IO protocol v5 / Engine.IO v4, `docs/websocket-protocol.md`):
- No binary. No client event of ours carries binary, so a binary WebSocket frame, a base64 (`b...`) polling
  packet, or a BINARY_EVENT / BINARY_ACK packet (which would make the server buffer the announced attachments)
  closes the connection at once; nothing is buffered.
- Engine.IO packets must have a known type (a text frame starting with 0-6); polling bodies must decode.
- Socket.IO packets must decode; CONNECT carries an object or nothing, DISCONNECT nothing; EVENT a non-empty array whose first
  element is the event name; ACK an array and an id; CONNECT_ERROR and unknown types never come from a client.
- EVENT / ACK only on a namespace the client sent CONNECT for ("if the server does not receive a CONNECT packet
  first, then it MUST close the connection immediately").
- A connection that is not connected to a namespace `GATEWAY_CONNECT_TIMEOUT_SECONDS` after its Engine.IO
  handshake is closed (Node's socket.io `connectTimeout`), logged at INFO (slow clients are not attackers).

Closing: a WebSocket gets a close frame with 1003 (binary) or 1008 (policy violation) and the reason as text,
and the TCP connection is closed within `REFUSE_CLOSE_SECONDS` even if the peer never answers; a polling
session gets Engine.IO's CLOSE packet and its sid is dead (400) from then on. Packets still arriving from a
refused connection are dropped without a look.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import WSCloseCode
from socketio import packet as sio_packet

log = logging.getLogger(__name__)

REFUSE_CLOSE_SECONDS = 1.0
"""How long a refused WebSocket waits for the peer's close frame before its TCP connection is closed anyway."""
ENGINEIO_TYPES = frozenset("0123456")
MAX_ADDRESSES = 10_000
"""Addresses remembered by the log's rate limit (the oldest are forgotten first)."""


@dataclass(frozen=True)
class Violation:
    kind: str
    """`binary`, `malformed`, `no_connect` or `connect_timeout` (the metric's label)."""
    reason: str
    """Said to the client (WebSocket close reason, <= 123 bytes) and logged."""

    @property
    def close_code(self) -> int:
        return WSCloseCode.UNSUPPORTED_DATA if self.kind == "binary" else WSCloseCode.POLICY_VIOLATION


BINARY = Violation("binary", "binary packets are not accepted")
CONNECT_TIMEOUT = Violation("connect_timeout", "no Socket.IO CONNECT in time")


def malformed(reason: str) -> Violation:
    return Violation("malformed", f"invalid packet: {reason}")


NOT_CONNECTED = Violation("no_connect", "invalid packet: event before CONNECT to its namespace")


def screen_engineio_text(data: str) -> Violation | None:
    """One Engine.IO packet as text (a WebSocket text frame, one packet of a polling body)."""
    if not data or data[0] not in ENGINEIO_TYPES:
        return BINARY if data[:1] == "b" else malformed("unknown Engine.IO packet type")
    return None


def screen_polling_body(body: bytes, max_packets: int) -> Violation | None:
    """A polling POST body: UTF-8 packets separated by \\x1e, at most `max_packets` of them."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return malformed("polling body is not UTF-8")
    if not text:
        return None
    packets = text.split("\x1e")
    if len(packets) > max_packets:
        return malformed("too many packets in one polling request")
    for one in packets:
        violation = screen_engineio_text(one)
        if violation is not None:
            return violation
    return None


def decode_socketio(
    packet_class: type[sio_packet.Packet], data: Any, has_namespace: Callable[[str], bool]
) -> sio_packet.Packet | Violation:
    """A client's Socket.IO packet, checked before python-socketio acts on it (or buffers anything for it)."""
    if isinstance(data, bytes | bytearray):
        return BINARY
    if not isinstance(data, str):
        return malformed("not a Socket.IO packet")
    try:
        pkt = packet_class(encoded_packet=data)
    except Exception:  # noqa: BLE001 - anything the decoder raises on client garbage is the client's error
        return malformed("cannot decode")
    kind, payload = pkt.packet_type, pkt.data
    if kind in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
        return BINARY
    if kind == sio_packet.CONNECT:
        return pkt if payload is None or isinstance(payload, dict) else malformed("CONNECT payload is not an object")
    if kind == sio_packet.DISCONNECT:
        return pkt if payload is None else malformed("DISCONNECT with a payload")
    if kind == sio_packet.EVENT:
        if not (isinstance(payload, list) and payload and isinstance(payload[0], str)):
            return malformed("EVENT payload is not an array starting with the event name")
    elif kind == sio_packet.ACK:
        if not isinstance(payload, list) or pkt.id is None:
            return malformed("ACK without an array payload and an id")
    else:
        return malformed("packet type not accepted from a client")
    return pkt if has_namespace(pkt.namespace or "/") else NOT_CONNECTED


def client_address(environ: dict[str, Any]) -> str:
    request = environ.get("aiohttp.request")
    remote = getattr(request, "remote", None)
    return remote or str(environ.get("REMOTE_ADDR", "?"))


class ViolationLog:
    """At most one line per client address per `interval` seconds; the next line says how many were not logged."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._seen: OrderedDict[tuple[str, int], tuple[float, int]] = OrderedDict()

    def report(self, address: str, violation: Violation, sample: str = "", level: int = logging.WARNING) -> bool:
        """Log `violation` from `address` unless one was logged for it within the interval; True if logged."""
        now = self._clock()
        key = (address, level)  # a slow client's INFO line does not silence an attack's WARNING
        last, suppressed = self._seen.get(key, (float("-inf"), 0))
        if now - last < self._interval:
            self._seen[key] = (last, suppressed + 1)
            return False
        self._seen[key] = (now, 0)
        self._seen.move_to_end(key)
        while len(self._seen) > MAX_ADDRESSES:
            self._seen.popitem(last=False)
        more = f" ({suppressed} more from this address in the last {self._interval:.0f}s)" if suppressed else ""
        log.log(level, "closing a connection from %s: %s%s%s", address, violation.reason,
                f" {sample!r}" if sample else "", more)
        return True


class Refusable(Protocol):
    """An open WebSocket that can be closed with a code and a reason (`compression.GatewayWebSocket`)."""

    async def refuse(self, code: int, reason: str) -> None: ...


class ProtocolGuard:
    """Closes connections that break the rules, once each, and logs it (rate-limited per address)."""

    def __init__(self, eio: Any, log_interval: float) -> None:
        self._eio = eio
        self.log = ViolationLog(log_interval)
        self.count: Callable[[str], None] = lambda kind: None
        """Called with the violation's kind (the app sets it to its metric)."""
        self.address_of: Callable[[dict[str, Any]], str] = client_address
        """The client's address for the log's per-address limit (the app sets it to the one that believes
        `X-Forwarded-For` only from trusted proxies, as the connection caps do)."""
        self.websockets: dict[str, Refusable] = {}
        """eio_sid -> its open WebSocket (registered by the driver while engine.io's handler runs)."""
        self.environ_of: Callable[[str], dict[str, Any] | None] = lambda eio_sid: None
        """eio_sid -> the environ its connection keeps (the server sets it: `transport/connection_environ.py`)."""

    async def refuse(self, eio_sid: str, violation: Violation, environ: dict[str, Any] | None = None,
                     sample: Any = None) -> None:
        """Close `eio_sid`'s connection for `violation` (once; later calls for it do nothing).

        The Engine.IO session is closed first, so the Socket.IO disconnect handlers have run (reason: the
        violation's) before the WebSocket is: nothing is left for a shutdown or drain to wait for."""
        sock = self._eio.sockets.get(eio_sid)
        ws = self.websockets.pop(eio_sid, None)
        session_open = sock is not None and not sock.closing and not sock.closed
        if not session_open and ws is None:
            return
        self.count(violation.kind)
        level = logging.INFO if violation is CONNECT_TIMEOUT else logging.WARNING
        text = sample[:40] if isinstance(sample, str) else ""
        self.log.report(self.address_of(environ or {}), violation, text, level)
        if session_open:
            # polling: Engine.IO's CLOSE packet goes to the pending (or next) GET; WebSocket: the close frame does
            await sock.close(wait=False, abort=ws is not None, reason=violation.reason)
        if ws is not None:
            await ws.refuse(violation.close_code, violation.reason)


class ScreenedBody:
    """`environ['wsgi.input']` of a polling POST: reads the body engine.io asks for and screens it first; a
    body that breaks the rules closes the session and reads as empty (engine.io answers 200 "ok", as Node does)."""

    def __init__(self, request: Any, guard: ProtocolGuard, environ: dict[str, Any], max_packets: int) -> None:
        self._content = request.content
        self._guard = guard
        self._environ = environ
        self._max_packets = max_packets
        self._sid = request.query.get("sid", "")

    async def read(self, length: int = -1) -> bytes:
        try:
            body = await (self._content.readexactly(length) if length >= 0 else self._content.read())
        except asyncio.IncompleteReadError as exc:
            body = exc.partial
        violation = screen_polling_body(body, self._max_packets)
        if violation is None:
            return body
        await self._guard.refuse(self._sid, violation, self._environ, body[:40].decode("utf-8", "replace"))
        return b""


def screen_polling_requests(sio: Any, guard: ProtocolGuard) -> None:
    """Give `sio`'s engine.io a request translator whose POST bodies are screened (`ScreenedBody`). The driver
    table `eio._async` is engine.io's (private, python-engineio 4.x: `translate_request(request) -> environ`);
    it is copied, not mutated, like `compression.set_websocket_compression` does."""
    from engineio.payload import Payload

    translate = sio.eio._async["translate_request"]

    def translate_request(request: Any) -> dict[str, Any]:
        environ: dict[str, Any] = translate(request)
        if request.method == "POST":
            environ["wsgi.input"] = ScreenedBody(request, guard, environ, Payload.max_decode_packets)
        return environ

    sio.eio._async = {**sio.eio._async, "translate_request": translate_request}
