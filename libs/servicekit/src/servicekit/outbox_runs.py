"""How the outbox relay cuts the rows of one round into AMQP messages: runs of consecutive rows with the same exchange
and routing key become one event batch (contracts.events.batch), bounded in events and bytes.

Only CONSECUTIVE rows go together: the messages leave in outbox order, so every queue and the gateways' stream see
the events in the order they committed (an aggregate's events may have different routing keys: grouping all rows of
a key across the round would move an event of one key ahead of an earlier event of another).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Routed(Protocol):
    @property
    def exchange(self) -> str: ...
    @property
    def routing_key(self) -> str: ...
    @property
    def body(self) -> bytes: ...


R = TypeVar("R", bound=Routed)

BATCH_FRAMING_BYTES = 16
"""What a batch adds around its events' bodies (``{"events":[`` ... ``]}`` and the commas), rounded up."""


def runs(rows: Sequence[R], *, max_events: int, max_bytes: int) -> list[list[R]]:
    """`rows` in order, cut into runs of the same (exchange, routing key) of at most `max_events` rows and
    `max_bytes` of bodies (a row larger than `max_bytes` alone makes a run of one). `max_events` 1: one run per row."""
    out: list[list[R]] = []
    size = 0
    for row in rows:
        current = out[-1] if out else None
        if (current is not None and len(current) < max_events
                and (current[0].exchange, current[0].routing_key) == (row.exchange, row.routing_key)
                and size + len(row.body) + 1 <= max_bytes - BATCH_FRAMING_BYTES):
            current.append(row)
            size += len(row.body) + 1
        else:
            out.append([row])
            size = len(row.body)
    return out
