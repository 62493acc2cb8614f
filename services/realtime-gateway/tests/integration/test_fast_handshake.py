"""Fast handshakes (transport/fast_handshake.py) over real connections: a direct websocket connect is served from
the connection's first bytes without aiohttp's request machinery; everything else, refusals included, is answered
by aiohttp exactly as with the switch off."""

import asyncio
import base64
import hashlib
import json
import socket
import struct
from typing import Any

import aiohttp
import pytest

pytestmark = pytest.mark.integration

KEY = base64.b64encode(b"0123456789abcdef").decode()
HANDSHAKE = (
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n"
)


def handshake(gw: Any, *, key: str = KEY, version: str = "13", extra: str = "", host: bool = True) -> bytes:
    text = HANDSHAKE.format(host=gw.url.removeprefix("http://"), key=key, version=version, extra=extra)
    if not host:
        text = text.replace(f"Host: {gw.url.removeprefix('http://')}\r\n", "")
    return text.encode()


def client_frame(text: str) -> bytes:
    """A masked text frame (mask 0: the payload reads as it is)."""
    data = text.encode()
    assert len(data) < 65536
    head = struct.pack("!BB", 0x81, 0x80 | len(data)) if len(data) < 126 else struct.pack("!BBH", 0x81, 0xFE, len(data))
    return head + b"\0\0\0\0" + data


