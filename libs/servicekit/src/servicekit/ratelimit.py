"""Per-user rate limits on REST write routes, shared by every process of a service (state in PostgreSQL).

Why PostgreSQL and not a token bucket in memory: a service may run several processes (uvicorn workers,
replicas behind the edge); a bucket per process would multiply the limit by their number and forget it at every
restart. The write routes touch the database anyway, so one more statement on a one-row-per-key table
costs little and every process sees the same count.

The algorithm is a sliding-window counter: the hits of the current fixed window plus the previous window's
hits weighted by how much of it still overlaps the sliding window. It never lets more than `requests` through
in any window of `per_seconds` by more than rounding, and needs two integers per key. Refused requests are not
counted, so a client that retries when `Retry-After` says gets through. The clock is the database's, so
processes on different machines agree.

    class Settings(...):
        message_rate_limit: RateLimit = RateLimit(requests=120, per_seconds=60)

    app.state.rate_limiter = RateLimiter(engine, rate_limits)            # lifespan; table in the service's schema
    @router.post(..., dependencies=[per_user_rate_limit("chat.messages", "message_rate_limit")])

A refusal is 429 `rate_limited` with `Retry-After` (seconds) in the usual error shape; the dependency documents
it in the route's OpenAPI operation (servicekit.openapi.raises_from).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, Table, Text, func
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.errors import DatabaseUnavailable, TooMany
from servicekit.http import CurrentPrincipal
from servicekit.openapi import raises_from

try:
    from fastapi import Depends, Request
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("servicekit.ratelimit needs FastAPI: install platform-servicekit[fastapi,db]") from exc


class RateLimit(BaseModel):
    """At most `requests` per `per_seconds` (sliding window). In env: `'{"requests": 120, "per_seconds": 60}'`."""

    requests: int = Field(gt=0)
    per_seconds: float = Field(gt=0, le=3600)
    """At most an hour: `servicekit.retention` forgets a key's counts after a day without hits."""


