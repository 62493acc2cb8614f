"""Sockets outlive nothing: when the access token a socket connected with expires, the socket is told
(`system:token_expired`) and disconnected. A client that renewed its token has reconnected with it before
then: that is a new socket with the new `exp`, and its old socket is already gone (forgotten at disconnect).

One heap of (exp, sid) and ONE timer armed for the earliest exp, whatever the number of sockets (no task or
timer per socket). A socket that leaves is only forgotten in the dict; its heap entry is skipped when it comes
up, and the heap is rebuilt when stale entries outnumber the live ones.
"""

import asyncio
import base64
import heapq
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import socketio
from contracts.socketio.events import SYSTEM_TOKEN_EXPIRED
from contracts.socketio.server import TokenExpiredData

from realtime_gateway.clients.auth import token_of

log = logging.getLogger(__name__)

Expire = Callable[[list[tuple[str, float]]], Awaitable[None]]
"""`expire([(sid, exp), ...])`: tell and disconnect those sockets."""


def token_exp(auth: Any) -> float | None:
    """The `exp` claim of the token in a CONNECT packet's auth, read WITHOUT verifying: call it only after the
    handshake verified that token."""
    token = token_of(auth)
    if token is None:
        return None
    # The payload segment read directly (base64url + JSON): the same claims PyJWT's unverified decode returns,
    # at a tenth of its cost per handshake (it re-validates the base64 alphabet character by character).
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class TokenExpiry:
    def __init__(self, expire: Expire, *, clock: Callable[[], float] = time.time) -> None:
        self._expire = expire
        self._clock = clock
        self._exp: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._exp)

    def watch(self, sid: str, exp: float) -> None:
        self._exp[sid] = exp
        heapq.heappush(self._heap, (exp, sid))
        if self._armed_for is None or exp < self._armed_for:
            self._arm()

    def forget(self, sid: str) -> None:
        self._exp.pop(sid, None)
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._exp):
            self._heap = [(exp, sid) for sid, exp in self._exp.items()]
            heapq.heapify(self._heap)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._armed_for = None

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._armed_for = None
        while self._heap and self._exp.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # a socket that left, or an entry replaced by a later watch()
        if not self._heap:
            return
        exp = self._heap[0][0]
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, exp - self._clock()), self._fire)
        self._armed_for = exp

    def _fire(self) -> None:
        self._timer = self._armed_for = None
        now = self._clock()
        due: list[tuple[str, float]] = []
        while self._heap and self._heap[0][0] <= now:
            exp, sid = heapq.heappop(self._heap)
            if self._exp.get(sid) == exp:
                del self._exp[sid]
                due.append((sid, exp))
        self._arm()
        if due:
            task = asyncio.get_running_loop().create_task(self._run(due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, due: list[tuple[str, float]]) -> None:
        try:
            await self._expire(due)
        except Exception:
            log.exception("disconnecting %d sockets with expired tokens failed", len(due))


async def expire_sockets(sio: socketio.AsyncServer, due: list[tuple[str, float]]) -> None:
    """Tell each socket its token expired, then disconnect it (the client sees `io server disconnect`)."""
    for sid, exp in due:
        data = TokenExpiredData(message="your access token expired; reconnect with a fresh one",
                                expired_at=datetime.fromtimestamp(exp, UTC))
        await sio.emit(SYSTEM_TOKEN_EXPIRED, data.model_dump(mode="json"), to=sid)
        await sio.disconnect(sid)
    log.info("disconnected %d sockets whose tokens expired", len(due))
