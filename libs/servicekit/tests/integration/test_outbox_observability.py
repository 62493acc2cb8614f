"""The outbox's side of observability, against real PostgreSQL: the request id goes with the event, and the
backlog gauges count what the relay has not published yet."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from contracts.events.envelope import parse_envelope
from contracts.events.payloads import ChatSessionUpdated
from contracts.events.registry import CHAT_SESSION_UPDATED, new_envelope
from contracts.payloads import SessionData
from contracts.time import now_beijing
from fastapi import FastAPI
from servicekit.db import create_engine
from servicekit.logcontext import bind
from servicekit.metrics import install_metrics
from servicekit.outbox import enqueue, outbox_table
from servicekit_testing.metrics import value
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration
SCHEMA = "obstest"


def _event(n: int):
    now = now_beijing()
    session = SessionData(
        session_id=n, user_id=7, admin_id=None, status="waiting", priority=3, unread_count=n,
        last_message=f"m{n}", created_at=now, updated_at=now,
    )
    return new_envelope(CHAT_SESSION_UPDATED, "test", ChatSessionUpdated(session=session), aggregate_id=n)


@pytest_asyncio.fixture(loop_scope="session")
async def db(make_database) -> AsyncIterator[tuple[AsyncEngine, object]]:
    engine = create_engine(await make_database())
    metadata = MetaData()
    table = outbox_table(metadata, SCHEMA)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
    yield engine, table
    await engine.dispose()


async def _bodies(engine: AsyncEngine) -> list[bytes]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(f"SELECT body FROM {SCHEMA}.outbox ORDER BY id"))).scalars())


async def test_an_event_enqueued_during_a_request_carries_its_request_id(db):
    engine, table = db
    async with engine.begin() as conn:
        with bind(request_id="rid-outbox-1"):
            await enqueue(conn, table, _event(1))
        await enqueue(conn, table, _event(2))  # outside any request
    first, second = (parse_envelope(body) for body in (await _bodies(engine))[-2:])
    assert first.request_id == "rid-outbox-1"
    assert second.request_id is None


async def test_the_backlog_gauges_count_unpublished_rows_and_the_age_of_the_oldest(db):
    engine, table = db
    app = FastAPI()
    app.state.engine = engine
    install_metrics(app, "test-svc", outbox_schema=SCHEMA)
    async with engine.begin() as conn:
        await conn.execute(text(f"UPDATE {SCHEMA}.outbox SET published_at = now()"))
        for n in range(3):
            await enqueue(conn, table, _event(10 + n))
        await conn.execute(text(f"UPDATE {SCHEMA}.outbox SET created_at = now() - interval '90 seconds' "
                                f"WHERE id = (SELECT min(id) FROM {SCHEMA}.outbox WHERE published_at IS NULL)"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        pending = (await client.get("/metrics")).text
        async with engine.begin() as conn:
            await conn.execute(text(f"UPDATE {SCHEMA}.outbox SET published_at = now()"))
        drained = (await client.get("/metrics")).text
    assert value(pending, "outbox_backlog") == 3
    assert 90 <= value(pending, "outbox_oldest_unpublished_age_seconds") < 3600
    assert value(drained, "outbox_backlog") == 0
    assert value(drained, "outbox_oldest_unpublished_age_seconds") == 0
