"""servicekit.heartbeat through build_service, against real PostgreSQL and RabbitMQ: every service process beats
its /health verdict on `platform.health`, non-persistent and with a per-message TTL, also a service without an
outbox; a process whose database is gone beats `healthy: false`."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import aio_pika
import pytest
from contracts.events.topology import HEALTH_EXCHANGE
from servicekit.amqp import connect, declare_exchanges
from servicekit.service import HeartbeatSettings, ServiceSettings, build_service
from servicekit_testing.tcp_proxy import TcpProxy

from .test_migrations import write_scripts
from .test_service_skeleton import router

pytestmark = pytest.mark.integration


class ToySettings(ServiceSettings, HeartbeatSettings):
    pass


async def _listen(vhost: str) -> tuple[aio_pika.abc.AbstractRobustConnection, asyncio.Queue[aio_pika.abc.AbstractIncomingMessage]]:
    connection = await connect(vhost, name="heartbeat-test")
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(HEALTH_EXCHANGE, routing_key="health.service_heartbeat")
    received: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()
    await queue.consume(received.put, no_ack=True)
    return connection, received


async def test_a_service_without_an_outbox_beats_its_health_verdict_non_persistent_with_a_ttl(
    make_database, make_vhost, tmp_path
):
    vhost = await make_vhost()
    connection, received = await _listen(vhost)
    settings = ToySettings(database_url=await make_database(), amqp_url=vhost, heartbeat_seconds=0.2)
    app = build_service("toy-svc", settings, schema="toy", migrations=write_scripts(tmp_path / "alembic", "toy"),
                        routers=[router])
    try:
        async with app.router.lifespan_context(app):
            first = await asyncio.wait_for(received.get(), 10)
            second = await asyncio.wait_for(received.get(), 10)
    finally:
        await connection.close()

    envelope = json.loads(first.body)
    beat = envelope["payload"]
    assert (envelope["event_type"], envelope["producer"]) == ("health.service_heartbeat", "toy-svc")
    assert (beat["service"], beat["healthy"], beat["checks"]) == ("toy-svc", True, {"database": True})
    assert beat["instance_id"].startswith("toy-svc-") and json.loads(second.body)["payload"]["instance_id"] == beat["instance_id"]
    assert first.delivery_mode == aio_pika.DeliveryMode.NOT_PERSISTENT
    assert first.expiration is not None and float(first.expiration) == pytest.approx(beat["ttl_seconds"])


async def test_a_process_whose_database_is_gone_beats_unhealthy_saying_which_check_failed(
    make_database, make_vhost, tmp_path
):
    vhost = await make_vhost()
    database_url = await make_database()
    target = urlsplit(database_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start(is_open=True)
    connection, received = await _listen(vhost)
    settings = ToySettings(database_url=proxy.url_through(database_url), amqp_url=vhost, heartbeat_seconds=0.2)
    app = build_service("toy-svc", settings, schema="toy", migrations=write_scripts(tmp_path / "alembic", "toy"),
                        routers=[router])
    try:
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(received.get(), 10)
            proxy.close()
            async with asyncio.timeout(20):
                while (beat := json.loads((await received.get()).body)["payload"])["healthy"]:
                    pass
    finally:
        await connection.close()
        await proxy.stop()
    assert beat["checks"] == {"database": False}
