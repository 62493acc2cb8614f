"""Detached websockets (transport/detached_websocket.py) over real connections: no task and no aiohttp request
state per open socket, the close handshake both ways, control frames, limits, and the switch that turns it off."""

import asyncio
import json

import aiohttp
import pytest

pytestmark = pytest.mark.integration


async def _open(session: aiohttp.ClientSession, url: str, token: str, **kwargs) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", autoping=False, **kwargs)
    assert (await ws.receive_str(timeout=5)).startswith("0")
    await ws.send_str("40" + json.dumps({"token": token}))
    assert (await ws.receive_str(timeout=5)).startswith("40")
    return ws


async def _no_sockets_left(gw) -> None:
    async with asyncio.timeout(5):
        while gw.gateway.connections.sockets:
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("detached", [True, False])
async def test_an_idle_detached_websocket_holds_no_task_and_no_aiohttp_connection(
    start_gateway, mint, ids, detached: bool
) -> None:
    gw = await start_gateway(detached_websockets=detached)  # broker connected: its channels' tasks are all there
    async with aiohttp.ClientSession() as session:
        first = await _open(session, gw.url, mint.token(ids(), "admin"))  # starts engine.io's service task
        await asyncio.sleep(0.2)
        before = len(asyncio.all_tasks())
        sockets = [await _open(session, gw.url, mint.token(ids(), "admin")) for _ in range(20)]
        await asyncio.sleep(0.3)
        per_socket = (len(asyncio.all_tasks()) - before) / len(sockets)  # aiohttp's client holds none per socket
        held_by_aiohttp = len(gw.runner.server.connections)
        assert gw.gateway.connections.sockets == 21
        await gw.gateway.sio.emit("notification:new", {"notification_id": 7}, to=["admins"])
        for ws in sockets:  # still served: a broadcast reaches every socket
            assert '"notification:new"' in await ws.receive_str(timeout=5)
        for ws in [first, *sockets]:
            await ws.close()
    await _no_sockets_left(gw)
    if detached:
        assert per_socket == 0 and held_by_aiohttp == 0
    else:
        assert per_socket >= 1.9 and held_by_aiohttp == 21  # the request's task and aiohttp's connection task


async def test_a_detached_websocket_serves_events_acks_and_pings_in_order(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    eio = gw.gateway.sio.eio
    eio.ping_interval, eio.ping_timeout = 0.3, 0.3
    async with aiohttp.ClientSession() as session:
        ws = await _open(session, gw.url, mint.token(ids(), "admin"))
        for _ in range(2):  # the wheel's engine.io pings, answered: the socket stays
            assert await ws.receive_str(timeout=5) == "2"
            await ws.send_str("3")
        await ws.ping(b"hello")  # a websocket PING frame is answered with a PONG carrying its payload
        msg = await ws.receive(timeout=5)
        while msg.type is aiohttp.WSMsgType.TEXT and msg.data == "2":
            await ws.send_str("3")
            msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.PONG and msg.data == b"hello"
        assert not ws.closed and gw.gateway.connections.sockets == 1
        await ws.close()
    await _no_sockets_left(gw)


async def test_the_peers_close_frame_is_answered_with_its_code_and_the_session_ends(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    async with aiohttp.ClientSession() as session:
        ws = await _open(session, gw.url, mint.token(ids(), "admin"))
        assert await ws.close(code=4001, message=b"bye")  # True: the server answered the close frame
        assert ws.close_code == 4001
    await _no_sockets_left(gw)


async def test_an_engineio_close_packet_gets_a_close_frame_and_the_connection_ends(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    async with aiohttp.ClientSession() as session:
        ws = await _open(session, gw.url, mint.token(ids(), "admin"))
        await ws.send_str("1")
        msg = await ws.receive(timeout=5)
        while msg.type is aiohttp.WSMsgType.TEXT:  # a disconnect or ping that was already on its way
            msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.OK
        await ws.close()
    await _no_sockets_left(gw)


async def test_a_message_over_the_size_limit_closes_the_socket_with_1009(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    limit = gw.gateway.sio.eio.max_http_buffer_size
    async with aiohttp.ClientSession() as session:
        ws = await _open(session, gw.url, mint.token(ids(), "admin"))
        await ws.send_str("42" + json.dumps(["chat:send", "x" * (limit + 10)]))
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    await _no_sockets_left(gw)


async def test_a_deflate_offer_is_served_attached_when_compression_is_on(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False, websocket_compression=True)
    async with aiohttp.ClientSession() as session:
        ws = await _open(session, gw.url, mint.token(ids(), "admin"), compress=15)
        assert ws.compress  # negotiated: served by `serve_websocket` in its request's task, as before
        assert len(gw.runner.server.connections) == 1
        await gw.gateway.sio.emit("notification:new", {"notification_id": 7}, to=["admins"])
        assert '"notification:new"' in await ws.receive_str(timeout=5)
        await ws.close()
    await _no_sockets_left(gw)


async def test_shutdown_closes_detached_websockets(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    async with aiohttp.ClientSession() as session:
        ws = await _open(session, gw.url, mint.token(ids(), "admin"))
        await gw.stop()
        msg = await ws.receive(timeout=10)
        while msg.type is aiohttp.WSMsgType.TEXT:  # engine.io's CLOSE packet first
            msg = await ws.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
