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

Push mode (`push_to(write, send)`, transport/websocket_session.py): the queue has no consumer task. `put_nowait`
calls `write(item)` at once when nothing is queued; `write` returns False when it cannot write now (backpressure,
compression), and then the item is queued and a drain task, made only then, `await send(item)`s what is queued,
in order, and ends when the queue is empty. `idle` means "nothing queued, no drain running".
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any


class SendQueue:
    """The part of `asyncio.Queue`'s interface engine.io uses (`get`, `get_nowait`, `put`, `put_nowait`,
    `task_done`, `join`, `qsize`, `empty`; `get_nowait` on an empty queue raises `asyncio.QueueEmpty`, the
    exception engine.io's `get_queue_empty_exception()` names), unbounded like engine.io's own.

    `idle` (pull mode) is True only while a consumer waits in `get()` on an empty queue: it has written everything it
    took before. Any put clears it at once (the waiting Future is resolved before the consumer wakes up), so
    `idle` implies "empty, and nothing taken but unwritten". Over `limit` packets the queue calls
    `on_overflow(self)` once and drops further packets (the socket is being disconnected); the `None` sentinel
    that stops engine.io's writer always passes."""

    __slots__ = ("_abort", "_drainer", "_finished", "_items", "_on_overflow", "_send", "_unfinished", "_waiting", "_write", "idle",
                 "limit", "overflowed")

    def __init__(self, limit: int = 0, on_overflow: Callable[["SendQueue"], None] | None = None) -> None:
        self.limit = limit
        self.overflowed = False
        self._on_overflow = on_overflow
        self._items: list[Any] = []
        self._waiting: list[asyncio.Future[Any]] = []
        self._unfinished = 0
        self._finished: asyncio.Event | None = None
        self._write: Callable[[Any], bool] | None = None
        self._send: Callable[[Any], Awaitable[None]] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._abort: Callable[[], None] | None = None
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
        write = self._write
        if write is not None:
            if item is None:  # stock's "stop the writer": there is no writer task in push mode
                return
            if not self._items and self._drainer is None and write(item):
                return
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
        if write is not None:
            self.idle = False
            if self._drainer is None:
                self._drainer = asyncio.get_running_loop().create_task(self._drain())
            return
        waiting = self._waiting
        while waiting:
            waiter = waiting.pop(0)
            if not waiter.done():
                waiter.set_result(self.get_nowait())
                break
        self.idle = self._has_waiter()  # cleared before the consumer wakes up

    def push_to(self, write: Callable[[Any], bool], send: Callable[[Any], Awaitable[None]],
                abort: Callable[[], None] | None = None) -> None:
        """Push mode: items are written on `put` (see the module's docstring); what was queued before is sent
        first. `abort()` ends the connection (`abort_connection`)."""
        self._write, self._send, self._abort = write, send, abort
        while self._items and self._drainer is None and write(self._items[0]):  # the OPEN packet, usually
            self._items.pop(0)
            self.task_done()
        self.idle = not self._items
        if self._items and self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def stop_pushing(self) -> None:
        """The connection ended: no more writes; a running drain is stopped and what it had not sent is dropped
        (counted done, so `join()` returns)."""
        self._write = self._send = self._abort = None
        self.idle = False
        drainer, self._drainer = self._drainer, None
        if drainer is not None and drainer is not asyncio.current_task():
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer
        self._drop_all()

    def abort_connection(self) -> None:
        """Push mode: end the connection now (a peer that stopped answering pings); otherwise nothing."""
        if self._abort is not None:
            self._abort()

    def _drop_all(self) -> None:
        while self._items:
            self._items.pop(0)
            self.task_done()

    async def _drain(self) -> None:
        try:
            while self._items and self._send is not None:
                await self._send(self._items[0])
                if self._items:
                    self._items.pop(0)
                    self.task_done()
        except Exception:  # noqa: BLE001 - the connection is gone: its reader ends the session
            self._drop_all()
        finally:
            if self._drainer is asyncio.current_task():
                self._drainer = None
                self.idle = self._write is not None and not self._items

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
