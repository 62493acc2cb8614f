"""Issue 19: gateways turn the platform services' heartbeats (`health.service_heartbeat`, published here the way
servicekit.heartbeat does) into `system:status_change` for their own admins: once each way per console even with
two gateways, a console connecting during an outage is told at once, end users hear nothing."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from contracts.events import registry as r
from contracts.events.payloads import ServiceHeartbeat
from contracts.time import now_beijing

pytestmark = pytest.mark.integration

STATUS = "system:status_change"
FAST = {"status_services": ["chat-svc"], "service_degraded_after_seconds": 0.5,
        "service_operational_after_seconds": 1.0, "status_check_seconds": 0.1}


@contextlib.asynccontextmanager
async def beating(broker, healthy: bool = True) -> AsyncIterator[None]:
    """chat-svc's one process beating every 0.1 s (TTL 0.3 s) while the block runs."""

    async def beat() -> None:
        while True:
            payload = ServiceHeartbeat(service="chat-svc", instance_id="chat-svc-test-1", healthy=healthy,
                                       checks={"database": healthy}, at=now_beijing(), ttl_seconds=0.3)
            await broker.publish(r.HEALTH_SERVICE_HEARTBEAT, payload)
            await asyncio.sleep(0.1)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_admins_of_two_gateways_each_hear_once_that_a_silent_service_is_degraded_and_once_that_it_is_back(
    start_gateway, connect_client, broker
):
    first, second = await start_gateway(**FAST), await start_gateway(**FAST)
    async with beating(broker):
        await asyncio.sleep(0.5)
        admins = [await connect_client(first, 1, "admin"), await connect_client(second, 2, "admin")]
        user = await connect_client(first, 3, "user")
    # silent now
    for admin in admins:
        await admin.wait_for(STATUS, timeout=15)
    async with beating(broker):
        for admin in admins:
            await admin.wait_for(STATUS, count=2, timeout=15)

    for admin in admins:
        assert [(d["component"], d["status"], d["code"]) for d in admin.events(STATUS)] == [
            ("chat-svc", "degraded", "service_unavailable"), ("chat-svc", "operational", "service_restored")]
    assert user.events(STATUS) == []


async def test_a_service_beating_unhealthy_is_degraded_and_an_admin_connecting_then_is_told_right_after_connect(
    start_gateway, connect_client, broker
):
    gw = await start_gateway(**FAST)
    async with beating(broker, healthy=False):
        admin = await connect_client(gw, 1, "admin")
        await admin.wait_for(STATUS, timeout=15)
        late = await connect_client(gw, 2, "admin")
        late_user = await connect_client(gw, 3, "user")
        (told,) = await late.wait_for(STATUS, timeout=5)

    assert (told["component"], told["status"], told["params"]) == ("chat-svc", "degraded", {"service": "chat-svc"})
    assert late_user.events(STATUS) == []
