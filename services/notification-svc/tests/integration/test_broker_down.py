"""Publishing without loss: with RabbitMQ unreachable the API keeps creating notifications, their events wait in
the outbox, and once the broker is reachable again every event goes out exactly once (by the relay), in order.

The broker is made unreachable for this app only, through a TCP proxy (tcp_proxy.py) between the app and the
shared RabbitMQ; the test's own queue is bound directly on the broker before the proxy lets the app through.
"""

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest
from contracts.events.registry import NOTIFICATION_CREATED
from servicekit.ratelimit import RateLimit
from servicekit_testing.tcp_proxy import TcpProxy
from sqlalchemy import text

from .conftest import Event, running, tap

SENDS = 100


def through(proxy: TcpProxy, amqp_url: str) -> str:
    parts = urlsplit(amqp_url)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def wait_until(condition, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def created(event: Event) -> bool:
    return event.envelope.event_type == NOTIFICATION_CREATED


@pytest.mark.parametrize("outage", ["from_start", "after_connecting"])
async def test_with_the_broker_unreachable_sends_succeed_and_all_events_go_out_once_in_order_when_it_is_back(
    mint, make_database, make_vhost, outage
):
    amqp_url = await make_vhost()
    target = urlsplit(amqp_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start(is_open=outage == "after_connecting")
    try:
        async with running(mint, await make_database(), amqp_url, app_amqp_url=through(proxy, amqp_url),
                           wait_broker=outage == "after_connecting",
                           send_rate_limit=RateLimit(requests=SENDS, per_seconds=60)) as svc:  # one admin sends all
            broker = svc.app.state.broker
            if outage == "after_connecting":
                proxy.close()
                await wait_until(lambda: not broker.connected, 5)
            assert not broker.connected

            sender = svc.admin()
            ids = []
            for i in range(SENDS):
                response = await svc.client.post(
                    "/api/v4/notifications/send",
                    json={"type": "system", "title": f"n{i}", "content": "while the broker is down"}, headers=sender,
                )
                # 201 with the broker unreachable: the send never waited for it (a publish would have failed)
                assert response.status_code == 201, response.text
                ids.append(response.json()["notification_id"])

            async with svc.app.state.engine.connect() as conn:
                pending = (await conn.execute(text(
                    "SELECT count(*) FROM notification.outbox WHERE published_at IS NULL"
                    " AND event_type = 'notification.created'"))).scalar()
            assert pending == SENDS  # (each broadcast also announces the sender's new unread badge)
            health = await svc.client.get("/health")
            assert health.status_code == 503 and health.json()["checks"]["broker"] == "fail"

            async with tap(svc.amqp_url) as events:  # bound on the real broker before the app can reach it
                await asyncio.sleep(0.5)
                assert events.events == []
                proxy.open()
                got = await events.expect(SENDS, created, timeout=30, settle=1.5)

            assert [e.envelope.event_type for e in got] == [NOTIFICATION_CREATED] * SENDS
            assert [e.payload.notification.notification_id for e in got] == ids
            assert len({e.envelope.event_id for e in got}) == SENDS
            async with svc.app.state.engine.connect() as conn:
                pending = (await conn.execute(text(
                    "SELECT count(*) FROM notification.outbox WHERE published_at IS NULL"))).scalar()
            assert pending == 0
            assert (await svc.client.get("/health")).status_code == 200
    finally:
        await proxy.stop()
