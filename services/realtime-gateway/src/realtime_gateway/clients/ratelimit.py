"""Token buckets per socket and per account: every client event costs one token of each; an empty bucket means
`rate_limited`."""

import time
from collections.abc import Callable
from typing import Generic, TypeVar


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def full(self) -> bool:
        """Refilled to `burst` (nothing spent that has not come back)."""
        return min(self.burst, self._tokens + (self._clock() - self._at) * self.rate) >= self.burst


K = TypeVar("K", str, int)


class _PerKey(Generic[K]):
    """One bucket per key, made on first use."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[K, TokenBucket] = {}

    def allow(self, key: K) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
        return bucket.take()

    def __len__(self) -> int:
        return len(self._buckets)


class PerSocketLimiter(_PerKey[str]):
    """One bucket per socket id, made on first use and dropped on disconnect."""

    @classmethod
    def one_per(cls, interval: float, clock: Callable[[], float] = time.monotonic) -> "PerSocketLimiter":
        """At most one event per `interval` seconds (0: unlimited)."""
        return cls(1 / interval if interval > 0 else float("inf"), 1, clock)

    def forget(self, sid: str) -> None:
        self._buckets.pop(sid, None)


class PerUserLimiter(_PerKey[int]):
    """One bucket per account across all of its sockets on this gateway (beside each socket's own bucket).

    When an account's last socket leaves, its bucket is dropped only if it is full again: closing every socket
    and reconnecting does not refill a bucket that is in debt."""

    def last_socket_left(self, user_id: int) -> None:
        bucket = self._buckets.get(user_id)
        if bucket is not None and bucket.full():
            del self._buckets[user_id]
