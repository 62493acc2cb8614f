"""The gateway's own health as admins see it: `system:status_change` for component `realtime-gateway` when it has
been without RabbitMQ for a while (`degraded`), and again when it has had it back for a while (`operational`).

Why here, and straight to this gateway's sockets: the gateway is the one that knows it lost the broker, and the
broker is exactly what it cannot publish through then; its own admins are the ones whose live updates stop
(docs/ARCHITECTURE.md, "Platform status"). Hysteresis (`Hysteresis`, no I/O): a change is reported only once
the new state has held for its threshold, so a flapping link does not spam banners; the first report is a
change from `operational`, which is what a gateway starting up assumes.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contracts.payloads import ComponentStatus, StatusData
from contracts.payloads.system_text import (
    BrokerConnectionLostParams,
    BrokerConnectionRestoredParams,
    SystemTextParams,
    render,
    system_text,
)
from contracts.socketio.events import SYSTEM_STATUS_CHANGE
from contracts.time import now_beijing

from realtime_gateway.clients.rooms import ADMINS

log = logging.getLogger(__name__)
COMPONENT = "realtime-gateway"


@dataclass
class Hysteresis:
    """Reports `degraded` once unhealthy for `fail_after` seconds, `operational` once healthy again for
    `recover_after` seconds; an observation that returns to the reported state before then cancels the change."""

    fail_after: float
    recover_after: float
    reported: ComponentStatus = "operational"
    _pending_since: float | None = None

    def observe(self, healthy: bool, now: float) -> ComponentStatus | None:
        """The new status to report, or None."""
        wanted: ComponentStatus = "operational" if healthy else "degraded"
        if wanted == self.reported:
            self._pending_since = None
            return None
        if self._pending_since is None:
            self._pending_since = now
        if now - self._pending_since < (self.recover_after if healthy else self.fail_after):
            return None
        self.reported, self._pending_since = wanted, None
        return wanted

    def forget_pending(self) -> None:
        """Drop a change under way (what was observed so far no longer counts): the next observation starts over."""
        self._pending_since = None


_TEXTS: dict[ComponentStatus, SystemTextParams] = {
    "degraded": BrokerConnectionLostParams(), "operational": BrokerConnectionRestoredParams(),
}


def status_data(status: ComponentStatus) -> StatusData:
    code, params = system_text(_TEXTS[status])
    return StatusData(component=COMPONENT, status=status, message=render(code, params), changed_at=now_beijing(),
                      code=code, params=params or None)


Emit = Callable[[str, dict[str, object], list[str]], Awaitable[None]]


class PeriodicWatch(abc.ABC):
    """Runs `check()` every `check_seconds` until stopped; a check that fails is logged and the watch goes on."""

    _check_seconds: float
    _task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def check(self) -> None:
        """One look at what is watched (and the emit of a reported change)."""

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # a failed emit must not end the watch
                log.exception("status watch failed; trying again")
            await asyncio.sleep(self._check_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{type(self).__name__}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class BrokerStatusWatcher(PeriodicWatch):
    """Looks at the broker link every `check_seconds` and emits each reported change to this gateway's admins;
    `current()` is what an admin connecting now should be told (None while operational)."""

    def __init__(self, connected: Callable[[], bool], emit: Emit, hysteresis: Hysteresis, check_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._connected = connected
        self._emit = emit
        self._hysteresis = hysteresis
        self._check_seconds = check_seconds
        self._clock = clock
        self._last: StatusData | None = None

    def current(self) -> StatusData | None:
        return self._last if self._last is not None and self._last.status != "operational" else None

    async def check(self) -> None:
        status = self._hysteresis.observe(self._connected(), self._clock())
        if status is None:
            return
        self._last = data = status_data(status)
        log.warning("component %s is %s: %s", COMPONENT, status, data.message)
        await self._emit(SYSTEM_STATUS_CHANGE, data.model_dump(mode="json"), [ADMINS])
