"""The outbox relay against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from servicekit.amqp import Publisher, PublishFailed
from servicekit.outbox import OutboxRelay, asyncpg_dsn, enqueue
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .outbox_support import (
    all_published,
    another_relay_leads,
    chat_events_queue,
    outbox_database,
    pending_rows,
    session_event,
)

pytestmark = pytest.mark.integration
SCHEMA = "relaytest"


_event = session_event


@pytest_asyncio.fixture(loop_scope="session")
async def db(make_database) -> AsyncIterator[tuple[AsyncEngine, object]]:
    async with outbox_database(make_database, SCHEMA) as (engine, table, _url):
        yield engine, table


@pytest_asyncio.fixture(loop_scope="session")
async def broker(make_vhost):
    async with chat_events_queue(make_vhost, "outbox-test") as (_url, connection, queue):
        yield connection, queue


async def _received(queue, count: int, timeout: float = 10.0) -> list[dict]:
    bodies: list[dict] = []
    async with asyncio.timeout(timeout):
        async with queue.iterator() as it:
            async for message in it:
                async with message.process():
                    bodies.append(json.loads(message.body))
                if len(bodies) == count:
                    break
    return bodies


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(db, broker):
    engine, table = db
    connection, queue = broker
    expected = []
    for n in range(30):
        async with engine.begin() as conn:
            envelope = _event(1, n)
            await enqueue(conn, table, envelope)
            expected.append(str(envelope.event_id))
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await enqueue(conn, table, _event(1, 999))
            raise RuntimeError("rollback")

    publisher = Publisher(connection)
    await publisher.start()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, publisher, batch_size=7)
    task = asyncio.create_task(relay.run())
    try:
        bodies = await _received(queue, 30)
        assert [b["event_id"] for b in bodies] == expected
        # a later commit wakes the relay through NOTIFY, well before its 1 s poll
        async with engine.begin() as conn:
            late = _event(2, 0)
            await enqueue(conn, table, late)
        [body] = await _received(queue, 1, timeout=0.9)
        assert body["event_id"] == str(late.event_id)
        # rows are marked after the confirm, which may come just after the consumer saw the message
        await all_published(engine, SCHEMA, timeout=5)
    finally:
        task.cancel()
    assert await queue.get(fail=False) is None  # the rolled-back event never left




class FlakySink:
    """Refuses every publish while ``down``; records what it accepted (the relay's view of a dead broker)."""

    def __init__(self) -> None:
        self.down = True
        self.accepted: list[str] = []

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        await asyncio.sleep(0)
        if self.down:
            raise PublishFailed("broker unreachable")
        self.accepted.append(message_id)


async def test_events_wait_while_the_broker_refuses_then_go_out_once_in_order(db):
    engine, table = db
    expected = []
    for n in range(100):
        async with engine.begin() as conn:
            envelope = _event(n % 3 + 10, n)
            await enqueue(conn, table, envelope)
            expected.append(str(envelope.event_id))
    sink = FlakySink()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, max_backoff=0.2)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)
        assert sink.accepted == []
        sink.down = False
        async with asyncio.timeout(10):
            while len(sink.accepted) < len(expected):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
    assert sink.accepted == expected  # each once, in commit order


async def test_the_wait_between_attempts_grows_while_the_broker_refuses_and_resets_once_it_confirms(db, caplog):
    engine, table = db
    async with engine.begin() as conn:
        await enqueue(conn, table, _event(10, 0))
    sink = FlakySink()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, max_backoff=0.8)
    caplog.set_level(logging.WARNING, logger="servicekit.outbox")
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(10):
            while len(_retry_waits(caplog)) < 4:
                await asyncio.sleep(0.05)
        sink.down = False
        async with asyncio.timeout(10):
            while not sink.accepted:
                await asyncio.sleep(0.05)
        async with engine.begin() as conn:
            await enqueue(conn, table, _event(10, 1))
        async with asyncio.timeout(10):
            while len(sink.accepted) < 2:
                await asyncio.sleep(0.05)
        sink.down = True
        async with engine.begin() as conn:
            await enqueue(conn, table, _event(10, 2))
        async with asyncio.timeout(10):
            while len(_retry_waits(caplog)) < 5:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
    waits = _retry_waits(caplog)
    assert waits[:4] == ["0.2", "0.4", "0.8", "0.8"]  # not a warning and a fresh attempt every 0.2 s
    assert waits[4] == "0.2"  # a new outage after confirms starts from the short wait again


