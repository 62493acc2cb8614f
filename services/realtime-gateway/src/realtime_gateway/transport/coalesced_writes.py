"""Frames written to one socket in one turn of the event loop leave in one `transport.write`.

A chat message gives the sender's socket its `chat:new_message` and `chat:session_update` back to back, and an agent
with many sessions gets several messages from one stream batch: each was a `transport.write` of its own, which on a
socket with an empty buffer is a `send()` system call (and a wake-up of the reader on the other end). Here a direct
write of the fan-out (`transport/fanout.py`) or of a lean websocket session (`transport/websocket_session.py`) is
kept until the end of the loop's current turn (one `call_soon` for all sockets), then each socket's frames are
written joined: the same bytes in the same order, fewer calls. The wait is one turn of the loop, not a timer.
A broadcast to many sockets (`fanout.COALESCE_MAX_RECIPIENTS`) is written at once instead (`write_through`): kept, its
first recipients would wait for the whole pass and each recipient would cost a dict entry; it joins what is kept for
a socket only when something is, so order holds either way.

Order. Every direct write of a socket goes through here, so the frames it keeps stay in order among themselves. A
frame that takes aiohttp's path instead (the send queue's drain task, a compressed socket, engine.io's stock writer
after an upgrade) goes out through `transport/compression.py`'s driver, which first writes what is kept for its
transport (`flush`): nothing written later overtakes a kept frame.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescedWrites:
    """What the direct writes of the current loop turn hold per transport, and the one callback that writes them."""

    __slots__ = ("_loop", "_pending", "calls", "enabled", "frames")

    def __init__(self) -> None:
        self.enabled = True
        """False: each frame is written at once (`GATEWAY_COALESCE_WRITES`)."""
        self._pending: dict[Any, bytes | list[bytes]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.frames = 0
        """Frames handed in (a gauge of the saving: `frames` / `calls`)."""
        self.calls = 0
        """`transport.write` calls made for them."""

    def write(self, transport: Any, frame: bytes) -> None:
        """Keep `frame` for `transport` until the end of this loop turn (the caller checked it can take it)."""
        if not self.enabled:
            self._write_now(transport, frame)
            return
        pending = self._pending
        kept = pending.get(transport)
        if kept is None and (not pending or self._loop is None or self._loop.is_closed()):
            self._schedule()
        self._keep(transport, frame, kept)

    def write_through(self, transport: Any, frame: bytes) -> None:
        """Write `frame` now, unless frames are kept for `transport` this turn: then behind them (order)."""
        kept = self._pending.get(transport)
        if kept is None:
            self._write_now(transport, frame)
        else:
            self._keep(transport, frame, kept)

    def _keep(self, transport: Any, frame: bytes, kept: bytes | list[bytes] | None) -> None:
        """`kept`: what this turn already holds for `transport` (one lookup per frame)."""
        self.frames += 1
        if kept is None:
            self._pending[transport] = frame
        elif isinstance(kept, list):
            kept.append(frame)
        else:
            self._pending[transport] = [kept, frame]

    def _write_now(self, transport: Any, frame: bytes) -> None:
        self.frames += 1
        self.calls += 1
        transport.write(frame)

    def flush(self, transport: Any) -> None:
        """Write now what is kept for `transport` (before anything is written to it another way)."""
        kept = self._pending.pop(transport, None)
        if kept is not None:
            self._send(transport, kept)

    def flush_all(self) -> None:
        pending, self._pending = self._pending, {}
        self._loop = None
        for transport, kept in pending.items():
            self._send(transport, kept)

    def _schedule(self) -> None:
        self._pending.clear()  # only ever non-empty here if its loop closed before its turn ended
        loop = asyncio.get_running_loop()
        self._loop = loop
        loop.call_soon(self.flush_all)

    def _send(self, transport: Any, kept: bytes | list[bytes]) -> None:
        if transport.is_closing():
            return  # aborted or closed meanwhile: a direct write to it now would be dropped too
        self.calls += 1
        transport.write(kept if isinstance(kept, bytes) else b"".join(kept))


WRITES = CoalescedWrites()
"""The process's one instance: every direct socket write goes through it (one event loop per gateway process)."""
