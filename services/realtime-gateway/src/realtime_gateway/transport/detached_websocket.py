"""A websocket that outlives its request handler: after aiohttp's handshake (101) the connection is taken over by
an `asyncio.Protocol` of ours and the request's task ends. An idle socket holds no task and no coroutine.

What an open websocket held before (docs/SCALING.md, item 3): aiohttp's RequestHandler for the connection's life
(its parser, message deque, keep-alive state), the Request and its headers, the request's task and its handler's
coroutine chain (aiohttp, engine.io's handler, `serve_websocket`'s loop), and the WebSocketResponse (its reader
queue, frame parser, writer). Here, once the 101 is written (`take_over`):
- the transport's protocol becomes a `DetachedWebSocket`, which parses the client's frames itself (`FrameParser`:
  RFC 6455, masked client frames, fragmentation, control frames, `max_size` checked from the frame header on) and
  hands each Engine.IO packet to engine.io's socket from `data_received`;
- aiohttp's RequestHandler lets go of the transport (`detach_request_handler`), so the request's task returns the
  WebSocketResponse (marked finished) and ends without closing the connection; the server forgets the connection.

Per message: `sock.receive(packet)` is driven by hand from `data_received` (a PONG, an event whose handler python-
socketio runs in a task of its own, an ack): most packets finish without suspending and cost no task. One that
suspends (a Socket.IO CONNECT: the token check; a DISCONNECT; engine.io's CLOSE: started as a task at once, since
their handlers may need `asyncio.current_task()`) continues in a task; until it is done, reading is paused and
the frames already parsed wait in order (`_backlog`): packets are handed to engine.io in the order they came.

Writes are the lean session's (`websocket_session.Pusher`, `SendQueue` in push mode): straight to the transport
(coalesced per loop turn, transport/coalesced_writes.py), or, above `buffer_limit` unsent bytes, queued and sent by
the queue's drain task, which awaits `resume_writing`; a frame written any other way (the drain path, a PONG, a close
frame) first flushes what is kept for the transport, so nothing overtakes a kept frame.
Not served here (they keep `serve_websocket` in the request's task): a socket that negotiated permessage-deflate
(`GATEWAY_WEBSOCKET_COMPRESSION`), a polling socket that upgrades.

Close: the peer's close frame is answered with the same code and the connection closed; engine.io closing the
session (a client's CLOSE packet) sends a close frame (1000) and closes once the peer answers, or aborts after
`CLOSE_GRACE_SECONDS`; a refusal by the protocol guard sends its code and reason and closes after
`REFUSE_CLOSE_SECONDS`; a frame that breaks RFC 6455 gets 1002 (1007 bad UTF-8, 1009 too big) and the same.
Whenever the connection ends, the session ends as in `serve_websocket`'s `finally` (one short task: engine.io's
close runs the disconnect handlers).

Seams (aiohttp 3.14, python-engineio 4.15, pinned; tests/unit/test_library_internals.py checks them):
RequestHandler `transport`, `_payload_parser`, `_manager`, `keep_alive()`, `force_close()`, the server's
`connection_lost(handler)`; WebSocketResponse `_eof_sent`, `_reader._buffer` (messages parsed before the take-over);
`aiohttp._websocket.helpers.websocket_mask`.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import types
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from aiohttp import WSCloseCode, WSMsgType
from aiohttp._websocket.helpers import websocket_mask
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.protocol_guard import (
    BINARY,
    ENGINEIO_TYPES,
    REFUSE_CLOSE_SECONDS,
    ProtocolGuard,
    screen_engineio_text,
)
from realtime_gateway.transport.send_queue import SendQueue
from realtime_gateway.transport.websocket_session import CLOSE_GRACE_SECONDS, Pusher, websocket_frame

log = logging.getLogger(__name__)

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA_OPCODES = (OP_CONTINUATION, OP_TEXT, OP_BINARY)
_CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)
_STARTED_AS_TASK = ("1", "40", "41")
"""Engine.IO CLOSE, Socket.IO CONNECT and DISCONNECT (main namespace): their handlers await, once per socket."""
_tasks: set[asyncio.Task[Any]] = set()


class FrameError(Exception):
    """The client broke RFC 6455: the connection is closed with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FrameParser:
    """Client frames in, whole messages out: `feed(data)` -> [(opcode, payload)], text not yet decoded.

    No extension is negotiated, so the reserved bits must be 0; a message (all its fragments) longer than
    `max_size` is refused from the frame header that announces it, before its bytes are buffered."""

    __slots__ = ("_buffer", "_fragments", "_opcode", "_size", "_skip", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = b""
        self._fragments: list[bytes] | None = None
        self._opcode = 0
        self._size = 0
        self._skip = 0
        """Bytes of a binary frame's payload still to pass over (binary is refused whatever it holds)."""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        if self._skip:
            if len(data) <= self._skip:
                self._skip -= len(data)
                return []
            data, self._skip = data[self._skip:], 0
        buf = self._buffer + data if self._buffer else data
        messages: list[tuple[int, bytes]] = []
        pos, end_of_data = 0, len(buf)
        while end_of_data - pos >= 2:
            first, second = buf[pos], buf[pos + 1]
            if first & 0x70:
                raise FrameError(WSCloseCode.PROTOCOL_ERROR, "reserved bits set")
            if not second & 0x80:
                raise FrameError(WSCloseCode.PROTOCOL_ERROR, "unmasked client frame")
            opcode, fin, length, head = first & 0x0F, first & 0x80, second & 0x7F, pos + 2
            if length == 126:
                if end_of_data - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), pos + 4
            elif length == 127:
                if end_of_data - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), pos + 10
            if opcode in _CONTROL_OPCODES:
                if length > 125 or not fin:
                    raise FrameError(WSCloseCode.PROTOCOL_ERROR, "invalid control frame")
            elif opcode not in _DATA_OPCODES:
                raise FrameError(WSCloseCode.PROTOCOL_ERROR, f"unknown opcode {opcode}")
            elif (self._size if opcode == OP_CONTINUATION else 0) + length > self.max_size:
                raise FrameError(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
            end = head + 4 + length
            if opcode == OP_BINARY or (opcode == OP_CONTINUATION and self._fragments is not None
                                       and self._opcode == OP_BINARY):
                # Refused whatever it holds: announced at once, its payload passed over, never buffered (a client
                # flooding binary frames costs no memory while its refusal goes out).
                self._frame(opcode, bool(fin), b"", messages)
                if end > end_of_data:
                    self._skip, pos = end - end_of_data, end_of_data
                    break
                pos = end
                continue
            if end > end_of_data:
                break
            payload = bytearray(buf[head + 4:end])
            if length:
                websocket_mask(buf[head:head + 4], payload)
            pos = end
            self._frame(opcode, bool(fin), bytes(payload), messages)
        self._buffer = buf[pos:] if pos < end_of_data else b""
        return messages

    def _frame(self, opcode: int, fin: bool, payload: bytes, messages: list[tuple[int, bytes]]) -> None:
        if opcode in _CONTROL_OPCODES:
            messages.append((opcode, payload))
        elif opcode == OP_CONTINUATION:
            if self._fragments is None:
                raise FrameError(WSCloseCode.PROTOCOL_ERROR, "continuation frame without a message")
            self._fragments.append(payload)
            self._size += len(payload)
            if fin:
                messages.append((self._opcode, b"".join(self._fragments)))
                self._fragments, self._size = None, 0
        elif self._fragments is not None:
            raise FrameError(WSCloseCode.PROTOCOL_ERROR, "a new message before the last one ended")
        elif fin:
            messages.append((opcode, payload))
        else:
            self._opcode, self._fragments, self._size = opcode, [payload], len(payload)


def close_frame(code: int, reason: bytes = b"") -> bytes:
    return bytes((0x88, 2 + len(reason))) + struct.pack("!H", code) + reason


@types.coroutine
def _resumed(coro: Coroutine[Any, Any, Any], pending: Any) -> Generator[Any, None, Any]:
    """The rest of a coroutine that was driven by hand until it suspended on `pending` (what it yielded)."""
    while True:
        try:
            yield pending
        except BaseException as exc:  # noqa: BLE001 - a cancellation (or anything thrown in) goes on into `coro`
            try:
                pending = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            pending = coro.send(None)
        except StopIteration as stop:
            return stop.value


async def _finish_later(coro: Coroutine[Any, Any, Any], pending: Any) -> Any:
    return await _resumed(coro, pending)


def _spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


class DetachedWebSocket(asyncio.Protocol):
    """One taken-over websocket: frames from `data_received` to engine.io's socket, writes through its
    `SendQueue` (push mode). Also the guard's `Refusable` for its sid."""

    __slots__ = ("_backlog", "_busy", "_close_sent", "_dropping", "_ended", "_parser", "_reading", "_timer",
                 "_write_waiter",
                 "buffer_limit", "environ", "guard", "on_end", "route", "sock", "transport")

    def __init__(self, sock: AsyncSocket, transport: asyncio.Transport, *, max_size: int, buffer_limit: int,
                 guard: ProtocolGuard | None, environ: dict[str, Any], route: Any = None,
                 on_end: Callable[[Any], None] | None = None) -> None:
        self.sock = sock
        self.transport = transport
        self.buffer_limit = buffer_limit
        self.guard = guard
        self.environ = environ
        self.route = route
        self.on_end = on_end
        self._parser = FrameParser(max_size)
        self._backlog: list[tuple[int, bytes]] | None = None
        self._busy = False
        self._reading = True
        self._dropping = False
        self._close_sent = False
        self._ended = False
        self._timer: asyncio.TimerHandle | None = None
        self._write_waiter: asyncio.Future[None] | None = None

    # ---- reading

    def data_received(self, data: bytes) -> None:
        if not self._reading:
            return
        try:
            messages = self._parser.feed(data)
        except FrameError as exc:
            self._fail(exc.code, exc.reason)
            return
        for opcode, payload in messages:
            self.dispatch(opcode, payload)

    def dispatch(self, opcode: int, payload: bytes) -> None:
        """One whole message, now or (while an earlier packet is being handled) after the ones before it."""
        if self._dropping and opcode != OP_CLOSE:
            return  # refused, or our close frame went out: only the peer's close frame is still read
        if self._busy:
            if self._backlog is None:
                self._backlog = []
            self._backlog.append((opcode, payload))
        elif self._reading:
            self._message(opcode, payload)

    def eof_received(self) -> bool:
        return False  # the peer half-closed: close our end too (connection_lost follows)

    def _message(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                self._fail(WSCloseCode.INVALID_TEXT, "invalid UTF-8 text")
                return
            self._text(text)
        elif opcode == OP_BINARY:
            self._refuse_later(BINARY, None)
        elif opcode == OP_PING:
            self._write(bytes((0x8A, len(payload))) + payload)
        elif opcode == OP_CLOSE:
            self._reading = False
            if not self._close_sent:
                self._close_sent = True
                code = payload[:2] if len(payload) >= 2 else b""
                self._write(bytes((0x88, len(code))) + code)
            self.transport.close()

    def _text(self, text: str) -> None:
        sock = self.sock
        if sock.closed:
            self._close_normally()  # engine.io closed the session: nothing more is read
            return
        if text[:1] not in ENGINEIO_TYPES:
            self._refuse_later(screen_engineio_text(text), text)
            return
        try:
            coro = sock.receive(eio_packet.Packet(encoded_packet=text))
        except Exception:  # stock: a packet that does not decode is logged, the socket goes on
            log.exception("engine.io receive error on %s", sock.sid)
            return
        if text.startswith(_STARTED_AS_TASK):
            self._wait_for(_spawn(coro))
            return
        try:
            pending = coro.send(None)
        except StopIteration:
            self._after_receive()
            return
        except BaseException as exc:  # noqa: BLE001 - as `serve_websocket` treats what `receive` raises
            self._receive_failed(exc)
            return
        self._wait_for(_spawn(_finish_later(coro, pending)))

    def _wait_for(self, task: asyncio.Task[Any]) -> None:
        """A packet's handling suspended: later packets wait (in order), and reading pauses, until it is done."""
        self._busy = True
        if self._reading:
            self.transport.pause_reading()
        task.add_done_callback(self._received)

    def _received(self, task: asyncio.Task[Any]) -> None:
        self._busy = False
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            self._receive_failed(exc)
        else:
            self._after_receive()
        backlog = self._backlog
        while backlog and not self._busy and self._reading:
            self.dispatch(*backlog.pop(0))
        if not self._busy:
            self._backlog = None
            if self._reading and not self.transport.is_closing():
                self.transport.resume_reading()

    def _after_receive(self) -> None:
        if self.sock.closed:
            self._close_normally()

    def _receive_failed(self, exc: BaseException) -> None:
        if isinstance(exc, eio_exceptions.UnknownPacketError):
            return
        if isinstance(exc, eio_exceptions.SocketIsClosedError):
            self._close_normally()
            return
        log.error("engine.io receive error on %s", self.sock.sid, exc_info=exc)
        self._after_receive()

    # ---- closing

    def _write(self, frame: bytes) -> None:
        """A control frame, after the frames kept for this transport this turn (transport/coalesced_writes.py)."""
        transport = self.transport
        if not transport.is_closing():
            WRITES.flush(transport)
            transport.write(frame)

    def _send_close(self, code: int, reason: bytes, grace: float, abort: bool) -> None:
        """Our close frame; the peer's answer closes the connection (`_message`), or it is ended after `grace`."""
        self._dropping = True
        if self._close_sent:
            return
        self._close_sent = True
        self._write(close_frame(code, reason))
        transport = self.transport
        self._timer = asyncio.get_running_loop().call_later(grace, transport.abort if abort else transport.close)

    def _close_normally(self) -> None:
        self._send_close(WSCloseCode.OK, b"", CLOSE_GRACE_SECONDS, abort=True)

    def _fail(self, code: int, reason: str) -> None:
        """A frame broke RFC 6455 (aiohttp: the same codes); nothing after it can be parsed."""
        self._reading = False
        self._send_close(code, reason.encode()[:123], REFUSE_CLOSE_SECONDS, abort=False)

    def _refuse_later(self, violation: Any, sample: str | None) -> None:
        self._dropping = True  # packets still arriving from a refused connection are dropped without a look
        guard = self.guard
        if guard is None:
            self._send_close(violation.close_code, violation.reason.encode()[:123], REFUSE_CLOSE_SECONDS, False)
            return
        _spawn(guard.refuse(self.sock.sid, violation, self.environ, sample))

    async def refuse(self, code: int, reason: str) -> None:
        """The guard's refusal (`protocol_guard.Refusable`): close with `code` and `reason`; the TCP connection is
        closed after `REFUSE_CLOSE_SECONDS` even if the peer never answers."""
        self._send_close(code, reason.encode()[:123], REFUSE_CLOSE_SECONDS, abort=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._reading = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiter, self._write_waiter = self._write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if not self._ended:
            self._ended = True
            _spawn(self._end())

    async def _end(self) -> None:
        """What `serve_websocket`'s `finally` and the driver's do once the connection is gone."""
        sock = self.sock
        queue = sock.queue
        if isinstance(queue, SendQueue):
            await queue.stop_pushing()
        if self.route is not None and self.on_end is not None:
            self.on_end(self.route)
        guard = self.guard
        if guard is not None and guard.websockets.get(sock.sid) is self:
            del guard.websockets[sock.sid]
        await sock.close(wait=False, abort=True, reason=sock.server.reason.TRANSPORT_CLOSE)
        sockets = sock.server.sockets
        if sockets.get(sock.sid) is sock:  # engine.io's handshake request would have, had it still been running
            del sockets[sock.sid]

    # ---- writing (the queue's drain task, `Pusher.send`)

    def pause_writing(self) -> None:
        pass  # `send` looks at the buffer's size itself

    def resume_writing(self) -> None:
        waiter, self._write_waiter = self._write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def send(self, message: str | bytes) -> None:
        transport = self.transport
        while not transport.is_closing() and transport.get_write_buffer_size() > self.buffer_limit:
            waiter = self._write_waiter
            if waiter is None or waiter.done():
                waiter = self._write_waiter = asyncio.get_running_loop().create_future()
            await waiter
        if transport.is_closing():
            raise ConnectionResetError("the websocket is closed")
        WRITES.flush(transport)  # frames kept this turn go first (transport/coalesced_writes.py)
        transport.write(websocket_frame(message))


def detach_request_handler(request: Any, response: Any) -> None:
    """aiohttp lets go of an upgraded connection: its RequestHandler forgets the transport (so neither the end of the
    request's task nor the server's shutdown closes it) and ends its loop after this request, the server forgets
    the handler, and the WebSocketResponse counts as finished (aiohttp's `write_eof` would send a close frame)."""
    handler = request.protocol
    manager = handler._manager
    handler.keep_alive(False)  # and its keep-alive timer is cancelled
    handler.transport = None
    handler.force_close()  # with no transport: only "no further request on this connection"
    handler._payload_parser = None  # aiohttp's frame parser and reader queue: nothing reads them any more
    if manager is not None:
        manager.connection_lost(handler, None)  # the server's table of connections drops it once the task ends
    response._eof_sent = True


def take_over(request: Any, response: Any, sock: AsyncSocket, *, guard: ProtocolGuard | None,
              environ: dict[str, Any], buffer_limit: int, route: Any = None,
              on_end: Callable[[Any], None] | None = None) -> DetachedWebSocket:
    """After `response.prepare(request)` (the 101 is written; nothing has suspended since): the transport is ours.
    The caller returns `response` from the request handler at once."""
    transport: asyncio.Transport = request.transport
    already = list(response._reader._buffer) if response._reader is not None else []
    detach_request_handler(request, response)
    ws = adopt(transport, sock, guard=guard, environ=environ, buffer_limit=buffer_limit, route=route, on_end=on_end)
    for msg, _size in already:  # a client may not send before the 101 arrives (RFC 6455 4.1): normally none
        kind, data = msg[0], msg[1]
        if kind is WSMsgType.TEXT:
            ws.dispatch(OP_TEXT, data.encode() if isinstance(data, str) else data)
        elif kind is WSMsgType.BINARY:
            ws.dispatch(OP_BINARY, data)
        elif kind is WSMsgType.CLOSE:
            ws.dispatch(OP_CLOSE, struct.pack("!H", data) if data else b"")
    return ws


def adopt(transport: asyncio.Transport, sock: AsyncSocket, *, guard: ProtocolGuard | None,
          environ: dict[str, Any], buffer_limit: int, route: Any = None,
          on_end: Callable[[Any], None] | None = None) -> DetachedWebSocket:
    """A websocket whose 101 is written, on `transport` that nothing else reads any more (aiohttp's handler let go
    of it, `take_over`, or it never had one, `transport/fast_handshake.py`): from now on a `DetachedWebSocket`
    reads it and engine.io's socket `sock` writes to it in push mode."""
    ws = DetachedWebSocket(sock, transport, max_size=sock.server.max_http_buffer_size, buffer_limit=buffer_limit,
                           guard=guard, environ=environ, route=route, on_end=on_end)
    transport.set_protocol(ws)
    transport.set_write_buffer_limits(high=buffer_limit)
    sock.connected = True
    sock.upgraded = True
    queue: SendQueue = sock.queue
    pusher = Pusher(ws, transport, False, buffer_limit)
    queue.push_to(pusher.write, pusher.send, transport.abort)
    if guard is not None:
        guard.websockets[sock.sid] = ws
    return ws
