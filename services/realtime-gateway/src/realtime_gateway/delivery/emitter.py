"""The one place the gateway emits to its local sockets (and counts what it emitted), and the one place sockets
enter rooms.

`emit(event, data, rooms, offset)`: `offset` is the event's stream position (`stream.format_offset`), sent as
the LAST argument so socket.io-client records it for connection state recovery; None for transient events
(typing relays), which are sent with the payload alone.

Holding: while a reconnecting socket is being recovered it is in no room yet; live events for its rooms are
kept for it (`hold` / `take_held`) and sent after the replay, so nothing falls between the replay and live.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import socketio

from realtime_gateway.ops.metrics import Labelled, Metrics

NAMESPACE = "/"


@dataclass
class Held:
    rooms: frozenset[str]
    events: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)


class Emitter:
    def __init__(self, sio: socketio.AsyncServer, metrics: Metrics) -> None:
        self._sio = sio
        self._metrics = metrics
        self._delivered = Labelled(metrics.delivered)
        self._held: dict[str, Held] = {}

    async def emit(self, event: str, data: dict[str, Any], rooms: Iterable[str], offset: str | None = None) -> None:
        rooms = list(rooms)
        if self._held:
            for held in self._held.values():
                if not held.rooms.isdisjoint(rooms):
                    held.events.append((event, data, offset))
        # A list of rooms: python-socketio sends once to each socket in their union.
        await self._sio.emit(event, data if offset is None else (data, offset), to=rooms)
        self._delivered(event).inc()

    def join(self, sid: str, rooms: Iterable[str]) -> None:
        """Put a connected socket into its rooms (synchronous: nothing is emitted in between)."""
        for room in rooms:
            self._sio.manager.basic_enter_room(sid, NAMESPACE, room)

    def hold(self, sid: str, rooms: Iterable[str]) -> None:
        self._held[sid] = Held(frozenset(rooms))

    def take_held(self, sid: str) -> list[tuple[str, dict[str, Any], str | None]]:
        """What was kept for `sid` since the last call; it stays held (call `release` when done)."""
        held = self._held.get(sid)
        if held is None:
            return []
        events, held.events = held.events, []
        return events

    def release(self, sid: str) -> None:
        self._held.pop(sid, None)
