"""servicekit.uow against a real PostgreSQL: a transaction and the events it publishes, committed together."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from contracts.events.envelope import EventEnvelope
from contracts.events.payloads import ChatSessionUpdated
from contracts.events.registry import CHAT_SESSION_UPDATED
from contracts.payloads import SessionData
from contracts.time import now_beijing
from servicekit.db import create_engine
from servicekit.errors import Conflict
from servicekit.outbox import outbox_table
from servicekit.uow import UnitsOfWork
from sqlalchemy import MetaData, text

pytestmark = pytest.mark.integration
SCHEMA = "uowtest"


def _updated(session_id: int) -> ChatSessionUpdated:
    now = now_beijing()
    return ChatSessionUpdated(session=SessionData(
        session_id=session_id, user_id=7, admin_id=None, status="waiting", priority=3, unread_count=0,
        last_message="hi", created_at=now, updated_at=now,
    ))


@pytest_asyncio.fixture(loop_scope="session")
async def work(make_database) -> AsyncIterator[UnitsOfWork]:
    engine = create_engine(await make_database())
    metadata = MetaData()
    outbox = outbox_table(metadata, SCHEMA)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
    try:
        yield UnitsOfWork(engine, outbox=outbox, producer="test-svc")
    finally:
        await engine.dispose()


async def _outbox(work: UnitsOfWork) -> list[tuple[str, str | None]]:
    async with work.engine.connect() as conn:
        bodies = (await conn.execute(text(f"SELECT body FROM {SCHEMA}.outbox ORDER BY id"))).scalars().all()
    envelopes = [EventEnvelope.model_validate_json(body) for body in bodies]
    return [(envelope.producer, envelope.correlation_id) for envelope in envelopes]


async def test_events_of_a_unit_of_work_are_written_with_it_and_carry_its_correlation_id(work):
    async with work.begin(correlation_id="cmd-1") as uow:
        await uow.publish(CHAT_SESSION_UPDATED, _updated(1), aggregate_id=1)
        async with work.engine.connect() as other:  # not visible to anyone before the commit
            assert (await other.execute(text(f"SELECT count(*) FROM {SCHEMA}.outbox"))).scalar() == 0
    assert await _outbox(work) == [("test-svc", "cmd-1")]


async def test_a_unit_of_work_that_fails_publishes_nothing_and_runs_no_before_commit_hook(work):
    ran = []

    async def hook() -> None:
        ran.append("hook")

    with pytest.raises(Conflict):
        async with work.begin() as uow:
            uow.before_commit(hook)
            await uow.publish(CHAT_SESSION_UPDATED, _updated(2), aggregate_id=2)
            raise Conflict("refused")
    assert ran == []
    assert await _outbox(work) == []


async def test_before_commit_hooks_run_once_at_the_end_of_the_unit_and_may_publish(work):
    async with work.begin() as uow:

        async def announce() -> None:
            await uow.publish(CHAT_SESSION_UPDATED, _updated(3), aggregate_id=3)

        uow.before_commit(announce)
        assert await _outbox(work) == []
    assert await _outbox(work) == [("test-svc", None)]


async def test_once_without_an_idempotency_table_says_how_to_configure_it(work):
    async with work.begin() as uow:
        with pytest.raises(RuntimeError, match="idempotency_keys"):
            await uow.once(user_id=1, key="k", operation="op", request={}, create=lambda: None)  # type: ignore[arg-type]
