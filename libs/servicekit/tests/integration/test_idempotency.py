"""Idempotency keys against a real PostgreSQL, including two concurrent retries."""

from __future__ import annotations

import asyncio

import pytest
from servicekit.db import create_engine
from servicekit.errors import Invalid
from servicekit.idempotency import IdempotencyKeyReused, fingerprint, idempotency_table, run_once
from sqlalchemy import BigInteger, Column, MetaData, Table, Text, func, select, text

pytestmark = pytest.mark.integration


async def test_a_retry_returns_the_first_answer_and_creates_nothing_new(make_database):
    engine = create_engine(await make_database())
    metadata = MetaData()
    keys = idempotency_table(metadata, "idem")
    things = Table("things", metadata, Column("id", BigInteger, primary_key=True, autoincrement=True),
                   Column("name", Text), schema="idem")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA idem"))
        await conn.run_sync(metadata.create_all)

    async def post(name: str, key: str | None, user_id: int = 1):
        async with engine.begin() as conn:
            async def create():
                new_id = (await conn.execute(things.insert().values(name=name).returning(things.c.id))).scalar_one()
                await asyncio.sleep(0.05)  # widen the race window
                return 201, {"id": new_id, "name": name}
            return await run_once(conn, keys, user_id=user_id, key=key,
                                  request_fingerprint=fingerprint("create-thing", {"name": name}), create=create)

    try:
        results = await asyncio.gather(*(post("a", "k1") for _ in range(5)))
        assert len({r[1]["id"] for r in results}) == 1 and all(r[0] == 201 for r in results)
        other_user = await post("a", "k1", user_id=2)
        assert other_user[1]["id"] != results[0][1]["id"]
        no_key = [await post("b", None), await post("b", None)]
        assert no_key[0][1]["id"] != no_key[1][1]["id"]
        with pytest.raises(IdempotencyKeyReused):
            await post("different", "k1")
        with pytest.raises(Invalid):
            await post("a", "x" * 201)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(things)) == 4
    finally:
        await engine.dispose()
