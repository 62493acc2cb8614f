"""An engine.io socket's send queue (engine.io's `create_queue()` factory makes it, `transport/fanout.py` sets that up):
knows when its consumer holds nothing, has a length limit, and hands items to a waiting consumer without a task.

engine.io's writer waits for packets with `asyncio.wait_for(queue.get(), ping_interval + ping_timeout)`. With
`asyncio.Queue.get` (a coroutine) `wait_for` wraps every wait in a new Task: one per packet sent through the
queue (pings, acks, queued broadcasts) and one more when the socket closes, each also added to and removed from
asyncio's set of all tasks (Python code on 3.11). Here `get()` returns a Future instead, which `wait_for` awaits
as it is; `put_nowait` puts the item in the queue the stock way (so `qsize`, `task_done` and `join` count as
usual) and at once takes it out into the oldest waiting Future. An item is never given to a waiter that
`wait_for` already cancelled (timeout): it stays queued for the next `get()`.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any


class SendQueue(asyncio.Queue[Any]):
    """`idle` is True only while a consumer waits in `get()` on an empty queue: it has written everything it
    took before. Any put clears it at once (the waiting Future is resolved before the consumer wakes up), so
    `idle` implies "empty, and nothing taken but unwritten". Over `limit` packets the queue calls
    `on_overflow(self)` once and drops further packets (the socket is being disconnected); the `None` sentinel
    that stops engine.io's writer always passes."""

    def __init__(self, limit: int = 0, on_overflow: Callable[["SendQueue"], None] | None = None) -> None:
        super().__init__()
        self.limit = limit
        self.overflowed = False
        self._on_overflow = on_overflow
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self.idle = False
        """A plain attribute, not a property: the fan-out reads it once per recipient of every broadcast."""

    def _has_waiter(self) -> bool:
        waiting = self._waiting
        while waiting and waiting[0].done():  # cancelled by wait_for's timeout, or already served
            waiting.popleft()
        return bool(waiting)

    def _waiter_done(self, _waiter: "asyncio.Future[Any]") -> None:
        self.idle = self._has_waiter()

    # override: a Future where asyncio.Queue.get is a coroutine function; both are awaited the same way.
    def get(self) -> "asyncio.Future[Any]":  # type: ignore[override]
        """An awaitable of the next item (like `asyncio.Queue.get`, but a Future: no task for `wait_for`)."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.empty() or self._has_waiter():  # others wait already: first come, first served
            self._waiting.append(waiter)
            waiter.add_done_callback(self._waiter_done)  # a timeout's cancel must clear `idle`
            self.idle = True
        else:
            waiter.set_result(self.get_nowait())
        return waiter

    def put_nowait(self, item: Any) -> None:
        if item is not None and self.limit and self.qsize() >= self.limit:
            if not self.overflowed:
                self.overflowed = True
                if self._on_overflow is not None:
                    self._on_overflow(self)
            return
        super().put_nowait(item)
        waiting = self._waiting
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(self.get_nowait())
                break
        self.idle = self._has_waiter()  # cleared before the consumer wakes up
