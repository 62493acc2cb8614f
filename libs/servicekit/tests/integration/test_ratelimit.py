"""servicekit.ratelimit.RateLimiter against a real PostgreSQL: one budget per key whatever the process."""

from __future__ import annotations

import asyncio

import pytest
from servicekit.db import create_engine
from servicekit.ratelimit import RateLimit, RateLimiter, rate_limit_table
from sqlalchemy import MetaData, text

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