def _retry_waits(caplog) -> list[str]:
    return [r.getMessage().rsplit(" ", 1)[-1].removesuffix("s") for r in caplog.records
            if "broker not confirming" in r.getMessage()]


async def test_an_unexpected_error_on_the_relay_connection_does_not_stop_the_relay(db, caplog):
    """asyncpg can leave a connection in a state it refuses to use again ("cannot switch to state 12; another
    operation is in progress", seen during a PostgreSQL restart). The relay drops that connection and leads
    again; it must never end, or events stay in the outbox until someone restarts the service."""
    import asyncpg

    engine, table = db
    async with engine.begin() as conn:
        envelope = _event(42, 1)
        await enqueue(conn, table, envelope)

    class BrokenOnce(OutboxRelay):
        broken = False

        async def _fetch(self, conn, inflight, limit, confirmed):
            if not self.broken:
                self.broken = True
                raise asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2)")
            return await super()._fetch(conn, inflight, limit, confirmed)

    sink = FlakySink()
    sink.down = False
    relay = BrokenOnce(engine.url.render_as_string(hide_password=False), SCHEMA, sink, max_backoff=0.2)
    task = asyncio.create_task(relay.run())
    try:
        with caplog.at_level("WARNING", logger="servicekit.outbox"):
            async with asyncio.timeout(10):
                while str(envelope.event_id) not in sink.accepted:
                    assert not task.done(), task
                    await asyncio.sleep(0.05)
        assert relay.broken and not task.done()
        assert any("InternalClientError" in r.getMessage() or r.exc_info for r in caplog.records)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_only_one_relay_leads_a_schema(db):
    engine, _ = db
    url = engine.url.render_as_string(hide_password=False)
    first = OutboxRelay(url, SCHEMA, FlakySink(), poll_interval=0.1)
    second = OutboxRelay(url, SCHEMA, FlakySink(), poll_interval=0.1)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        await asyncio.sleep(0.5)
        assert [first.is_leader, second.is_leader].count(True) == 1
        leader = tasks[0] if first.is_leader else tasks[1]
        follower = second if first.is_leader else first
        leader.cancel()
        async with asyncio.timeout(5):
            while not follower.is_leader:
                await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()


def test_asyncpg_dsn_drops_the_sqlalchemy_driver():
    assert asyncpg_dsn("postgresql+asyncpg://u:p@h:5432/d") == "postgresql://u:p@h:5432/d"


async def _empty_outbox(engine: AsyncEngine) -> None:
    """Earlier tests leave rows."""
    async with engine.begin() as conn:
        await conn.execute(text(f"DELETE FROM {SCHEMA}.outbox"))


class SlowFirstConfirm:
    """The broker's confirm of the first event takes a while; the others are confirmed at once."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.release = asyncio.Event()

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        self.sent.append(message_id)
        if len(self.sent) == 1:
            await self.release.wait()


async def test_a_slow_confirm_does_not_hold_back_later_events_and_rows_are_marked_in_order(db):
    engine, table = db
    await _empty_outbox(engine)
    sink = SlowFirstConfirm()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink)
    task = asyncio.create_task(relay.run())
    try:
        expected = []
        for n in range(5):  # committed one after another, each waking the relay
            async with engine.begin() as conn:
                envelope = _event(20, n)
                await enqueue(conn, table, envelope)
                expected.append(str(envelope.event_id))
            await asyncio.sleep(0.05)
        async with asyncio.timeout(5):
            while len(sink.sent) < 5:
                await asyncio.sleep(0.02)
        assert sink.sent == expected  # all out while the first is still unconfirmed
        assert await pending_rows(engine, SCHEMA) == 5  # nothing marked past an unconfirmed event
        sink.release.set()
        await all_published(engine, SCHEMA, timeout=5)
        assert sink.sent == expected  # and nothing sent twice
    finally:
        task.cancel()


class CountingSink:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        self.sent.append(message_id)


async def test_the_outbox_is_read_when_rows_commit_not_again_for_each_confirm(db):
    engine, table = db
    await _empty_outbox(engine)
    sink = CountingSink()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, poll_interval=30)
    reads = 0
    fetch = relay._fetch

    async def counted(*args, **kwargs):
        nonlocal reads
        reads += 1
        return await fetch(*args, **kwargs)

    relay._fetch = counted  # type: ignore[method-assign]
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(5):
            while not relay.is_leader or reads < 1:
                await asyncio.sleep(0.02)
        for n in range(5):  # one at a time: each commit wakes the relay once
            async with engine.begin() as conn:
                await enqueue(conn, table, _event(30, n))
            await all_published(engine, SCHEMA, timeout=5)
        assert len(sink.sent) == 5
        assert reads == 1 + 5  # the first look, then one per commit; a confirm only marks
    finally:
        task.cancel()


class StaggeredConfirms:
    """The broker confirms each event a little after the previous one, as it does under load."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        self.sent.append(message_id)
        await asyncio.sleep(0.003 * len(self.sent))


