"""The outbox relay in a child process of its own: its own interpreter lock, so under load neither the service's
HTTP requests nor the relay wait for the other's Python code.

A thread of its own (servicekit.relay_thread) waits behind no request, but it shares the interpreter lock: the
relay's ~0.3 ms of CPU per confirmed publish is taken from the requests. A process of its own takes it from the
second core instead.

    supervisor = RelayProcess(RelayConfig(...))          # nothing started yet
    task = asyncio.create_task(supervisor.run())         # starts the child; restarts it whenever it ends
    task.cancel(); await task                            # SIGTERM to the child, SIGKILL after `stop_timeout`

The child is ``python -m servicekit.relay_process`` (the same interpreter and ``sys.path`` as the service). It reads
its ``RelayConfig`` as one JSON line on its stdin (not its argv: the URLs carry passwords that ``ps`` would show)
and keeps that pipe open as its lifeline: when the service dies, even by ``kill -9``, the pipe closes and the
child stops (on Linux it also asks for SIGTERM at its parent's death, ``PR_SET_PDEATHSIG``). Its log lines go to
the service's stderr, with the service's name. The relay elects one leader per schema by an advisory lock on its
own connection, so a child left over for a moment, or the relays of other processes, are safe: one publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from servicekit.broker import Broker
    from servicekit.outbox import EventSink, OutboxRelay
    from servicekit.service import BrokerSettings

log = logging.getLogger(__name__)

CHILD_MODULE = "servicekit.relay_process"
_PR_SET_PDEATHSIG = 1


class RelayConfig(BaseModel):
    """Everything the child needs to run the relay of one schema (sent to it as JSON on its stdin)."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The service's name: the child's log lines carry it, its RabbitMQ connection is named `<name>-relay`."""
    schema_name: str
    database_url: str
    amqp_url: str
    publish_timeout: float
    broker_max_backoff: float
    poll_interval: float
    max_backoff: float
    mark_delay: float
    batch_events: bool = True
    batch_max_events: int = 100
    batch_max_bytes: int = 256 * 1024
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    def relay_broker(self) -> Broker:
        """The RabbitMQ link of a relay that runs apart from the service's loop (a thread or this child): a
        connection belongs to one loop."""
        from servicekit.broker import Broker

        return Broker(self.amqp_url, name=f"{self.name}-relay", publish_timeout=self.publish_timeout,
                      max_backoff=self.broker_max_backoff)

    def outbox_relay(self, sink: EventSink) -> OutboxRelay:
        """The relay this config describes, publishing through `sink`, in whichever process or thread runs it."""
        from servicekit.outbox import OutboxRelay

        return OutboxRelay(self.database_url, self.schema_name, sink, poll_interval=self.poll_interval,
                           max_backoff=self.max_backoff, mark_delay=self.mark_delay,
                           publish_timeout=self.publish_timeout, batch_events=self.batch_events,
                           batch_max_events=self.batch_max_events, batch_max_bytes=self.batch_max_bytes)


class RelayProcess:
    """Runs the relay described by ``config`` in a child process, restarting it whenever it ends until cancelled.

    ``restart_delay`` is the first wait before a restart (doubled after each quick death, up to ``max_restart_delay``;
    a child that lived ``stable_after`` seconds starts the count again). ``restarts`` counts the restarts and
    ``pid`` is the running child's (None between two)."""

    def __init__(
        self, config: RelayConfig, *, stop_timeout: float = 5.0, restart_delay: float = 0.2,
        max_restart_delay: float = 5.0, stable_after: float = 10.0,
    ) -> None:
        self.config = config
        self._stop_timeout = stop_timeout
        self._restart_delay = restart_delay
        self._max_restart_delay = max_restart_delay
        self._stable_after = stable_after
        self._process: asyncio.subprocess.Process | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def run(self) -> None:
        """Start the child and restart it whenever it ends, logging how it ended; on cancellation stop it."""
        delay = self._restart_delay
        try:
            while True:
                started = time.monotonic()
                try:
                    process = self._process = await self._spawn()
                except OSError as exc:  # no process to run: try again, as after a death
                    log.error("%s: could not start the outbox relay process (%s); retrying in %.1fs",
                              self.config.name, exc, delay)
                else:
                    log.info("%s: outbox relay process %d started", self.config.name, process.pid)
                    code = await process.wait()
                    lived = time.monotonic() - started
                    if lived >= self._stable_after:
                        delay = self._restart_delay
                    log.error("%s: outbox relay process %d ended (%s) after %.1fs; restarting in %.1fs",
                              self.config.name, process.pid, _how(code), lived, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_restart_delay)
                self.restarts += 1
        finally:
            await asyncio.shield(self._stop())

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", CHILD_MODULE, stdin=asyncio.subprocess.PIPE, env=env,
        )
        assert process.stdin is not None
        process.stdin.write(self.config.model_dump_json().encode() + b"\n")
        with contextlib.suppress(ConnectionError):  # it died at once: wait() tells how
            await process.stdin.drain()
        return process

    async def _stop(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), self._stop_timeout)
        except TimeoutError:
            log.error("%s: outbox relay process %d did not stop within %.1fs; killed",
                      self.config.name, process.pid, self._stop_timeout)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        else:
            log.info("%s: outbox relay process %d stopped", self.config.name, process.pid)


