"""Graceful drain (SIGTERM): stop accepting, move the clients elsewhere a few at a time, answer what is in flight.

1. `draining` is set: a new Engine.IO handshake (a `/socket.io/` request without `sid`) gets 503, `/health` says
   `draining` with 503, so a balancer sends new clients to another gateway.
2. The sockets are closed at the Engine.IO level ("transport close": socket.io-client reconnects by itself and
   recovers its session on whichever gateway answers; a Socket.IO DISCONNECT would stop its reconnection) in
   batches spread over `GATEWAY_DRAIN_SECONDS`, not all at once. A socket with a client event still being
   handled is closed after its ack is sent (bounded by the command timeout).
3. The caller then stops the app (`__main__`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from typing import Any

import socketio
from aiohttp import web

from realtime_gateway.clients.connections import Connections

log = logging.getLogger(__name__)

BATCHES = 10


class InFlight:
    """Client events being handled, per socket (the dispatcher counts them)."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()
        self._changed = asyncio.Event()

    def begin(self, sid: str) -> None:
        self._count[sid] += 1

    def end(self, sid: str) -> None:
        self._count[sid] -= 1
        if self._count[sid] <= 0:
            del self._count[sid]
        self._changed.set()

    def busy(self, sid: str) -> bool:
        return self._count.get(sid, 0) > 0

    async def idle(self, sid: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.busy(sid) and (left := deadline - time.monotonic()) > 0:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                break


class Drain:
    def __init__(
        self, sio: socketio.AsyncServer, connections: Connections, in_flight: InFlight, seconds: float,
        ack_timeout: float,
    ) -> None:
        self._sio = sio
        self._connections = connections
        self._in_flight = in_flight
        self.seconds = seconds
        self._ack_timeout = ack_timeout
        self.draining = False

    async def gate(self, request: web.Request) -> web.StreamResponse | None:
        """While draining, a new Engine.IO handshake gets 503 (`transport/request_gates.py`)."""
        if self.draining and request.path.startswith("/socket.io") and "sid" not in request.query:
            return web.json_response(
                {"error": {"code": "draining", "message": "this gateway is shutting down; connect to another"}},
                status=503, headers={"Retry-After": "1"},
            )
        return None

    async def run(self) -> None:
        """Close every socket, in batches over `seconds`; returns when they are gone (or the bound passed)."""
        self.draining = True
        sids = self._connections.sids()
        started = time.monotonic()
        log.info("draining %d sockets over %.1fs", len(sids), self.seconds)
        size = max(1, math.ceil(len(sids) / BATCHES))
        pause = self.seconds / BATCHES
        for first in range(0, len(sids), size):
            batch = sids[first:first + size]
            await asyncio.gather(*(self._close(sid) for sid in batch))
            if first + size < len(sids):
                await asyncio.sleep(pause)
        deadline = time.monotonic() + 2.0
        while self._connections.sockets and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        log.info("drained in %.1fs (%d sockets left)", time.monotonic() - started, self._connections.sockets)

    async def close_all(self) -> None:
        """Close what is left at once (shutdown without a drain)."""
        await asyncio.gather(*(self._close(sid, wait=False) for sid in self._connections.sids()))

    async def _close(self, sid: str, *, wait: bool = True) -> None:
        if wait:
            await self._in_flight.idle(sid, self._ack_timeout)
        eio_sid: Any = self._sio.manager.eio_sid_from_sid(sid, "/")
        if eio_sid is None:
            return
        try:
            await self._sio.eio.disconnect(eio_sid)
        except Exception as exc:  # noqa: BLE001 - already gone
            log.debug("closing %s: %s", sid, exc)