@dataclass(frozen=True)
class Window:
    """One key's counts: `index` of the current fixed window (`floor(now / per_seconds)`), its hits and the
    previous window's."""

    index: int = 0
    hits: int = 0
    previous: int = 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until a request would be allowed (only when refused; at least 1)."""


def decide(window: Window, now: float, limit: RateLimit) -> tuple[Window, Decision]:
    """Pure: the counts after one request at `now` (epoch seconds) and whether it is allowed."""
    position = now / limit.per_seconds
    index = math.floor(position)
    elapsed = position - index  # fraction of the current window gone
    if window.index == index:
        hits, previous = window.hits, window.previous
    elif window.index == index - 1:
        hits, previous = 0, window.hits
    else:
        hits, previous = 0, 0
    if previous * (1 - elapsed) + hits + 1 <= limit.requests:
        return Window(index, hits + 1, previous), Decision(True)
    if hits + 1 <= limit.requests:  # room in this window once the previous one has slid far enough out
        wait = (1 - (limit.requests - 1 - hits) / previous) - elapsed
    else:  # only in the next window, once this one's hits have slid out far enough
        wait = (1 - elapsed) + (1 - (limit.requests - 1) / hits)
    retry_after = max(1, math.ceil(wait * limit.per_seconds - 1e-9))
    return Window(index, hits, previous), Decision(False, retry_after)


def rate_limit_table(metadata: MetaData, schema: str) -> Table:
    return Table(
        "rate_limits",
        metadata,
        Column("key", Text, primary_key=True),
        Column("window_index", BigInteger, nullable=False),
        Column("hits", Integer, nullable=False),
        Column("previous_hits", Integer, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )


class RateLimiter:
    """`hit(key, limit)`: ONE statement on the service's `rate_limits` table, outside any transaction: the
    decision is taken inside the upsert, so a key's row lock is held for that one statement only, never across
    round trips (concurrent hits on one key, from any process, are serialized by it all the same).

    The statement is `decide` in SQL: `INSERT ... ON CONFLICT (key) DO UPDATE SET <the counts after one more
    hit> WHERE <it is allowed> RETURNING ...`. A refused hit updates nothing (refusals are not counted), so no
    row comes back; a second, read-only statement then reads the window for `Retry-After`. The clock is the
    statement's start (`statement_timestamp()`), read before the row lock: a hit that waited behind one already
    counted in a later window counts at that window's start (never in an older one, which would reset the
    counts)."""

    def __init__(self, engine: AsyncEngine, table: Table) -> None:
        self._engine = engine
        name = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
        position = "(extract(epoch FROM excluded.updated_at)::float8 / CAST(:per AS float8))"
        index = f"greatest(floor({position})::bigint, r.window_index)"
        elapsed = f"greatest({position} - {index}, 0::float8)"
        hits = f"(CASE WHEN r.window_index = {index} THEN r.hits ELSE 0 END)"
        previous = (f"(CASE WHEN r.window_index = {index} THEN r.previous_hits "
                    f"WHEN r.window_index = {index} - 1 THEN r.hits ELSE 0 END)")
        # A new key's first hit is always allowed (`requests` >= 1): the INSERT counts it.
        self._hit = sql(
            f"INSERT INTO {name} AS r (key, window_index, hits, previous_hits, updated_at) "
            "VALUES (:key, floor(extract(epoch FROM statement_timestamp())::float8 / CAST(:per AS float8)), "
            "1, 0, statement_timestamp()) "
            f"ON CONFLICT (key) DO UPDATE SET window_index = {index}, hits = {hits} + 1, "
            f"previous_hits = {previous}, updated_at = excluded.updated_at "
            f"WHERE {previous} * (1 - {elapsed}) + {hits} + 1 <= CAST(:requests AS integer) "
            "RETURNING r.window_index"
        )
        self._read = sql(
            f"SELECT window_index, hits, previous_hits, extract(epoch FROM clock_timestamp())::float8 "
            f"FROM {name} WHERE key = :key"
        )
        self._lock = sql(self._read.text + " FOR UPDATE")
        self._create = sql(
            f"INSERT INTO {name} (key, window_index, hits, previous_hits) VALUES (:key, 0, 0, 0) "
            "ON CONFLICT (key) DO NOTHING"
        )
        self._store = sql(
            f"UPDATE {name} SET window_index = :index, hits = :hits, previous_hits = :previous, "
            "updated_at = statement_timestamp() WHERE key = :key"
        )

    async def hit(self, key: str, limit: RateLimit) -> Decision:
        async with self._engine.connect() as conn:
            db = await conn.execution_options(isolation_level="AUTOCOMMIT")
            counted = (await db.execute(self._hit, {"key": key, "per": limit.per_seconds,
                                                    "requests": limit.requests})).first()
            if counted is not None:
                return Decision(True)
            row = (await db.execute(self._read, {"key": key})).first()
        if row is None:  # deleted (retention) since: nothing counted for it now
            return Decision(False, 1)
        _, decision = decide(Window(row[0], row[1], row[2]), row[3], limit)
        return decision if not decision.allowed else Decision(False, 1)


    async def hit_many(self, key: str, limit: RateLimit, count: int) -> list[Decision]:
        """``count`` hits on ``key`` at one instant, in one transaction (the row locked to the commit): each
        decided by ``decide`` after the ones before it, as ``count`` calls of ``hit`` in a row would be. For
        ``CoalescedHits``: concurrent hits of one key cost one transaction, not one commit each."""
        async with self._engine.begin() as db:
            row = (await db.execute(self._lock, {"key": key})).first()
            if row is None:
                await db.execute(self._create, {"key": key})
                row = (await db.execute(self._lock, {"key": key})).one()
            window = Window(row[0], row[1], row[2])
            # The clock is read with the row; a row already counted in a later window (another process's clock
            # ran ahead) is taken at that window's start, never reset as if it were old.
            now = max(float(row[3]), window.index * limit.per_seconds)
            decisions = []
            for _ in range(count):
                window, decision = decide(window, now, limit)
                decisions.append(decision)
            if any(d.allowed for d in decisions):
                await db.execute(self._store, {"key": key, "index": window.index, "hits": window.hits,
                                               "previous": window.previous})
        return decisions


class CoalescedHits:
    """``hit`` as ``RateLimiter.hit``, but the hits on one key that arrive while its statement runs go together
    into the next transaction (``RateLimiter.hit_many``): a busy key costs one commit per round, not one per hit
    (every hit of one key otherwise waits for the commit, WAL flush included, of the one before)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._waiting: dict[str, list[tuple[RateLimit, asyncio.Future[Decision]]]] = {}
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def hit(self, key: str, limit: RateLimit) -> Decision:
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append((limit, future))
        if key not in self._running:
            self._running.add(key)
            task = asyncio.create_task(self._drain(key), name=f"rate-limit:{key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    async def _drain(self, key: str) -> None:
        try:
            while waiting := self._waiting.pop(key, None):
                try:
                    decisions = await self._limiter.hit_many(key, waiting[-1][0], len(waiting))
                except Exception as exc:  # noqa: BLE001 - each hit of the round fails alike (nothing counted)
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), decision in zip(waiting, decisions, strict=True):
                    if not future.done():
                        future.set_result(decision)
        finally:
            self._running.discard(key)


class RateLimited(TooMany):
    code = "rate_limited"
    message = "too many requests; slow down"


def per_user_rate_limit(bucket: str, setting: str, *, coalesce: bool = False) -> Any:
    """A route dependency: the caller's hits on `bucket` are limited by `app.state.settings.<setting>`
    (a `RateLimit`), counted in `app.state.rate_limiter`. Answers 429 `rate_limited` + `Retry-After`.
    `coalesce`: one user's concurrent hits share a transaction (`CoalescedHits`, kept in
    `app.state.coalesced_hits`), for routes one user calls many times a second."""

    @raises_from(RateLimited(retry_after=1), DatabaseUnavailable)  # the counters live in PostgreSQL
    async def limited(request: Request, principal: CurrentPrincipal) -> None:
        limit: RateLimit = getattr(request.app.state.settings, setting)
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if limiter is None:  # the lifespan sets it before the app serves; only an app built without it has none
            return
        key = f"{bucket}:user:{principal.user_id}"
        if coalesce:
            state = request.app.state
            if getattr(state, "coalesced_hits", None) is None:
                state.coalesced_hits = CoalescedHits(limiter)
            decision = await state.coalesced_hits.hit(key, limit)
        else:
            decision = await limiter.hit(key, limit)
        if not decision.allowed:
            raise RateLimited(
                message=f"too many requests: at most {limit.requests} per {limit.per_seconds:g} s; "
                        f"retry in {decision.retry_after} s",
                details={"limit": limit.requests, "per_seconds": limit.per_seconds,
                         "retry_after": decision.retry_after},
                retry_after=decision.retry_after,
            )

    return Depends(limited)
