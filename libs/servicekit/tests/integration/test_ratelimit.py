"""servicekit.ratelimit.RateLimiter against a real PostgreSQL: one budget per key whatever the process."""

from __future__ import annotations

import asyncio

import pytest
from servicekit.db import create_engine
from servicekit.ratelimit import CoalescedHits, RateLimit, RateLimiter, rate_limit_table
from sqlalchemy import MetaData, event, text

pytestmark = pytest.mark.integration


async def test_two_processes_share_one_budget_per_key_even_when_hitting_at_once(make_database):
    url = await make_database()
    table = rate_limit_table(MetaData(), "rl")
    first, second = create_engine(url), create_engine(url)  # two engines: two processes' connection pools
    async with first.begin() as conn:
        await conn.execute(text("CREATE SCHEMA rl"))
        await conn.run_sync(table.metadata.create_all)
    limit = RateLimit(requests=20, per_seconds=3600)
    try:
        limiters = [RateLimiter(first, table), RateLimiter(second, table)]
        decisions = await asyncio.gather(*(limiters[n % 2].hit("k:user:1", limit) for n in range(50)))
        assert sum(d.allowed for d in decisions) == 20
        assert all(d.retry_after >= 1 for d in decisions if not d.allowed)
        assert (await limiters[0].hit("k:user:2", limit)).allowed  # another key: its own budget
    finally:
        await first.dispose()
        await second.dispose()


async def _limiter_table(url: str) -> tuple[object, object]:
    table = rate_limit_table(MetaData(), "rl")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA rl"))
        await conn.run_sync(table.metadata.create_all)
    return engine, table


async def test_an_allowed_hit_is_one_statement_so_no_lock_is_held_across_round_trips(make_database):
    engine, table = await _limiter_table(await make_database())
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        limiter = RateLimiter(engine, table)
        assert (await limiter.hit("k:user:1", RateLimit(requests=5, per_seconds=60))).allowed  # the row's creation
        assert (await limiter.hit("k:user:1", RateLimit(requests=5, per_seconds=60))).allowed  # its update
        assert len(statements) == 2
    finally:
        await engine.dispose()


async def test_a_hit_clocked_before_the_window_already_stored_counts_in_it_instead_of_resetting_it(make_database):
    engine, table = await _limiter_table(await make_database())
    limit = RateLimit(requests=3, per_seconds=60)
    try:
        # A hit that started before another one counted in the next window (it waited on the row lock) finds
        # the row one window ahead of its own clock: the full window must still refuse it.
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO rl.rate_limits (key, window_index, hits, previous_hits) "
                "VALUES ('k:user:1', floor(extract(epoch FROM now()) / 60) + 1, 3, 0)"
            ))
        decision = await RateLimiter(engine, table).hit("k:user:1", limit)
        assert not decision.allowed
        assert decision.retry_after >= 1
    finally:
        await engine.dispose()


async def test_coalesced_hits_of_two_processes_share_one_budget_and_one_process_counts_a_round_in_one_transaction(
    make_database,
):
    url = await make_database()
    engine, table = await _limiter_table(url)
    second = create_engine(url)
    locks: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda *args: locks.append(args[2]) if "FOR UPDATE" in args[2] else None)
    limit = RateLimit(requests=20, per_seconds=3600)
    try:
        alone = CoalescedHits(RateLimiter(engine, table))
        decisions = await asyncio.gather(*(alone.hit("k:user:1", limit) for _ in range(30)))
        assert sum(d.allowed for d in decisions) == 20 and all(d.allowed for d in decisions[:20])
        assert all(d.retry_after >= 1 for d in decisions[20:])
        assert len(locks) == 2  # one round: the row locked (absent, created, locked again), 30 hits decided
        both = [CoalescedHits(RateLimiter(engine, table)), CoalescedHits(RateLimiter(second, table))]
        shared = await asyncio.gather(*(both[n % 2].hit("k:user:2", limit) for n in range(50)))
        assert sum(d.allowed for d in shared) == 20
    finally:
        await engine.dispose()
        await second.dispose()
