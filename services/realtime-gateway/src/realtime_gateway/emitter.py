"""The one place the gateway emits to its local sockets (and counts what it emitted)."""

from collections.abc import Iterable
from typing import Any

import socketio

from realtime_gateway.metrics import Metrics


class Emitter:
    def __init__(self, sio: socketio.AsyncServer, metrics: Metrics) -> None:
        self._sio = sio
        self._metrics = metrics

    async def emit(self, event: str, data: dict[str, Any], rooms: Iterable[str]) -> None:
        # A list of rooms: python-socketio sends once to each socket in their union.
        await self._sio.emit(event, data, to=list(rooms))
        self._metrics.delivered.labels(event).inc()
