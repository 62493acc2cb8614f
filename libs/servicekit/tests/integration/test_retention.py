"""servicekit.retention on a real PostgreSQL: old rows go, in batches; recent and unpublished ones stay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from servicekit.db import create_engine
from servicekit.retention import Prune, prune_forever, prune_once
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, text

pytestmark = pytest.mark.integration

metadata = MetaData()
events = Table("events", metadata, Column("id", Integer, primary_key=True),
               Column("published_at", DateTime(timezone=True)), schema="kept")


async def _ids(engine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT id FROM kept.events ORDER BY id"))).scalars())


@pytest.fixture
async def engine(make_database):
    engine = create_engine(await make_database())
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA kept"))
        await conn.run_sync(metadata.create_all)
        # 1..25: published two days ago; 26..30: an hour ago; 31..35: never published (NULL)
        await conn.execute(text("INSERT INTO kept.events SELECT g, now() - interval '2 days' FROM generate_series(1, 25) g"))
        await conn.execute(text("INSERT INTO kept.events SELECT g, now() - interval '1 hour' FROM generate_series(26, 30) g"))
        await conn.execute(text("INSERT INTO kept.events SELECT g, NULL FROM generate_series(31, 35) g"))
    yield engine
    await engine.dispose()


async def test_rows_older_than_the_age_are_deleted_in_batches_and_the_rest_kept(engine):
    rule = Prune(events, "published_at", timedelta(days=1))
    assert await prune_once(engine, [rule], batch=10) == {"kept.events": 25}  # three batches: 10, 10, 5
    assert await _ids(engine) == list(range(26, 36))
    assert await prune_once(engine, [rule], batch=10) == {"kept.events": 0}


async def test_the_periodic_pass_prunes_at_once_and_survives_a_failing_rule(engine, caplog):
    broken = Table("missing", MetaData(), Column("id", Integer, primary_key=True),
                   Column("published_at", DateTime(timezone=True)), schema="kept")
    rules = [Prune(broken, "published_at", timedelta(days=1)), Prune(events, "published_at", timedelta(minutes=30))]
    task = asyncio.create_task(prune_forever(engine, rules[1:], interval=0.1))
    failing = asyncio.create_task(prune_forever(engine, rules[:1], interval=0.1))
    try:
        async with asyncio.timeout(5):
            while await _ids(engine) != list(range(31, 36)):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert not failing.done()  # a failing pass is logged, not fatal
        assert any("retention pass failed" in r.getMessage() for r in caplog.records)
    finally:
        task.cancel()
        failing.cancel()
        await asyncio.gather(task, failing, return_exceptions=True)


def test_a_rule_naming_a_column_the_table_lacks_is_refused():
    with pytest.raises(ValueError, match="no column"):
        Prune(events, "created_at", timedelta(days=1))