def relay_config(name: str, schema: str, settings: BrokerSettings) -> RelayConfig:
    """`name`'s relay of `schema` as the service's settings configure it, whichever mode runs it (a service's
    settings are ``ServiceSettings`` too: its database URL and log options)."""
    from servicekit.service import ServiceSettings

    if not isinstance(settings, ServiceSettings):
        raise TypeError(f"{name}: an outbox relay needs the service's ServiceSettings (database_url, logging)")
    return RelayConfig(
        name=name, schema_name=schema, database_url=settings.database_url, amqp_url=settings.amqp_url,
        publish_timeout=settings.publish_timeout, broker_max_backoff=settings.broker_max_backoff,
        poll_interval=settings.relay_poll_interval, max_backoff=settings.relay_max_backoff,
        mark_delay=settings.relay_mark_delay, batch_events=settings.relay_batch_events,
        batch_max_events=settings.relay_batch_max_events, batch_max_bytes=settings.relay_batch_max_bytes,
        log_level=settings.log_level, log_format=settings.log_format,
    )


def relay_process(name: str, schema: str, settings: BrokerSettings) -> RelayProcess:
    """The supervisor of `name`'s relay of `schema` in a child process, configured by the service's settings."""
    return RelayProcess(relay_config(name, schema, settings))


async def relay_leads(engine: AsyncEngine, schema: str) -> bool:
    """Whether some relay (of any process, in any mode) holds `schema`'s leader lock: then what commits is
    published now. A relay process needs a moment to start (an interpreter and its imports), during which events
    wait in the outbox; a caller that must not race it (a test's listener bound right after a send) waits for this."""
    from sqlalchemy import text

    from servicekit.outbox import _leader_key

    key = _leader_key(schema) & 0xFFFFFFFFFFFFFFFF
    async with engine.connect() as conn:
        held = await conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND classid::bigint = :high AND objid::bigint = :low "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ), {"high": key >> 32, "low": key & 0xFFFFFFFF})
        return bool(held.scalar_one())


def _how(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


# ---- the child ----------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: SIGTERM when the parent dies (the stdin lifeline covers every platform, this one is immediate)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


async def _serve(config: RelayConfig, stop: asyncio.Event) -> None:
    broker = config.relay_broker()
    relay = config.outbox_relay(broker)
    await broker.start()
    running = asyncio.create_task(relay.run(), name=f"{config.name}-outbox-relay")
    try:
        await asyncio.wait([running, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await broker.close()


def main() -> None:
    """The child: read the config, run the relay until SIGTERM or until the parent's end of stdin closes."""
    parent = os.getppid()
    _die_with_parent()
    line = sys.stdin.buffer.readline()
    if not line or os.getppid() != parent:
        return  # the parent died before we were ready
    config = RelayConfig.model_validate_json(line)
    from servicekit.logging import configure_logging
    from servicekit.relay_thread import _new_loop

    configure_logging(config.name, config.log_level, config.log_format)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches the group: the parent stops us

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def lifeline() -> None:
            sys.stdin.buffer.read()  # returns at EOF: the parent closed its end, or died
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=lifeline, name="relay-lifeline", daemon=True).start()
        await _serve(config, stop)

    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(run())


if __name__ == "__main__":
    main()
