"""Lean websocket sessions (transport/websocket_session.py) over real websockets: one task per socket, pings from
the wheel, a silent client closed after the ping timeout, a polling socket that upgrades still served."""

import asyncio
import json

import aiohttp
import pytest

pytestmark = pytest.mark.integration


async def _open(session: aiohttp.ClientSession, url: str, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", autoping=False)
    assert (await ws.receive_str(timeout=5)).startswith("0")
    await ws.send_str("40" + json.dumps({"token": token}))
    assert (await ws.receive_str(timeout=5)).startswith("40")
    return ws


@pytest.mark.parametrize("lean, most_tasks_per_socket", [(True, 2.5), (False, 4.5)])
async def test_an_open_websocket_holds_the_requests_tasks_only(
    start_gateway, mint, ids, lean: bool, most_tasks_per_socket: float
) -> None:
    gw = await start_gateway(wait=False, lean_websocket_sessions=lean)
    async with aiohttp.ClientSession() as session:
        await asyncio.sleep(0.2)
        before = len(asyncio.all_tasks())
        sockets = [await _open(session, gw.url, mint.token(ids(), "admin")) for _ in range(20)]
        await asyncio.sleep(0.2)
        # the client side (aiohttp's client) holds no task per open websocket
        per_socket = (len(asyncio.all_tasks()) - before) / len(sockets)
        for ws in sockets:
            await ws.close()
    if lean:
        assert per_socket <= most_tasks_per_socket  # aiohttp's connection task and its request's task
    else:
        assert per_socket >= most_tasks_per_socket  # + engine.io's writer, its per-message reader, its ping task


async def test_the_wheel_pings_an_answering_client_and_closes_a_silent_one(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    eio = gw.gateway.sio.eio
    eio.ping_interval, eio.ping_timeout = 0.3, 0.3
    async with aiohttp.ClientSession() as session:
        answering = await _open(session, gw.url, mint.token(ids(), "admin"))
        silent = await _open(session, gw.url, mint.token(ids(), "admin"))
        for _ in range(3):  # ping, pong, and the next ping comes
            assert await answering.receive_str(timeout=5) == "2"
            await answering.send_str("3")
        assert await silent.receive_str(timeout=5) == "2"
        msg = await silent.receive(timeout=10)  # no PONG: after the ping timeout the server ends the connection
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR), msg
        assert not answering.closed
        await answering.close()
    async with asyncio.timeout(5):
        while gw.gateway.connections.sockets:
            await asyncio.sleep(0.05)


async def test_a_polling_socket_that_upgrades_to_websocket_is_served_by_the_stock_handler(
    start_gateway, mint, ids
) -> None:
    gw = await start_gateway(wait=False)
    url = f"{gw.url}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as res:
            sid = json.loads((await res.text())[1:])["sid"]
        async with session.post(f"{url}&sid={sid}", data="40" + json.dumps({"token": mint.token(ids(), "admin")})):
            pass
        async with session.get(f"{url}&sid={sid}") as res:
            assert (await res.text()).startswith("40")
        ws = await session.ws_connect(
            f"{gw.url}/socket.io/?EIO=4&transport=websocket&sid={sid}", autoping=False)
        await ws.send_str("2probe")
        assert await ws.receive_str(timeout=5) == "3probe"
        await ws.send_str("5")
        await asyncio.sleep(0.1)
        await gw.gateway.sio.emit("notification:new", {"notification_id": 1}, to=["admins"])
        try:
            frames = [await ws.receive_str(timeout=5) for _ in range(2)]
        finally:
            await ws.close()
        # the NOOP that ends the last poll is still queued and goes first, as in stock engine.io
        assert frames == ["6", '42["notification:new",{"notification_id":1}]']
