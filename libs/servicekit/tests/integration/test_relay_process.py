"""The outbox relay in a child process of its own (servicekit.relay_process), against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from contracts.events.batch import event_bodies
from servicekit.outbox import enqueue
from servicekit.relay_process import RelayConfig, RelayProcess
from sqlalchemy.ext.asyncio import AsyncEngine

from .outbox_support import (
    all_published,
    another_relay_leads,
    chat_events_queue,
    outbox_database,
    session_event,
)

pytestmark = pytest.mark.integration
SCHEMA = "relayproc"


_event = session_event


@pytest_asyncio.fixture(loop_scope="session")
async def db(make_database) -> AsyncIterator[tuple[AsyncEngine, object, str]]:
    async with outbox_database(make_database, SCHEMA) as (engine, table, url):
        yield engine, table, url


@pytest_asyncio.fixture(loop_scope="session")
async def broker(make_vhost):
    async with chat_events_queue(make_vhost, "relay-process-test") as (url, _connection, queue):
        yield url, queue


def _config(database_url: str, amqp_url: str) -> RelayConfig:
    return RelayConfig(name="relaytest", schema_name=SCHEMA, database_url=database_url, amqp_url=amqp_url,
                       publish_timeout=5, broker_max_backoff=1, poll_interval=0.2, max_backoff=1, mark_delay=0.05,
                       log_format="text")


async def _commit(engine: AsyncEngine, table, session_id: int, count: int) -> list[str]:
    ids = []
    for n in range(count):
        async with engine.begin() as conn:
            envelope = _event(session_id, n)
            await enqueue(conn, table, envelope)
            ids.append(str(envelope.event_id))
    return ids


async def _receive_ids(queue, expected: set[str], timeout: float = 20.0) -> list[str]:
    """Event ids in arrival order, until every one of `expected` came (duplicates included)."""
    got: list[str] = []
    async with asyncio.timeout(timeout):
        async with queue.iterator() as it:
            async for message in it:
                async with message.process():  # one event, or a batch of them (RELAY_BATCH_EVENTS)
                    got.extend(json.loads(body)["event_id"] for body in event_bodies(message.type, message.body))
                if expected <= set(got):
                    break
    return got



@contextlib.asynccontextmanager
async def _running(supervisor: RelayProcess) -> AsyncIterator[asyncio.Task[None]]:
    """`supervisor.run()` as a task for the block; cancelled after (which stops its child)."""
    task = asyncio.create_task(supervisor.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _until_pid(supervisor: RelayProcess, not_this: int | None = None) -> int:
    async with asyncio.timeout(10):
        while (pid := supervisor.pid) is None or pid == not_this:
            await asyncio.sleep(0.02)
    return pid


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_the_relay_process_publishes_what_the_service_committed_in_order(db, broker):
    engine, table, db_url = db
    amqp_url, queue = broker
    supervisor = RelayProcess(_config(db_url, amqp_url))
    async with _running(supervisor):
        pid = await _until_pid(supervisor)
        assert pid != os.getpid()
        expected = await _commit(engine, table, 1, 20)
        assert await _receive_ids(queue, set(expected)) == expected
        await all_published(engine, SCHEMA, timeout=10)


async def test_a_killed_relay_process_is_restarted_and_no_event_is_lost_or_delivered_twice(db, broker):
    engine, table, db_url = db
    amqp_url, queue = broker
    supervisor = RelayProcess(_config(db_url, amqp_url), restart_delay=0.1)
    async with _running(supervisor):
        first = await _until_pid(supervisor)
        before = await _commit(engine, table, 2, 30)
        os.kill(first, signal.SIGKILL)  # perhaps mid-round: what it published unmarked goes out again
        during = await _commit(engine, table, 2, 30)  # committed while no relay runs
        second = await _until_pid(supervisor, not_this=first)
        assert supervisor.restarts == 1 and _gone(first) and second != first
        after = await _commit(engine, table, 3, 10)
        expected = before + during + after
        got = await _receive_ids(queue, set(expected))
        deduplicated = list(dict.fromkeys(got))  # what a consumer keeps: the first of each event_id
        assert deduplicated == expected
        await all_published(engine, SCHEMA, timeout=10)


async def test_stopping_the_supervisor_stops_its_relay_process_and_frees_the_leadership(db, broker):
    _engine, _table, db_url = db
    amqp_url, _queue = broker
    supervisor = RelayProcess(_config(db_url, amqp_url))
    task = asyncio.create_task(supervisor.run())
    pid = await _until_pid(supervisor)
    await asyncio.sleep(0.5)  # let it start leading
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert _gone(pid) and supervisor.restarts == 0
    await another_relay_leads(db_url, SCHEMA, _NoSink())


_SERVICE = """
import asyncio, sys
from servicekit.relay_process import RelayConfig, RelayProcess

async def main():
    supervisor = RelayProcess(RelayConfig.model_validate_json(sys.argv[1]))
    task = asyncio.create_task(supervisor.run())
    while supervisor.pid is None:
        await asyncio.sleep(0.02)
    with open(sys.argv[2], "w") as out:
        out.write(str(supervisor.pid))
    await task

asyncio.run(main())
"""


async def test_the_relay_process_ends_when_its_service_is_killed_with_sigkill(db, broker, tmp_path):
    _engine, _table, db_url = db
    amqp_url, _queue = broker
    pid_file = tmp_path / "relay.pid"
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVICE, _config(db_url, amqp_url).model_dump_json(), str(pid_file),
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    try:
        async with asyncio.timeout(20):
            while not pid_file.exists() or not pid_file.read_text():
                await asyncio.sleep(0.05)
        child = int(pid_file.read_text())
        service.kill()  # no shutdown code of the service runs
        await service.wait()
        async with asyncio.timeout(10):
            while not _gone(child):
                await asyncio.sleep(0.05)
    finally:
        if service.returncode is None:
            service.kill()
            await service.wait()
        if "child" in locals() and not _gone(child):
            os.kill(child, signal.SIGKILL)  # left behind by a relay process that does not die with its service


class _NoSink:
    async def publish(self, *_args, **_kwargs) -> None:
        return None


async def test_a_relay_process_that_cannot_be_started_is_tried_again_until_it_starts(db, broker, monkeypatch, caplog):
    _engine, _table, db_url = db
    amqp_url, _queue = broker
    real = sys.executable
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    supervisor = RelayProcess(_config(db_url, amqp_url), restart_delay=0.05)
    async with _running(supervisor) as task:
        async with asyncio.timeout(10):
            while "could not start the outbox relay process" not in caplog.text:
                await asyncio.sleep(0.02)
        assert not task.done()
        monkeypatch.setattr(sys, "executable", real)
        await _until_pid(supervisor)