async def open_raw(gw: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = gw.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body (by Content-Length) of one HTTP response."""
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = b""
    if int(headers.get("content-length", "0")):
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 5)
    return int(lines[0].split()[1]), headers, body


async def read_text(reader: asyncio.StreamReader) -> str:
    """One unmasked, unfragmented server text frame."""
    first, second = await asyncio.wait_for(reader.readexactly(2), 5)
    assert first == 0x81, hex(first)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return (await asyncio.wait_for(reader.readexactly(length), 5)).decode()


def served(gw: Any) -> int:
    handshakes = gw.gateway.handshakes
    return 0 if handshakes is None else handshakes.served


async def answer(gw: Any, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await open_raw(gw)
    writer.write(request)
    try:
        return await read_head(reader)
    finally:
        writer.close()


async def test_a_direct_websocket_connect_is_served_without_aiohttp_request(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    reader, writer = await open_raw(gw)
    writer.write(handshake(gw, extra="X-Request-ID: probe-1\r\n"))
    status, headers, _ = await read_head(reader)
    assert status == 101
    assert headers["sec-websocket-accept"] == base64.b64encode(
        hashlib.sha1(KEY.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()).decode()
    assert headers["x-request-id"] == "probe-1"
    opened = json.loads((await read_text(reader))[1:])
    assert opened["upgrades"] == [] and opened["maxPayload"] > 0 and opened["pingInterval"] > 0
    writer.write(client_frame("40" + json.dumps({"token": mint.token(ids(), "admin")})))
    assert (await read_text(reader)).startswith("40{")
    assert served(gw) == 1
    assert gw.gateway.metrics.registry.get_sample_value("gateway_fast_handshakes_total") == 1
    assert len(gw.runner.server.connections) == 0  # aiohttp never had a handler for it
    assert gw.gateway.connections.sockets == 1
    (detached,) = gw.gateway.sio.guard.websockets.values()
    sock = detached.transport.get_extra_info("socket")  # the options aiohttp sets on the connections it serves
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) and sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    writer.close()


async def test_with_the_switch_off_every_connection_is_aiohttps(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False, fast_handshake=False)
    reader, writer = await open_raw(gw)
    writer.write(handshake(gw))
    status, _, _ = await read_head(reader)
    assert status == 101 and gw.gateway.handshakes is None
    writer.close()


async def test_a_request_head_split_over_several_reads_is_served_fast(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    reader, writer = await open_raw(gw)
    request = handshake(gw)
    for piece in (request[:5], request[5:40], request[40:-3], request[-3:]):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.05)
    status, _, _ = await read_head(reader)
    assert status == 101
    assert (await read_text(reader)).startswith("0{")
    assert served(gw) == 1
    writer.close()


async def test_frames_pipelined_after_the_upgrade_request_reach_the_websocket(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    reader, writer = await open_raw(gw)
    token = mint.token(ids(), "admin")
    writer.write(handshake(gw) + client_frame("40" + json.dumps({"token": token})) + client_frame("3"))
    status, _, _ = await read_head(reader)
    assert status == 101
    assert (await read_text(reader)).startswith("0{")
    assert (await read_text(reader)).startswith("40{")  # the CONNECT sent with the request head was answered
    assert served(gw) == 1 and gw.gateway.connections.sockets == 1
    writer.close()


@pytest.mark.parametrize("compression", [True, False])
async def test_a_deflate_offer_falls_back_to_aiohttp_only_when_compression_is_on(
    start_gateway, mint, ids, compression: bool
) -> None:
    gw = await start_gateway(wait=False, websocket_compression=compression)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{gw.url}/socket.io/?EIO=4&transport=websocket", compress=15)
        assert (await ws.receive_str(timeout=5)).startswith("0{")
        await ws.send_str("40" + json.dumps({"token": mint.token(ids(), "admin")}))
        assert (await ws.receive_str(timeout=5)).startswith("40{")
        assert bool(ws.compress) is compression
        assert served(gw) == (0 if compression else 1)
        await ws.close()


async def test_polling_and_health_are_served_by_aiohttp_on_the_same_port(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        async with session.get(f"{gw.url}/health") as response:
            assert response.status in (200, 503)  # the body says how the gateway is; aiohttp answered it
            assert "status" in await response.json()
        async with session.get(f"{gw.url}/socket.io/?EIO=4&transport=polling") as response:
            assert response.status == 200
            assert (await response.text()).startswith("0{")
    assert served(gw) == 0 and gw.gateway.handshakes.handed_over >= 2


async def test_the_address_cap_refuses_a_fast_handshake_as_before(start_gateway, mint, ids) -> None:
    gw = await start_gateway(wait=False, max_connections_per_address=1)
    reader, writer = await open_raw(gw)
    writer.write(handshake(gw))
    assert (await read_head(reader))[0] == 101
    await read_text(reader)
    status, headers, body = await answer(gw, handshake(gw))
    assert status == 429 and headers["retry-after"] == "5"
    assert json.loads(body)["error"]["code"] == "too_many_connections"
    assert served(gw) == 1
    writer.close()


async def test_a_draining_gateway_refuses_a_fast_handshake_with_503(start_gateway) -> None:
    gw = await start_gateway(wait=False)
    gw.gateway.drain.draining = True
    status, _, body = await answer(gw, handshake(gw))
    assert status == 503 and json.loads(body)["error"]["code"] == "draining"
    assert served(gw) == 0


@pytest.mark.parametrize("case", ["bad key", "version 8", "version 12", "no host", "bad origin", "sid", "EIO 3"])
async def test_a_malformed_or_refused_upgrade_gets_the_same_answer_with_and_without_fast_handshakes(
    start_gateway, case: str
) -> None:
    fast = await start_gateway(wait=False)
    slow = await start_gateway(wait=False, fast_handshake=False)
    answers = []
    for gw in (fast, slow):
        request = {
            "bad key": handshake(gw, key="c2hvcnQ="),
            "version 8": handshake(gw, version="8"),
            "version 12": handshake(gw, version="12"),
            "no host": handshake(gw, host=False),
            "bad origin": handshake(gw, extra="Origin: https://evil.example\r\n"),
            "sid": handshake(gw).replace(b"transport=websocket", b"transport=websocket&sid=nope"),
            "EIO 3": handshake(gw).replace(b"EIO=4", b"EIO=3"),
        }[case]
        status, _, body = await answer(gw, request)
        answers.append((status, body if status != 101 else b""))
    assert answers[0] == answers[1]
    assert served(fast) == 0 or answers[0][0] == 101  # served fast only what the slow path accepts too


async def test_a_connection_that_sends_nothing_is_still_closed_after_the_idle_timeout(start_gateway) -> None:
    gw = await start_gateway(wait=False, http_idle_timeout_seconds=0.3)
    reader, writer = await open_raw(gw)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the gateway
    writer.close()


async def test_a_head_larger_than_the_limit_is_answered_by_aiohttp_as_before(start_gateway) -> None:
    fast = await start_gateway(wait=False)
    slow = await start_gateway(wait=False, fast_handshake=False)
    statuses = []
    for gw in (fast, slow):
        statuses.append((await answer(gw, handshake(gw, extra="X-Padding: " + "a" * 20_000 + "\r\n")))[0])
    assert statuses[0] == statuses[1]
    assert served(fast) == 0 and fast.gateway.handshakes.handed_over == 1


async def test_a_request_head_cut_short_by_eof_gets_the_same_answer_as_without_fast_handshakes(start_gateway) -> None:
    fast = await start_gateway(wait=False)
    slow = await start_gateway(wait=False, fast_handshake=False)
    answers = []
    for gw in (fast, slow):
        reader, writer = await open_raw(gw)
        writer.write(handshake(gw)[:60])
        writer.write_eof()
        answers.append((await asyncio.wait_for(reader.read(), 5)).split(b"\r\n", 1)[0])
        writer.close()
    assert answers[0] == answers[1]
    assert served(fast) == 0


async def test_the_address_cap_counts_the_forwarded_client_of_a_trusted_proxy_on_the_fast_path(start_gateway) -> None:
    gw = await start_gateway(wait=False, max_connections_per_address=1)  # the test client is 127.0.0.1: trusted
    reader, writer = await open_raw(gw)
    writer.write(handshake(gw, extra="X-Forwarded-For: 203.0.113.5\r\n"))
    assert (await read_head(reader))[0] == 101
    await read_text(reader)
    assert gw.gateway.addresses.count("203.0.113.5") == 1 and gw.gateway.addresses.count("127.0.0.1") == 0
    assert (await answer(gw, handshake(gw, extra="X-Forwarded-For: 203.0.113.5\r\n")))[0] == 429
    other_reader, other_writer = await open_raw(gw)
    other_writer.write(handshake(gw, extra="X-Forwarded-For: 203.0.113.6\r\n"))
    assert (await read_head(other_reader))[0] == 101
    assert served(gw) == 2
    writer.close()
    other_writer.close()