async def test_confirms_arriving_one_after_another_are_marked_by_a_few_updates_not_one_each(db):
    engine, table = db
    await _empty_outbox(engine)
    sink = StaggeredConfirms()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, poll_interval=30,
                        mark_delay=0.05)
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(5):
            while not relay.is_leader:
                await asyncio.sleep(0.02)
        async with engine.begin() as conn:
            for n in range(40):
                await enqueue(conn, table, _event(40, n))
        await all_published(engine, SCHEMA, timeout=10)
        assert len(sink.sent) == 40 and relay.published == 40
        assert relay.marks <= 10  # 40 confirms 3 ms apart, gathered for 50 ms: a few UPDATEs, not 40
    finally:
        task.cancel()


class BlockedChannel:
    """A confirming channel as aio-pika has it: publishes take turns in the order they asked (a FIFO lock), and a
    broker applying back-pressure takes nothing until `flowing`. Like `Publisher.publish`, a publish gives up after
    its `timeout` (1 s unless the caller says otherwise), wherever it is: still in line, or sent."""

    def __init__(self) -> None:
        self.turn = asyncio.Lock()
        self.flowing = asyncio.Event()
        self.sent: list[str] = []

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout="configured",
                      routed_after_reconnect=False) -> None:
        async with asyncio.timeout(1.0 if timeout == "configured" else timeout):
            async with self.turn:
                await self.flowing.wait()
                self.sent.append(message_id)


async def test_an_event_stuck_in_the_channels_line_past_the_publish_timeout_never_lets_later_ones_out_first(db):
    """Under back-pressure the oldest event waits past the deadline while a later one (of a later relay round) is
    still within its own: the later one must not go out before the earlier one is published again."""
    engine, table = db
    await _empty_outbox(engine)
    sink = BlockedChannel()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, publish_timeout=1.0,
                        max_backoff=0.2)
    task = asyncio.create_task(relay.run())
    try:
        expected = []
        for n in range(2):  # two commits, two relay rounds: their publishes start 0.6 s apart
            async with engine.begin() as conn:
                envelope = _event(30, n)
                await enqueue(conn, table, envelope)
                expected.append(str(envelope.event_id))
            await asyncio.sleep(0.6 if n == 0 else 0.7)
        sink.flowing.set()  # the first is past its deadline (1 s), the second is not
        await all_published(engine, SCHEMA, timeout=10)
        assert list(dict.fromkeys(sink.sent)) == expected
    finally:
        task.cancel()


