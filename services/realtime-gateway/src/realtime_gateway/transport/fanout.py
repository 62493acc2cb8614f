"""Fan-out fast path: a broadcast is one WebSocket frame, written straight to every recipient's transport.

Stock python-socketio encodes a room broadcast once, then per recipient starts a task that goes through
engine.io's `AsyncSocket.send` (ping check, log call) into the socket's queue, from which the socket's writer
task takes it (a `wait_for` timer, one more hop), str-encodes it and hands it to aiohttp, which utf-8 encodes and
frames it: ~30 us of CPU per recipient. Here the manager's `emit` builds the Engine.IO packet and the unmasked
server frame ONCE and, in one loop, `transport.write`s the same bytes to each recipient that can take them now.

Invariants (each check is in `FanOutManager.emit`):
1. Same bytes. The Socket.IO packet is encoded by the server's own packet class exactly as
   `AsyncManager.emit` does (so the server's json module applies), prefixed with Engine.IO's MESSAGE type "4"
   and framed with RFC 6455's server header (FIN, text opcode, length, no mask): what aiohttp writes for an
   uncompressed text message. A client cannot tell which path a frame took.
2. Per-socket order. A socket is written to directly only while its normal path holds nothing: its send queue
   is empty AND its writer task is parked in `queue.get()` (`SendQueue.idle`), so no packet has been taken from
   the queue and not yet written. Otherwise the packet goes the normal path (`eio.send_packet` -> the socket's
   queue, behind what is there); every later broadcast then queues too until the writer has written everything
   and parked again. Broadcasts run one at a time (a lock, uncontended unless one had to wait), so a broadcast
   that queues for some sockets is never overtaken by the next one.
3. The normal path takes: polling sockets (no websocket route), sockets mid-upgrade or not yet upgraded,
   closing/closed sockets, sockets whose ping timed out (engine.io's send closes them), websockets with
   permessage-deflate negotiated (the operator asked for compressed frames), sockets whose transport is
   closing, and sockets under backpressure (transport write buffer above `buffer_limit`).
4. Bounded memory. A socket under backpressure gets its packets queued; a queue over `queue_limit` packets
   means the client does not read: its transport is aborted and it is disconnected with the reason
   `SLOW_CONSUMER`. So a client that stops reading costs at most ~`buffer_limit` + `queue_limit` packets.
5. Every emit goes through here (the gateway's Emitter, acks and handshake packets use the queue), so no stock
   per-recipient task can be pending when a direct write happens. Emits with a callback (one ack id per
   recipient) keep the stock encoding but are sent inline, not as tasks, for the same reason.

Integration points (no fork): `socketio.AsyncServer(client_manager=FanOutManager(...))`; engine.io's queue
factory `create_queue()`, which makes `SendQueue`s (`transport/send_queue.py`) for this server; and our aiohttp websocket
driver (`transport/compression.py`), which registers each open websocket's transport here (`websocket_opened` /
`websocket_closed`).

The manager also keeps an index sid -> rooms, so a disconnect leaves its own rooms instead of scanning every
room of the namespace (stock: O(rooms) per disconnect, O(N^2) in a disconnect storm), and named rooms are plain
dicts (`Room`), not bidicts.
"""

import asyncio
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import socketio
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet

from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.send_queue import SendQueue

__all__ = ["SLOW_CONSUMER", "FanOutManager", "FanOutStats", "OrjsonCodec", "Room", "Route", "SendQueue",
           "websocket_text_frame"]

log = logging.getLogger(__name__)

SLOW_CONSUMER = "slow consumer: send queue limit exceeded"
"""The disconnect reason given to a socket that stopped reading."""


