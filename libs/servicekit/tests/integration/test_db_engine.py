"""The shared engine's server-side guard against stranded transactions, on a real PostgreSQL."""

import pytest
from servicekit.db import create_engine
from sqlalchemy import text

pytestmark = pytest.mark.integration


async def test_a_transaction_left_idle_is_ended_by_the_server(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SHOW idle_in_transaction_session_timeout"))).scalar() == "15s"
    finally:
        await engine.dispose()


async def test_the_watchdog_names_the_task_holding_a_transaction_open(database_url, caplog):
    import asyncio

    from servicekit.txwatch import TransactionWatch

    engine = create_engine(database_url)
    watch = TransactionWatch(engine, warn_after=0.2)
    release = asyncio.Event()

    async def stuck_holder() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1"))
            await release.wait()  # the transaction stays open while this task waits on something else

    async def quick() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        holder = asyncio.create_task(stuck_holder(), name="stuck-holder")
        await quick()
        await asyncio.sleep(0.3)
        with caplog.at_level("WARNING", logger="servicekit.txwatch"):
            assert watch.report() == 1
            assert watch.report() == 0  # reported once
        message = caplog.records[-1].getMessage()
        assert "stuck-holder" in message and "stuck_holder" in message  # the task's name and its frame
        release.set()
        await holder
        await asyncio.sleep(0.3)
        assert watch.report() == 0  # committed: nothing open any more
    finally:
        release.set()
        await engine.dispose()


async def test_a_pooled_connection_postgresql_closed_is_replaced_before_use(database_url, postgres_admin_url):
    import asyncio

    import asyncpg

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        admin = await asyncpg.connect(postgres_admin_url)
        try:  # what a PostgreSQL restart does to every pooled connection
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)  # the event loop reads the closed socket
        async with engine.connect() as conn:  # no error: the closed one is dropped at checkout
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        assert second != first
    finally:
        await engine.dispose()


async def test_a_task_cancelled_inside_a_watched_transaction_ends_cancelled(database_url):
    """Cancelling a query invalidates its connection; the watchdog's rollback hook must not then raise in place of
    the CancelledError (a service loop catching Exception would swallow the cancellation and never stop)."""
    import asyncio

    from servicekit.txwatch import TransactionWatch

    engine = create_engine(database_url)
    watch = TransactionWatch(engine, warn_after=0.2)
    started = asyncio.Event()

    async def sleeper() -> None:
        async with engine.begin() as conn:
            started.set()
            await conn.execute(text("SELECT pg_sleep(10)"))

    try:
        task = asyncio.create_task(sleeper())
        await started.wait()
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.3)
        assert watch.report() == 0  # the invalidated connection's transaction is not reported as open
        async with engine.begin() as conn:  # and the pool still serves
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
