"""The fan-out fast path on a real gateway, seen by raw Engine.IO clients: a websocket client reads frames as
they are on the wire, a polling client reads its payloads; a third raw client never reads (slow consumer)."""

import asyncio
import json
import os
import re
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from engineio import packet as eio_packet
from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.fanout import FanOutManager
from socketio import packet as sio_packet

pytestmark = pytest.mark.integration

EVENT = "notification:broadcast"


class RawWebSocket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self) -> str:
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), 5)
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            if msg.data == "2":
                await self.ws.send_str("3")
                continue
            return msg.data


async def raw_websocket(session: aiohttp.ClientSession, url: str, token: str) -> tuple[RawWebSocket, str]:
    ws = await session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", autoping=False)
    client = RawWebSocket(ws)
    eio_sid = json.loads((await client.frame())[1:])["sid"]
    await ws.send_str("40" + json.dumps({"token": token}))
    assert (await client.frame()).startswith("40")
    return client, eio_sid


class RawPolling:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url, self.sid = session, f"{url}/socket.io/?EIO=4&transport=polling", ""
        self.pending: list[str] = []

    async def open(self, token: str) -> str:
        async with self.session.get(self.url) as res:
            self.sid = json.loads((await res.text())[1:])["sid"]
        async with self.session.post(f"{self.url}&sid={self.sid}", data="40" + json.dumps({"token": token})) as res:
            assert res.status == 200
        assert (await self.packet()).startswith("40")
        return self.sid

    async def close(self) -> None:
        """Engine.IO CLOSE, so the gateway does not wait for this client at shutdown."""
        async with self.session.post(f"{self.url}&sid={self.sid}", data="1"):
            pass

    async def packet(self) -> str:
        while not self.pending:
            async with self.session.get(f"{self.url}&sid={self.sid}", timeout=aiohttp.ClientTimeout(total=10)) as res:
                self.pending = [p for p in (await res.text()).split("\x1e") if p not in ("6", "2")]
        return self.pending.pop(0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def expected_text(sio: Any, *args: Any) -> str:
    """What python-socketio's stock path sends for `emit(*args)`: '4' + the Socket.IO packet."""
    return "4" + sio.packet_class(sio_packet.EVENT, namespace="/", data=list(args)).encode()


async def test_a_broadcast_is_the_same_bytes_on_websocket_and_polling_and_keeps_order_with_other_emits(
    start_gateway, mint, ids, session
) -> None:
    # engine.io's stock websocket handler (a writer task draining the queue): a packet on the normal path is queued
    # and later broadcasts queue behind it. Lean sessions push it at once (the next test).
    gw = await start_gateway(wait=False, lean_websocket_sessions=False)
    sio = gw.gateway.sio
    manager: FanOutManager = sio.manager
    ws, ws_eio_sid = await raw_websocket(session, gw.url, mint.token(ids(), "admin"))
    polling = RawPolling(session, gw.url)
    poll_eio_sid = await polling.open(mint.token(ids(), "admin"))
    try:
        await _same_bytes_in_order(sio, manager, ws, ws_eio_sid, polling, poll_eio_sid)
    finally:
        await polling.close()
        await ws.ws.close()


async def test_a_lean_websocket_session_pushes_normal_path_packets_at_once_in_order_with_broadcasts(
    start_gateway, mint, ids, session
) -> None:
    gw = await start_gateway(wait=False)  # lean websocket sessions: the default
    sio = gw.gateway.sio
    manager: FanOutManager = sio.manager
    ws, ws_eio_sid = await raw_websocket(session, gw.url, mint.token(ids(), "admin"))
    try:
        direct_before = manager.stats.direct
        data = {"notification_id": 1, "title": "维护通知"}
        await sio.emit(EVENT, data, to=["admins"])
        await sio.eio.send_packet(ws_eio_sid, eio_packet.Packet(eio_packet.MESSAGE, '2["other",1]'))
        await sio.emit(EVENT, {**data, "notification_id": 2}, to=["admins"])
        assert [await ws.frame() for _ in range(3)] == [
            expected_text(sio, EVENT, data), '42["other",1]', expected_text(sio, EVENT, {**data, "notification_id": 2})]
        assert manager.stats.direct == direct_before + 2  # "other" was written at once: nothing left queued
        assert sio.eio.sockets[ws_eio_sid].queue.idle
    finally:
        await ws.ws.close()


async def _same_bytes_in_order(sio, manager, ws, ws_eio_sid, polling, poll_eio_sid) -> None:
    ws_sid = manager.sid_from_eio_sid(ws_eio_sid, "/")
    await asyncio.sleep(0.05)  # the websocket's writer parks in queue.get()
    direct_before = manager.stats.direct

    data = {"notification_id": 1, "title": "维护通知", "content": "tonight"}
    sent: list[str] = []
    # 1. a broadcast (with an offset argument, as recovery sends it): direct to the websocket
    await sio.emit(EVENT, (data, "1700000000000-0"), to=["admins"])
    sent.append(expected_text(sio, EVENT, data, "1700000000000-0"))
    assert manager.stats.direct == direct_before + 1
    # 2. a packet on the normal path (engine.io's queue), then at once a broadcast: it must not overtake it
    await sio.eio.send_packet(ws_eio_sid, eio_packet.Packet(eio_packet.MESSAGE, '2["other",1]'))
    await sio.emit(EVENT, {**data, "notification_id": 2}, to=["admins"])
    # 3. an emit to the websocket's own sid, between broadcasts
    await sio.emit("notification:new", {"notification_id": 3}, to=ws_sid)
    await sio.emit(EVENT, {**data, "notification_id": 4}, to=["admins"])

    ws_got = [await ws.frame() for _ in range(5)]
    assert ws_got == [
        sent[0], '42["other",1]', expected_text(sio, EVENT, {**data, "notification_id": 2}),
        expected_text(sio, "notification:new", {"notification_id": 3}),
        expected_text(sio, EVENT, {**data, "notification_id": 4}),
    ]
    polling_got = [await polling.packet() for _ in range(3)]
    assert polling_got == [sent[0], ws_got[2], ws_got[4]]  # the same bytes, through the normal path
    assert manager.stats.queued >= 3  # the polling socket's three, the websocket's while "other" was queued

    assert manager.stats.direct == direct_before + 1  # everything after "other" queued behind it

    # once the writer has written all that and parked again, broadcasts go straight to the wire again
    await asyncio.sleep(0.05)
    await sio.emit(EVENT, {**data, "notification_id": 5}, to=["admins"])
    assert manager.stats.direct == direct_before + 2
    assert await ws.frame() == await polling.packet() == expected_text(sio, EVENT, {**data, "notification_id": 5})
    assert poll_eio_sid not in manager.routes and ws_eio_sid in manager.routes


async def test_fast_path_off_sends_the_same_frames(start_gateway, mint, ids, session) -> None:
    gw = await start_gateway(wait=False, fanout_fast_path=False)
    sio = gw.gateway.sio
    ws, _ = await raw_websocket(session, gw.url, mint.token(ids(), "admin"))
    try:
        await sio.emit(EVENT, ({"notification_id": 9, "title": "维护"}, "1-0"), to=["admins"])
        assert await ws.frame() == expected_text(sio, EVENT, {"notification_id": 9, "title": "维护"}, "1-0")
        assert sio.manager.stats.direct == 0
    finally:
        await ws.ws.close()


def _masked(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    header = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0x80 | 126, n)
    return header + mask + masked


async def _never_reading_client(host: str, port: int, token: str) -> tuple[socket.socket, str]:
    """A websocket client that completes the handshake, then never reads again (small receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, port))
    await loop.sock_sendall(sock, (
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode())
    data = b""
    while b'"sid"' not in data:
        data += await loop.sock_recv(sock, 4096)
    eio_sid = json.loads(data[data.index(b"{"):data.index(b"}") + 1])["sid"]
    await loop.sock_sendall(sock, _masked("40" + json.dumps({"token": token})))
    await asyncio.sleep(0.2)
    return sock, eio_sid


async def test_a_client_that_does_not_read_is_disconnected_and_its_queue_stays_bounded(
    start_gateway, mint, ids
) -> None:
    gw = await start_gateway(wait=False, send_queue_limit=20, send_buffer_limit_bytes=16 * 1024)
    sio = gw.gateway.sio
    manager: FanOutManager = sio.manager
    slow: list[str] = []
    manager.on_slow_consumer.append(slow.append)
    host, port = gw.url.removeprefix("http://").split(":")
    stuck, stuck_eio_sid = await _never_reading_client(host, int(port), mint.token(ids(), "admin"))
    big = {"content": "x" * 60_000}
    try:
        async with asyncio.timeout(30):
            for n in range(400):  # ~24 MB: far more than any socket buffer
                await sio.emit(EVENT, {**big, "n": n}, to=["admins"])
                engine_socket = sio.eio.sockets.get(stuck_eio_sid)
                if engine_socket is not None:
                    assert engine_socket.queue.qsize() <= 20
                await asyncio.sleep(0)
                if slow:
                    break
            assert slow == [stuck_eio_sid]
            while stuck_eio_sid in sio.eio.sockets and not sio.eio.sockets[stuck_eio_sid].closed:
                await asyncio.sleep(0.05)
        assert manager.stats.slow_consumers == 1
        assert gw.gateway.connections.sockets == 0  # the disconnect handler ran
    finally:
        stuck.close()


async def test_a_disconnect_leaves_every_room_through_the_index(start_gateway, connect_client, ids) -> None:
    gw = await start_gateway(wait=False)
    manager: FanOutManager = gw.gateway.sio.manager
    staying = await connect_client(gw, ids(), "admin")
    leaving = await connect_client(gw, ids(), "admin")
    sid = leaving.sio.get_sid()
    assert set(manager.get_rooms(sid, "/")) >= {"admins", sid}
    await leaving.sio.disconnect()
    async with asyncio.timeout(5):
        while ("/", sid) in manager._rooms_of:
            await asyncio.sleep(0.02)
    assert all(sid not in members for members in manager.rooms["/"].values())
    assert staying.sio.get_sid() in manager.rooms["/"]["admins"]


async def test_a_dropped_tcp_connection_is_cleaned_up_everywhere(start_gateway, mint, ids, session) -> None:
    """The disconnect-storm path: the client's TCP connection goes away without a close frame."""
    gw = await start_gateway(wait=False)
    sio = gw.gateway.sio
    manager: FanOutManager = sio.manager
    ws, eio_sid = await raw_websocket(session, gw.url, mint.token(ids(), "admin"))
    assert eio_sid in manager.routes and gw.gateway.connections.sockets == 1
    ws.ws._response.connection.transport.abort()  # no close frame: the server only sees the connection end
    async with asyncio.timeout(5):
        while eio_sid in sio.eio.sockets:
            await asyncio.sleep(0.02)
    assert eio_sid not in manager.routes  # the driver took the route back
    assert gw.gateway.connections.sockets == 0 and gw.gateway.connections.admin_sockets() == {}
    assert manager.rooms == {} and manager._rooms_of == {}  # every room left, the namespace gone


async def test_frames_for_one_socket_in_one_loop_turn_leave_in_one_write_and_arrive_in_order(
    start_gateway, mint, ids, session
) -> None:
    gw = await start_gateway(wait=False)  # lean websocket sessions and coalesced writes: the defaults
    sio = gw.gateway.sio
    ws, ws_eio_sid = await raw_websocket(session, gw.url, mint.token(ids(), "admin"))
    ws_sid = sio.manager.sid_from_eio_sid(ws_eio_sid, "/")
    try:
        await asyncio.sleep(0.05)
        frames, calls = WRITES.frames, WRITES.calls
        # a message and its session's update, as the stream consumer emits them, and a broadcast: one turn
        await sio.emit("chat:new_message", {"message_id": 1}, to=ws_sid)
        await sio.emit("chat:session_update", {"session_id": 7}, to=ws_sid)
        await sio.emit(EVENT, {"notification_id": 3}, to=["admins"])
        assert (WRITES.frames - frames, WRITES.calls - calls) == (3, 0)  # kept until the turn ends
        assert [await ws.frame() for _ in range(3)] == [
            expected_text(sio, "chat:new_message", {"message_id": 1}),
            expected_text(sio, "chat:session_update", {"session_id": 7}),
            expected_text(sio, EVENT, {"notification_id": 3}),
        ]
        assert WRITES.calls - calls == 1
        async with session.get(f"{gw.url}/metrics") as response:
            metrics = await response.text()
        counted = dict(re.findall(r"^(gateway_socket_(?:frames|write_calls)_total) (\S+)$", metrics, re.MULTILINE))
        assert float(counted["gateway_socket_frames_total"]) >= frames + 3  # the three above, read at scrape time
        assert float(counted["gateway_socket_write_calls_total"]) >= calls + 1
    finally:
        await ws.ws.close()
