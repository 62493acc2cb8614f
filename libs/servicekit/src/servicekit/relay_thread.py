"""The outbox relay on a thread of its own, with its own event loop, database connection and RabbitMQ connection.

On the service's loop the relay waits its turn behind every HTTP request and command in the loop's ready queue, at
each of its steps (the NOTIFY, the fetch, each publish, each confirm): under load an event's way out took far
longer than the request that wrote it. On its own loop it waits only for the interpreter lock, which a busy
thread hands over every few milliseconds (``sys.getswitchinterval()``).

    thread = RelayThread(relay, broker, name="chat-svc")   # both built, neither started
    task = asyncio.create_task(thread.run())               # starts the thread; ends when it does
    task.cancel(); await task                              # stops the relay, then its broker, then joins

``relay`` and ``broker`` are built on the caller's thread but used only on the relay's: asyncio objects bind to a
loop when first awaited, not when built. The leader election is the relay's own (an advisory lock on its
connection), so a process whose relay thread died, or another process, takes over as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from servicekit.broker import Broker
from servicekit.outbox import OutboxRelay

log = logging.getLogger(__name__)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed wherever uvicorn[standard] is
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class RelayThread:
    """Runs ``relay`` (publishing through ``broker``, its own RabbitMQ link) on a daemon thread with its own loop."""

    def __init__(self, relay: OutboxRelay, broker: Broker, *, name: str, stop_timeout: float = 5.0) -> None:
        self.relay = relay
        self.broker = broker
        self._name = name
        self._stop_timeout = stop_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()

    async def run(self) -> None:
        """Start the thread and wait until it ends (it ends only when cancelled, or if it crashed). Cancelling this
        coroutine stops the relay (its in-flight publishes unmarked: the next leader sends them again), closes
        its connections and joins the thread."""
        caller = asyncio.get_running_loop()
        ended: asyncio.Future[None] = caller.create_future()

        def finished() -> None:
            if not ended.done():
                ended.set_result(None)

        def main() -> None:
            try:
                with asyncio.Runner(loop_factory=_new_loop) as runner:  # closing it cancels what is left
                    self._loop = runner.get_loop()
                    runner.run(self._serve())
            except asyncio.CancelledError:
                pass  # stopped by run()'s caller
            except BaseException:
                log.exception("%s: the outbox relay thread failed", self._name)
            finally:
                self._started.set()
                with contextlib.suppress(RuntimeError):  # the caller's loop already closed: nobody waits
                    caller.call_soon_threadsafe(finished)

        thread = threading.Thread(target=main, name=f"{self._name}-outbox-relay", daemon=True)
        thread.start()
        try:
            await asyncio.shield(ended)
        except asyncio.CancelledError:
            await self._stop(ended)
            raise
        finally:
            if ended.done():  # it has only its last lines to run
                await asyncio.to_thread(thread.join, self._stop_timeout)

    async def _stop(self, ended: asyncio.Future[None]) -> None:
        await asyncio.to_thread(self._started.wait, self._stop_timeout)
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                loop.call_soon_threadsafe(task.cancel)
        try:
            await asyncio.wait_for(asyncio.shield(ended), self._stop_timeout)
        except TimeoutError:
            log.error("%s: the outbox relay thread did not stop within %.1fs; left behind (daemon)",
                      self._name, self._stop_timeout)

    async def _serve(self) -> None:
        self._task = asyncio.current_task()
        self._started.set()
        await self.broker.start()
        try:
            await self.relay.run()
        finally:
            await self.broker.close()
