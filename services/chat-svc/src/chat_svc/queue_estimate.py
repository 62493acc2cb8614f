"""How long a waiting user will wait, from how fast the queue moved lately; and what each of them is told.

No I/O. The measurements are departures: sessions that left the queue for an admin (assigned or claimed) after
having waited in it, each with the instant it joined the queue and the instant it left.

Seconds per position = busy time / departures, over the recent departures (oldest first), where a departure's
busy time is the span during which the queue was known to be non-empty before it left: from the later of the
previous departure and its own arrival, to its own departure. A burst (an admin logs in and takes five at once)
counts as five departures over the time they waited together, so it neither inflates nor zeroes the rate.
Sessions assigned in the very transaction that opened them never waited and are not departures.

The estimate for position p is ceil(p x seconds per position); with fewer departures than the minimum it is
None: unknown (pages say "正在估算"), never a made-up constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Departure:
    queued_at: datetime
    departed_at: datetime


@dataclass(frozen=True)
class QueuePlace:
    """What one waiting user is (or was last) told."""

    session_id: int
    user_id: int
    position: int
    estimated_wait_seconds: int | None


def seconds_per_position(departures: Sequence[Departure], min_samples: int) -> float | None:
    """The measured queue speed (see the module docstring); None with fewer than `min_samples` departures."""
    if len(departures) < max(1, min_samples):
        return None
    busy = 0.0
    previous: datetime | None = None
    for departure in sorted(departures, key=lambda d: d.departed_at):
        start = departure.queued_at if previous is None else max(previous, departure.queued_at)
        busy += max(0.0, (departure.departed_at - start).total_seconds())
        previous = departure.departed_at
    return busy / len(departures)


def estimated_wait(position: int, per_position: float | None) -> int | None:
    return None if per_position is None else math.ceil(position * per_position)


def places(waiting: Iterable[tuple[int, int]], per_position: float | None) -> list[QueuePlace]:
    """`waiting`: (session_id, user_id) in queue order -> every waiting user's place (position 1 = next)."""
    return [QueuePlace(session_id, user_id, n, estimated_wait(n, per_position))
            for n, (session_id, user_id) in enumerate(waiting, start=1)]


def changed(current: Iterable[QueuePlace], told: Mapping[int, QueuePlace]) -> list[QueuePlace]:
    """The places whose position or estimate differs from what their user was last told."""
    return [place for place in current if told.get(place.session_id) != place]
