"""A websocket session with one task and no timer of its own: what 20,000 open sockets cost in memory and CPU.

Stock engine.io keeps, per open websocket: the request's task, a writer task parked in
`wait_for(queue.get(), ping_interval + ping_timeout)` (a timer), a reader that wraps every message wait in a new
task plus a `wait_for` (another timer), and a ping task sleeping `ping_interval` (a third). Its service task walks
every socket once per `ping_timeout` with a `wait_for` per socket (20,000 sockets: 1,000 timed waits a second).
At 2,000 sockets that was 5 tasks, 22 coroutines, 3 timers and 11 contexts per socket (gc counts in the bench).

Here, for a socket that opens directly on websocket (socket.io-client's and the Node twin's default; a polling
socket that upgrades keeps engine.io's stock handler):
- `serve_websocket` is the reader loop, run inline in the request's task: no task per message, no timer.
- Writes are pushed: the socket's `SendQueue` (transport/send_queue.py) is put in push mode, so a packet is framed
  and written to the transport at once when nothing is queued before it and the transport takes it (uncompressed,
  below `buffer_limit`); otherwise it is queued and a drain task, made only then and gone once the queue is empty,
  sends it through aiohttp (deflate, backpressure). Order is kept: nothing is written directly while anything is
  queued.
- Pings: `PingWheel` replaces the per-socket ping tasks with buckets of `RESOLUTION` seconds, one timer per bucket
  for all sockets due in it. A ping is due `ping_interval` after the last PONG, as in stock (up to `RESOLUTION`
  later); a socket whose ping is unanswered after `ping_timeout` is closed (`check_ping_timeout`, as stock's
  service task does) and its TCP connection aborted. The service task only drops closed sockets, once per `ping_timeout`.
- A socket closed by the server (drain, refusal, ping timeout: engine.io's CLOSE packet went out) whose peer never
  closes its end is aborted `CLOSE_GRACE_SECONDS` later (stock: its reader's 45 s timer ended it).

Seams (python-engineio 4.15, pinned; tests/unit/test_library_internals.py checks them): the server's
`start_background_task(AsyncSocket._send_ping)` (stock `schedule_ping`), `_service_task` and
`service_task_event`, and the socket's `receive`, `close`, `check_ping_timeout`, `last_ping`, `connected`,
`upgraded`, `closing`, `closed`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
import time
from collections.abc import Callable
from typing import Any

import engineio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.send_queue import SendQueue

log = logging.getLogger(__name__)

RESOLUTION = 0.5
"""Seconds per ping-wheel bucket: a ping or a timeout check is late by at most this much."""
CLOSE_GRACE_SECONDS = 5.0
"""After the server's CLOSE packet, how long the peer has to close its websocket before its TCP connection is aborted."""
_tasks: set[asyncio.Task[Any]] = set()


def websocket_frame(payload: str | bytes) -> bytes:
    """One unmasked, unfragmented server frame (RFC 6455 5.2): text for str, binary for bytes."""
    if isinstance(payload, str):
        data, first = payload.encode(), 0x81
    else:
        data, first = payload, 0x82
    n = len(data)
    if n < 126:
        return struct.pack("!BB", first, n) + data
    if n < 65536:
        return struct.pack("!BBH", first, 126, n) + data
    return struct.pack("!BBQ", first, 127, n) + data


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class PingWheel:
    """Every socket's next ping and ping-timeout check, in buckets of `resolution` seconds (one timer each)."""

    def __init__(self, server: Any, resolution: float = RESOLUTION) -> None:
        self._server = server
        self.resolution = resolution
        self._pings: dict[int, list[AsyncSocket]] = {}
        self._checks: dict[int, list[AsyncSocket]] = {}

    def _add(self, buckets: dict[int, list[AsyncSocket]], sock: AsyncSocket, delay: float,
             fire: Callable[[int], None]) -> None:
        loop = asyncio.get_running_loop()
        key = math.ceil((loop.time() + delay) / self.resolution)
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [sock]
            loop.call_at(key * self.resolution, fire, key)
        else:
            bucket.append(sock)

    def ping_later(self, sock: AsyncSocket) -> None:
        """Stock `_send_ping` without its task: a PING `ping_interval` from now."""
        self._add(self._pings, sock, self._server.ping_interval, self._fire_pings)

    def _fire_pings(self, key: int) -> None:
        now = time.time()
        ping = eio_packet.Packet(eio_packet.PING)
        for sock in self._pings.pop(key, ()):
            if sock.closing or sock.closed:
                continue
            sock.last_ping = now
            sock.queue.put_nowait(ping)  # what stock `send` does once its ping-timeout check passes (it does here)
            self._add(self._checks, sock, self._server.ping_timeout, self._fire_checks)

    def _fire_checks(self, key: int) -> None:
        now = time.time()
        timeout = self._server.ping_timeout
        for sock in self._checks.pop(key, ()):
            last = sock.last_ping
            if not last or sock.closing or sock.closed:
                continue  # answered (a PONG clears last_ping), or gone
            if now - last > timeout:
                _spawn(_timed_out(sock))
            else:  # the bucket fired a hair early (two clocks): look again when the timeout has passed
                self._add(self._checks, sock, timeout - (now - last) + 0.01, self._fire_checks)

    @property
    def scheduled(self) -> int:
        """Pings and checks waiting (a socket appears once per pending ping or check)."""
        return sum(map(len, self._pings.values())) + sum(map(len, self._checks.values()))


