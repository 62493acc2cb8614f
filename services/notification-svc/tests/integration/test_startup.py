"""Start-up: the schema Alembic builds is the one db.py describes, and /health reports every link."""

import asyncio
import os
import signal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from contracts.events.registry import NOTIFICATION_CREATED
from notification_svc.db import SCHEMA, metadata
from servicekit.relay_process import RelayProcess
from servicekit_testing.metrics import value
from sqlalchemy import text

from .conftest import new_id, running, tap


async def test_migrations_build_exactly_the_tables_of_db_py_inside_schema_notification(service):
    def include_name(name, type_, parents):
        return name == SCHEMA if type_ == "schema" else name != "alembic_version"

    def diff(sync_conn):
        context = MigrationContext.configure(
            sync_conn, opts={"include_schemas": True, "include_name": include_name, "compare_type": True}
        )
        return compare_metadata(context, metadata)

    async with service.app.state.engine.connect() as conn:
        differences = await conn.run_sync(diff)
        version = (await conn.execute(text("SELECT version_num FROM notification.alembic_version"))).scalar_one()
    assert differences == []
    assert version == "0007"


async def test_health_checks_the_database_the_broker_link_and_the_relay(service):
    response = await service.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "service": "notification-svc",
        "checks": {"database": "ok", "broker": "ok", "outbox_relay": "ok"},
    }


async def test_old_published_events_and_idempotency_keys_are_pruned_while_it_runs(mint, make_database, make_vhost):
    import asyncio
    from datetime import UTC, datetime, timedelta

    from .conftest import running

    async with running(mint, await make_database(), await make_vhost(), retention_interval_seconds=0.2) as service:
        engine = service.app.state.engine
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            for event_type, age in [("old", timedelta(days=8)), ("recent", timedelta(hours=1))]:
                await conn.execute(text(
                    "INSERT INTO notification.outbox (event_id, event_type, exchange, routing_key, aggregate_id, body,"
                    " published_at) VALUES (gen_random_uuid(), :t, 'notification.events', :t, '1', '{}',"
                    " :at)"), {"t": event_type, "at": now - age})
                await conn.execute(text(
                    "INSERT INTO notification.idempotency_keys (user_id, key, fingerprint, status, body, created_at)"
                    " VALUES (1, :k, 'f', 201, '{}', :at)"),
                    {"k": event_type, "at": now - (timedelta(days=2) if event_type == "old" else age)})

        async def left() -> list[list[str]]:
            async with engine.connect() as conn:
                outbox = (await conn.execute(text("SELECT event_type FROM notification.outbox"))).scalars()
                keys = (await conn.execute(text("SELECT key FROM notification.idempotency_keys"))).scalars()
                return [sorted(outbox), sorted(keys)]

        async with asyncio.timeout(10):
            while await left() != [["recent"], ["recent"]]:
                await asyncio.sleep(0.1)


async def test_its_outbox_relay_runs_in_a_process_of_its_own_that_publishes_what_a_send_committed_and_stops_with_it(
    mint, make_database, make_vhost,
):
    async with running(mint, await make_database(), await make_vhost()) as svc:
        supervisor = svc.app.state.relay
        assert isinstance(supervisor, RelayProcess)
        pid = supervisor.pid
        assert pid is not None and pid != os.getpid()
        async with tap(svc.amqp_url) as events:
            response = await svc.client.post(
                "/api/v4/notifications/send", headers=svc.admin(),
                json={"type": "order", "title": "t", "content": "c", "target_user_id": new_id()},
            )
            assert response.status_code == 201, response.text
            notification_id = response.json()["notification_id"]
            [event] = await events.expect(1, lambda e: e.envelope.event_type == NOTIFICATION_CREATED
                                          and e.payload.notification.notification_id == notification_id)
        assert event.envelope.producer == "notification-svc"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the shutdown stopped (and reaped) it


async def test_a_dead_relay_process_shows_in_health_and_metrics_until_it_is_running_again(
    mint, make_database, make_vhost,
):
    async with running(mint, await make_database(), await make_vhost()) as svc:
        supervisor = svc.app.state.relay
        metrics = (await svc.client.get("/metrics")).text
        assert (value(metrics, "outbox_relay_process_up"), value(metrics, "outbox_relay_process_restarts")) == (1, 0)
        supervisor._restart_delay = 2.0  # a restart that waits long enough to read what is shown meanwhile
        first = supervisor.pid
        os.kill(first, signal.SIGKILL)
        async with asyncio.timeout(10):
            while supervisor.pid is not None:
                await asyncio.sleep(0.02)
        health = await svc.client.get("/health")
        assert health.status_code == 503, health.text
        assert health.json()["checks"]["outbox_relay"] == "fail"
        assert value((await svc.client.get("/metrics")).text, "outbox_relay_process_up") == 0
        async with asyncio.timeout(10):
            while supervisor.pid is None:
                await asyncio.sleep(0.05)
        assert supervisor.pid != first
        assert (await svc.client.get("/health")).status_code == 200
        metrics = (await svc.client.get("/metrics")).text
        assert (value(metrics, "outbox_relay_process_up"), value(metrics, "outbox_relay_process_restarts")) == (1, 1)