def websocket_text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented text frame (RFC 6455 5.2): what a server sends for one text message."""
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", 0x81, n) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Room(dict[str, str]):
    """The members of a named room (sid -> eio_sid), a plain dict where python-socketio makes a `bidict`.

    Only the namespace's `None` room (every connected sid) needs the inverse mapping (`sid_from_eio_sid`), and
    stays a bidict, which also refuses a second sid for one eio_sid. In every other room a bidict costs four
    Python calls per leave and a second dict; a disconnect storm leaves four such rooms per socket (its own sid
    room, `user:`, `admin:`, `admins`). python-socketio reads a room's members as `room._fwdm` (bidict's forward
    dict); here that is the dict itself."""

    __slots__ = ()

    @property
    def _fwdm(self) -> "Room":
        return self


@dataclass(slots=True)
class Route:
    """An open websocket of one engine.io socket: where its frames can be written directly."""

    socket: AsyncSocket
    queue: SendQueue
    transport: asyncio.Transport
    compressed: bool


COALESCE_MAX_RECIPIENTS = 16
"""Emits to at most this many sockets keep their frames for the end of the loop turn (transport/coalesced_writes.py);
larger fan-outs write at once."""


@dataclass
class FanOutStats:
    direct: int = 0
    """Frames written straight to a transport."""
    queued: int = 0
    """Packets that took the normal path (polling, upgrading, backpressure, something already queued)."""
    slow_consumers: int = 0
    """Sockets disconnected because their send queue overflowed."""


# misc: python-socketio ships no types, so AsyncManager is Any to mypy (subclassing Any); our methods stay typed.
class FanOutManager(socketio.AsyncManager):  # type: ignore[misc]
    def __init__(self, *, buffer_limit: int = 64 * 1024, queue_limit: int = 1000, fast_path: bool = True) -> None:
        super().__init__()
        self.buffer_limit = buffer_limit
        self.queue_limit = queue_limit
        self.fast_path = fast_path
        self.routes: dict[str, Route] = {}
        self.stats = FanOutStats()
        self.on_slow_consumer: list[Callable[[str], None]] = []
        self._rooms_of: dict[tuple[str, str], list[Any]] = {}  # a list: 5 rooms in 120 bytes (a set: 700)
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    def set_server(self, server: socketio.AsyncServer) -> None:
        super().set_server(server)
        # engine.io makes every socket's send queue with its server's `create_queue()` (its documented queue
        # factory); this server's sockets get `SendQueue`s. Set on the instance, so the server class stays free
        # for other subclasses (transport/recovery.py's).
        server.eio.create_queue = self._create_queue

    def _create_queue(self, *args: Any, **kwargs: Any) -> SendQueue:
        return SendQueue(self.queue_limit, self._queue_overflowed)

    # ---- websocket routes (called by the aiohttp websocket driver, transport/compression.py)

    def websocket_opened(self, handler: Any, request: Any, compressed: bool) -> Route | None:
        """engine.io's websocket handler starts: its socket's frames may be written to `request.transport` until
        `websocket_closed(route)`. None when this is not the engine.io we know (everything takes the normal path).

        `handler` is the bound `AsyncSocket._websocket_handler` engine.io gives its websocket driver."""
        sock = getattr(handler, "__self__", None)
        transport = request.transport
        if not isinstance(sock, AsyncSocket) or not isinstance(sock.queue, SendQueue) or transport is None:
            return None
        route = Route(sock, sock.queue, transport, compressed)
        self.routes[sock.sid] = route
        return route

    def websocket_closed(self, route: Route) -> None:
        """The handler of `route`'s websocket returned: no more direct writes (unless a newer route replaced it)."""
        if self.routes.get(route.socket.sid) is route:
            del self.routes[route.socket.sid]

    # ---- emit

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None, skip_sid: Any = None,
                   callback: Any = None, to: Any = None, **kwargs: Any) -> None:
        room = to or room
        if namespace not in self.rooms:
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        async with self._lock:
            if callback is not None:
                await self._emit_with_callback(event, args, namespace, room, skip, callback)
                return
            pkt = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args])
            encoded = pkt.encode()
            if isinstance(encoded, list):  # binary attachments: several engine.io packets, the normal path
                eio_pkts = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in encoded]
                for sid, eio_sid in self.get_participants(namespace, room):
                    if sid not in skip:
                        for p in eio_pkts:
                            await self.server.eio.send_packet(eio_sid, p)
                return
            eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
            queued = self._write_direct(eio_pkt, namespace, room, skip)
            for eio_sid in queued:
                await self.server.eio.send_packet(eio_sid, eio_pkt)

    def _write_direct(self, eio_pkt: eio_packet.Packet, namespace: str, room: Any, skip: set[Any]) -> list[str]:
        """Writes the frame to every recipient that can take it now (invariants 2-3); returns the others."""
        frame = websocket_text_frame(eio_pkt.encode().encode())
        routes = self.routes if self.fast_path else {}
        now = time.time()
        ping_timeout = self.server.eio.ping_timeout
        limit = self.buffer_limit
        participants = list(self.get_participants(namespace, room))
        # A few recipients (a chat message to its sender and agent): kept to leave with the socket's other frames of
        # this turn. A broadcast: written now (kept only behind frames already kept for that socket), so its first
        # recipients need not wait for the whole pass, nor the pass for a dict entry per recipient.
        write = WRITES.write if len(participants) <= COALESCE_MAX_RECIPIENTS else WRITES.write_through
        queued: list[str] = []
        direct = 0
        for sid, eio_sid in participants:
            if sid in skip:
                continue
            route = routes.get(eio_sid)
            if route is not None and route.queue.idle and not route.compressed:
                sock = route.socket
                transport = route.transport
                if (
                    sock.upgraded and not sock.upgrading and not sock.closing and not sock.closed
                    and not (sock.last_ping and now - sock.last_ping > ping_timeout)
                    and not transport.is_closing() and transport.get_write_buffer_size() <= limit
                ):
                    write(transport, frame)
                    direct += 1
                    continue
            queued.append(eio_sid)
        self.stats.direct += direct
        self.stats.queued += len(queued)
        return queued

    async def _emit_with_callback(self, event: str, args: list[Any], namespace: str, room: Any, skip: set[Any],
                                  callback: Any) -> None:
        # One ack id per recipient, so one packet each: stock encoding, but sent inline (invariant 5).
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid not in skip:
                pkt = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args],
                                               id=self._generate_ack_id(sid, callback))
                await self.server._send_packet(eio_sid, pkt)

    # ---- slow consumers

    def _queue_overflowed(self, queue: SendQueue) -> None:
        for sock in self.server.eio.sockets.values():  # rare: a scan is fine
            if sock.queue is queue:
                task = asyncio.get_running_loop().create_task(self._disconnect_slow(sock))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                return

    async def _disconnect_slow(self, sock: AsyncSocket) -> None:
        self.stats.slow_consumers += 1
        log.warning("disconnecting socket %s: %s (%d packets queued)", sock.sid, SLOW_CONSUMER, sock.queue.qsize())
        for hook in self.on_slow_consumer:
            hook(sock.sid)
        route = self.routes.get(sock.sid)
        if route is not None:
            route.transport.abort()  # frees its buffer, and unblocks engine.io's writer stuck on a full socket
        await sock.close(wait=False, abort=True, reason=SLOW_CONSUMER)
        self.server.eio.sockets.pop(sock.sid, None)

    # ---- the room index: sid -> rooms

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        ns_rooms = self.rooms.get(namespace)
        if room is not None and ns_rooms is not None and room not in ns_rooms \
                and (sid == room or not self.is_sid_room(namespace, room)):
            ns_rooms[room] = Room()  # where stock makes a bidict (it raises below if that is not allowed)
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        rooms = self._rooms_of.setdefault((namespace, sid), [])
        if room not in rooms:
            rooms.append(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            if room in rooms:
                rooms.remove(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """Stock `basic_disconnect`, but leaving the rooms the index names instead of scanning all rooms, in one
        loop (what stock `basic_leave_room` does per room, without a call and a try per room: a storm leaves
        five rooms per socket, thousands of sockets in a row)."""
        ns_rooms = self.rooms.get(namespace)
        if ns_rooms is None:
            return
        for room in self._rooms_of.pop((namespace, sid), ()):
            members = ns_rooms.get(room)
            if members is None:
                continue
            try:
                del members[sid]
            except KeyError:
                continue
            if not members:
                del ns_rooms[room]
        if not ns_rooms:
            del self.rooms[namespace]
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [r for r in self._rooms_of.get((namespace, sid), ()) if r is not None]


class OrjsonCodec:
    """The `json` module python-socketio's packets use (`AsyncServer(json=...)`), on orjson: ~10x faster than
    the standard library, and UTF-8 instead of \\u escapes (Chinese text: 3 bytes a character instead of 6)."""

    def __init__(self) -> None:
        import orjson

        self._orjson = orjson

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self._orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return self._orjson.loads(s)