async def _timed_out(sock: AsyncSocket) -> None:
    """Stock `check_ping_timeout` closes the session (reason PING_TIMEOUT; its CLOSE packet is not sent: its own
    `send` sees the timeout again); a lean session's TCP connection is then aborted, since the peer stopped
    answering (stock: its reader's 45 s timer ended it)."""
    await sock.check_ping_timeout()
    if sock.closed and isinstance(sock.queue, SendQueue):
        sock.queue.abort_connection()


# misc: python-engineio ships no types, so its AsyncServer is Any to mypy (subclassing Any).
class GatewayEngineIO(engineio.AsyncServer):  # type: ignore[misc]
    """engine.io's server whose sockets are pinged by a `PingWheel`, with a service task that only drops closed
    sockets (timeouts are the wheel's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pings = PingWheel(self)

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(target, "__func__", None) is AsyncSocket._send_ping and not args and not kwargs:
            self.pings.ping_later(target.__self__)  # stock `schedule_ping`, after a PONG (and at the handshake)
            return None
        return super().start_background_task(target, *args, **kwargs)

    async def _service_task(self) -> None:
        self.service_task_event = self.create_event()
        while not self.service_task_event.is_set():
            try:
                await asyncio.wait_for(self.service_task_event.wait(), timeout=self.ping_timeout)
            except TimeoutError:
                for sid, sock in list(self.sockets.items()):
                    if sock.closed:
                        self.sockets.pop(sid, None)


class Pusher:
    """How a lean session's queue writes (`SendQueue.push_to`): a slotted object, not two closures and their cells
    (a few hundred bytes per socket)."""

    __slots__ = ("buffer_limit", "compressed", "transport", "ws")

    def __init__(self, ws: Any, transport: Any, compressed: bool, buffer_limit: int) -> None:
        self.ws = ws
        self.transport = transport
        self.compressed = compressed
        self.buffer_limit = buffer_limit

    def write(self, pkt: eio_packet.Packet) -> bool:
        """Frame and write now, unless the transport cannot take it now (then: False, and the packet queues)."""
        transport = self.transport
        if self.compressed or transport.is_closing() or transport.get_write_buffer_size() > self.buffer_limit:
            return False
        WRITES.write(transport, websocket_frame(pkt.encode()))
        if pkt.packet_type == eio_packet.CLOSE:
            self._abort_later()
        return True

    async def send(self, pkt: eio_packet.Packet) -> None:
        """Through aiohttp (deflate, backpressure): the queue's drain task."""
        await self.ws.send(pkt.encode())
        if pkt.packet_type == eio_packet.CLOSE:
            self._abort_later()

    def _abort_later(self) -> None:
        asyncio.get_running_loop().call_later(CLOSE_GRACE_SECONDS, self.transport.abort)


async def serve_websocket(sock: AsyncSocket, ws: Any, transport: Any, compressed: bool, buffer_limit: int) -> None:
    """engine.io's `_websocket_handler` for a socket opened directly on websocket, without its writer task, its
    per-message task and its timers. `ws` is the driver (`wait()`, `send()`, `close()`)."""
    sock.connected = True
    sock.upgraded = True
    queue: SendQueue = sock.queue
    pusher = Pusher(ws, transport, compressed, buffer_limit)
    queue.push_to(pusher.write, pusher.send, transport.abort)
    max_size = sock.server.max_http_buffer_size
    try:
        while True:
            try:
                data = await ws.wait()
            except Exception:  # noqa: BLE001 - stock: any error ends the loop
                break
            if data is None or len(data) > max_size:
                break
            try:
                await sock.receive(eio_packet.Packet(encoded_packet=data))
            except eio_exceptions.UnknownPacketError:
                pass
            except eio_exceptions.SocketIsClosedError:
                break
            except Exception:
                log.exception("engine.io receive error on %s", sock.sid)
    finally:
        await queue.stop_pushing()
        await ws.close()
    await sock.close(wait=False, abort=True, reason=sock.server.reason.TRANSPORT_CLOSE)