async def test_rows_confirmed_before_a_commit_are_marked_by_the_statement_that_fetches_the_next_ones(db, monkeypatch):
    """Each relay statement is a transaction of its own (~0.5 ms of PostgreSQL CPU each): while rows keep committing,
    the UPDATE marking the previous ones rides on the SELECT of the next ones instead of being a second statement."""
    import asyncpg
    from servicekit import outbox as outbox_module

    engine, table = db
    await _empty_outbox(engine)
    statements: list[str] = []
    connect = asyncpg.connect

    async def logged(*args, **kwargs):
        conn = await connect(*args, **kwargs)
        conn.add_query_logger(lambda record: statements.append(record.query) if ".outbox" in record.query else None)
        return conn

    monkeypatch.setattr(outbox_module.asyncpg, "connect", logged)
    sink = CountingSink()
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, poll_interval=30,
                        mark_delay=1.0)
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(5):
            while not relay.is_leader or relay.fetches < 1:
                await asyncio.sleep(0.02)
        commits = 6
        for n in range(commits):  # each commit after the previous row's confirm (within the 1 s mark delay)
            async with engine.begin() as conn:
                await enqueue(conn, table, _event(50, n))
            async with asyncio.timeout(5):
                while len(sink.sent) < n + 1:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
        await all_published(engine, SCHEMA, timeout=5)
        assert len(sink.sent) == commits and relay.published == commits
        # the first look, one statement per commit (its fetch marks the previous row), one UPDATE for the last row
        await asyncio.sleep(0.05)  # asyncpg calls query loggers a loop turn after the query
        assert len(statements) == 1 + commits + 1, statements
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class ThreadSafeRecorder:
    """A broker for a relay on its own thread: records what it was asked to publish, and on which thread."""

    def __init__(self) -> None:
        import threading

        self.sent: list[str] = []
        self.threads: set[int] = set()
        self.got_one = threading.Event()
        self.closed = False

    async def start(self) -> None:
        pass

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        import threading

        self.threads.add(threading.get_ident())
        self.sent.append(message_id)
        self.got_one.set()

    async def close(self) -> None:
        self.closed = True


async def test_a_relay_on_its_own_thread_publishes_while_the_service_loop_is_blocked_and_stops_when_cancelled(db):
    import threading

    from servicekit.relay_thread import RelayThread

    engine, table = db
    await _empty_outbox(engine)
    sink = ThreadSafeRecorder()
    url = engine.url.render_as_string(hide_password=False)
    relay = OutboxRelay(url, SCHEMA, sink, poll_interval=30)
    task = asyncio.create_task(RelayThread(relay, sink, name="relaytest").run())  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(10):
            while not relay.is_leader:
                await asyncio.sleep(0.02)
        async with engine.begin() as conn:
            envelope = _event(60, 1)
            await enqueue(conn, table, envelope)
        # This loop does nothing until the event is out: only a relay with a loop of its own can publish it.
        assert sink.got_one.wait(timeout=10)
        assert sink.sent == [str(envelope.event_id)]
        assert sink.threads and threading.get_ident() not in sink.threads
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sink.closed
    assert not any(t.name == "relaytest-outbox-relay" for t in threading.enumerate())
    # its connection (and advisory lock) went with it: another relay leads at once
    await another_relay_leads(url, SCHEMA, CountingSink())


class FailsThenHangs:
    """A broker going away as the relay saw it in the fault test: of the first `round` publishes, the first fails
    and the ones after it never finish (a channel being restored that never answers them); every later publish
    goes through (the broker is back)."""

    def __init__(self, round: int) -> None:
        self.round = round
        self.calls = 0
        self.sent: list[str] = []

    async def publish(self, exchange, routing_key, body, *, message_id, message_type, timeout=None,
                      routed_after_reconnect=False) -> None:
        self.calls += 1
        if self.calls == 1:
            raise PublishFailed("connection lost")
        if self.calls <= self.round:
            await asyncio.Event().wait()  # hangs: only cancellation ends it
        self.sent.append(message_id)


async def test_a_failed_publish_with_later_ones_hanging_does_not_stop_the_relay(db):
    """After a failure the relay used to wait for every later publish of the round to finish, however long: a
    publish that never finished stopped the relay for good (notifications lost in the RabbitMQ fault test)."""
    engine, table = db
    await _empty_outbox(engine)
    expected = []
    for n in range(5):
        async with engine.begin() as conn:
            envelope = _event(40, n)
            await enqueue(conn, table, envelope)
            expected.append(str(envelope.event_id))
    sink = FailsThenHangs(round=len(expected))
    relay = OutboxRelay(engine.url.render_as_string(hide_password=False), SCHEMA, sink, publish_timeout=30.0,
                        max_backoff=0.2)
    task = asyncio.create_task(relay.run())
    try:
        await all_published(engine, SCHEMA, timeout=5)  # well before the 30 s publish deadline would have freed it
        assert list(dict.fromkeys(sink.sent)) == expected
    finally:
        task.cancel()
