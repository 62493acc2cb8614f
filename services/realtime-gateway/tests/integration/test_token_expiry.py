"""A socket does not outlive its token: at `exp` it gets `system:token_expired` and is disconnected; a socket
whose token is still valid stays (clients/token_expiry.py)."""

import asyncio
import time

import pytest

pytestmark = pytest.mark.integration


async def test_a_socket_is_told_and_disconnected_when_its_token_expires(start_gateway, connect_client, mint, ids):
    gw = await start_gateway()
    user = ids()
    short = await connect_client(gw, user, "user", token=mint.token(user, "user", exp=int(time.time()) + 2))
    other = ids()
    lasting = await connect_client(gw, other, "user")  # an hour
    gone = asyncio.Event()
    short.sio.on("disconnect", lambda *args: gone.set())

    (told,) = await short.wait_for("system:token_expired", timeout=10)
    await asyncio.wait_for(gone.wait(), 5)
    assert told["code"] == "token_expired" and told["expired_at"].endswith("+08:00")
    assert not short.sio.connected
    assert lasting.sio.connected and not lasting.events("system:token_expired")
    assert gw.gateway.connections.sockets == 1
    assert len(gw.gateway.token_expiry) == 1  # only the lasting socket is still watched


async def test_a_socket_that_left_before_its_token_expired_is_forgotten(start_gateway, connect_client, mint, ids):
    gw = await start_gateway()
    user = ids()
    client = await connect_client(gw, user, "user", token=mint.token(user, "user", exp=int(time.time()) + 60))
    assert len(gw.gateway.token_expiry) == 1
    await client.sio.disconnect()
    await asyncio.sleep(0.2)
    assert len(gw.gateway.token_expiry) == 0
