"""An engine.io socket's send queue (engine.io's `create_queue()` factory makes it, `transport/fanout.py` sets that up):
knows when its consumer holds nothing, has a length limit, and hands items to a waiting consumer without a task.

engine.io's writer waits for packets with `asyncio.wait_for(queue.get(), ping_interval + ping_timeout)`. With
`asyncio.Queue.get` (a coroutine) `wait_for` wraps every wait in a new Task: one per packet sent through the
queue (pings, acks, queued broadcasts) and one more when the socket closes, each also added to and removed from
asyncio's set of all tasks (Python code on 3.11). Here `get()` returns a Future instead, which `wait_for` awaits
as it is; `put_nowait` puts the item in the queue (`qsize`, `task_done` and `join` count as `asyncio.Queue`'s
do) and at once takes it out into the oldest waiting Future. An item is never given to a waiter that
`wait_for` already cancelled (timeout): it stays queued for the next `get()`.

Memory: one queue per socket, mostly empty. `asyncio.Queue` holds three deques and an `Event` (a fourth) from the
start, and a CPython deque allocates a 64-slot block even when empty: with the waiters' deque ~3.7 KiB per socket,
a tenth of a socket's memory (tracemalloc at 500 sockets). This queue keeps its items and its waiters in lists (56 bytes
empty; a socket's queue holds a packet or two at most but under backpressure) and makes the `join()` Event only when
someone joins.
"""

import asyncio
from collections.abc import Callable
from typing import Any


class SendQueue:
    """The part of `asyncio.Queue`'s interface engine.io uses (`get`, `get_nowait`, `put`, `put_nowait`,
    `task_done`, `join`, `qsize`, `empty`; `get_nowait` on an empty queue raises `asyncio.QueueEmpty`, the
    exception engine.io's `get_queue_empty_exception()` names), unbounded like engine.io's own.

    `idle` is True only while a consumer waits in `get()` on an empty queue: it has written everything it
    took before. Any put clears it at once (the waiting Future is resolved before the consumer wakes up), so
    `idle` implies "empty, and nothing taken but unwritten". Over `limit` packets the queue calls
    `on_overflow(self)` once and drops further packets (the socket is being disconnected); the `None` sentinel
    that stops engine.io's writer always passes."""

    __slots__ = ("_finished", "_items", "_on_overflow", "_unfinished", "_waiting", "idle", "limit", "overflowed")

    def __init__(self, limit: int = 0, on_overflow: Callable[["SendQueue"], None] | None = None) -> None:
        self.limit = limit
        self.overflowed = False
        self._on_overflow = on_overflow
        self._items: list[Any] = []
        self._waiting: list[asyncio.Future[Any]] = []
        self._unfinished = 0
        self._finished: asyncio.Event | None = None
        self.idle = False
        """A plain attribute, not a property: the fan-out reads it once per recipient of every broadcast."""

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def _has_waiter(self) -> bool:
        waiting = self._waiting
        while waiting and waiting[0].done():  # cancelled by wait_for's timeout, or already served
            waiting.pop(0)
        return bool(waiting)

    def _waiter_done(self, _waiter: "asyncio.Future[Any]") -> None:
        self.idle = self._has_waiter()

    def get(self) -> "asyncio.Future[Any]":
        """An awaitable of the next item (like `asyncio.Queue.get`, but a Future: no task for `wait_for`)."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._items or self._has_waiter():  # others wait already: first come, first served
            self._waiting.append(waiter)
            waiter.add_done_callback(self._waiter_done)  # a timeout's cancel must clear `idle`
            self.idle = True
        else:
            waiter.set_result(self.get_nowait())
        return waiter

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def put_nowait(self, item: Any) -> None:
        if item is not None and self.limit and len(self._items) >= self.limit:
            if not self.overflowed:
                self.overflowed = True
                if self._on_overflow is not None:
                    self._on_overflow(self)
            return
        self._items.append(item)
        self._unfinished += 1
        if self._finished is not None:
            self._finished.clear()
        waiting = self._waiting
        while waiting:
            waiter = waiting.pop(0)
            if not waiter.done():
                waiter.set_result(self.get_nowait())
                break
        self.idle = self._has_waiter()  # cleared before the consumer wakes up

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._finished is not None:
            self._finished.set()

    async def join(self) -> None:
        """Until every item put has been marked `task_done()` (engine.io's close with `wait=True`)."""
        if self._unfinished > 0:
            if self._finished is None:
                self._finished = asyncio.Event()
            await self._finished.wait()
