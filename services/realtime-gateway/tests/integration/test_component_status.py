"""Issue 19: a gateway that loses RabbitMQ tells its admins (`system:status_change`, `degraded`), and tells them
again once RabbitMQ has been back for a while (`operational`); end users hear nothing of it. RabbitMQ is made
unreachable for this gateway only, through a TCP proxy."""

from urllib.parse import urlsplit

import pytest
from servicekit_testing.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


async def test_a_gateway_without_rabbitmq_tells_its_admins_it_is_degraded_then_operational_once_back(
    start_gateway, connect_client, vhost
):
    target = urlsplit(vhost)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start(is_open=True)
    try:
        gw = await start_gateway(amqp_url=proxy.url_through(vhost), status_degraded_after_seconds=0.5,
                                 status_operational_after_seconds=0.5, status_check_seconds=0.1)
        admin = await connect_client(gw, 1, "admin")
        user = await connect_client(gw, 2, "user")

        proxy.close()
        (degraded,) = await admin.wait_for("system:status_change", timeout=15)
        proxy.open()
        changes = await admin.wait_for("system:status_change", count=2, timeout=60)

        assert (degraded["component"], degraded["status"], degraded["code"]) == (
            "realtime-gateway", "degraded", "broker_connection_lost")
        assert (changes[1]["status"], changes[1]["code"]) == ("operational", "broker_connection_restored")
        assert user.events("system:status_change") == []
    finally:
        await proxy.stop()


async def test_an_admin_connecting_while_the_gateway_is_without_rabbitmq_is_told_so_right_after_connect(
    start_gateway, connect_client, vhost
):
    target = urlsplit(vhost)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start(is_open=True)
    try:
        gw = await start_gateway(amqp_url=proxy.url_through(vhost), status_degraded_after_seconds=0.5,
                                 status_operational_after_seconds=30, status_check_seconds=0.1)
        first = await connect_client(gw, 1, "admin")
        proxy.close()
        await first.wait_for("system:status_change", timeout=15)
        late = await connect_client(gw, 2, "admin")
        (told,) = await late.wait_for("system:status_change", timeout=5)
    finally:
        await proxy.stop()

    assert (told["component"], told["status"], told["code"]) == (
        "realtime-gateway", "degraded", "broker_connection_lost")
