"""What the gateway accepts at the Engine.IO / Socket.IO level, spoken raw (aiohttp client, no Socket.IO client):
binary and malformed packets close the connection with a reason and one log line, connections without CONNECT
and silent TCP connections are closed, and the protocol rules of the Socket.IO maintainers' protocol test suite
(`socketio/socket.io-protocol`, folder `test-suite/`) as our own tests."""

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

pytestmark = pytest.mark.integration

BOUND = 10  # seconds: only so that a broken gateway fails the test instead of hanging it
MiB = 1024 * 1024


def ws_url(gw: Any, sid: str | None = None) -> str:
    return gw.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")


def polling_url(gw: Any, sid: str | None = None) -> str:
    return f"{gw.url}/socket.io/?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")


@asynccontextmanager
async def engineio_websocket(gw: Any) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A raw WebSocket whose Engine.IO handshake has been read."""
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(gw), autoping=False) as ws:
        opened = await asyncio.wait_for(ws.receive_str(), BOUND)
        assert opened.startswith("0")
        yield ws


async def socketio_connect(ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
    await ws.send_str("40" + json.dumps({"token": token}))
    reply = await asyncio.wait_for(ws.receive_str(), BOUND)
    assert reply.startswith("40{"), reply


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
    """Read until the server closes; (close code, reason). Engine.IO pings are ignored."""
    async with asyncio.timeout(BOUND):
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.CLOSE:
                return msg.data, msg.extra or ""
            if msg.type in (WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                return ws.close_code, ""


async def polling_session(http: aiohttp.ClientSession, gw: Any) -> str:
    async with http.get(polling_url(gw)) as response:
        assert response.status == 200
        return json.loads((await response.text())[1:])["sid"]


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(BOUND):
        while not condition():
            await asyncio.sleep(0.01)


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "realtime_gateway.main"]


# ---- finding 1: binary


async def test_binary_packets_from_a_client_close_the_socket_and_do_not_grow_memory(start_gateway, mint, caplog):
    gw = await start_gateway()
    frame = b"\0" * 1_000_000
    gc.collect()
    before = rss()
    async with engineio_websocket(gw) as ws:
        await socketio_connect(ws, mint.token(501, "user"))
        await ws.send_str('459999-["chat:send_message",{"_placeholder":true,"num":0}]')
        for _ in range(40):  # ~40 MB announced as attachments; the server may close before all are written
            if ws.closed:
                break
            try:
                await ws.send_bytes(frame)
            except (ConnectionError, aiohttp.ClientError):
                break
        code, reason = await closed_with(ws)
    gc.collect()
    if code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE:
        # Flooding megabytes, the client may still be writing when the server closes: the kernel then resets the
        # connection and the close frame is lost. Why it closed is read from the server's side then; the close
        # code and reason a client reads are proved with a small frame (the next test).
        assert any("binary packets are not accepted" in r.getMessage() for r in caplog.records)
    else:
        assert code == aiohttp.WSCloseCode.UNSUPPORTED_DATA and reason == "binary packets are not accepted"
    assert gw.gateway.sio._binary_packet == {}  # python-socketio's pending attachments: nothing buffered
    assert rss() - before < 5 * MiB
    await until(lambda: gw.gateway.connections.sockets == 0)


async def test_a_binary_frame_closes_the_socket_before_and_after_connect(start_gateway, mint):
    gw = await start_gateway()
    async with engineio_websocket(gw) as ws:
        await ws.send_bytes(b"\x01\x02\x03")
        assert await closed_with(ws) == (aiohttp.WSCloseCode.UNSUPPORTED_DATA, "binary packets are not accepted")
    async with engineio_websocket(gw) as ws:
        await socketio_connect(ws, mint.token(502, "user"))
        await ws.send_str('451-["chat:typing",{"_placeholder":true,"num":0}]')
        assert (await closed_with(ws))[0] == aiohttp.WSCloseCode.UNSUPPORTED_DATA


async def test_binary_packets_over_polling_close_the_session(start_gateway):
    gw = await start_gateway()
    async with aiohttp.ClientSession() as http:
        assert await polling_post_closes_the_session(http, gw, "bAQID")  # a base64 binary MESSAGE


# ---- finding 2: malformed packets


@pytest.mark.parametrize("frame", ["42[", "4garbage", "44{", "42", '42["chat:typing"]', "4abc", "42{}",
                                   '42abc["message-with-ack",1]', "43", "9nonsense", "", "4[1,2]"])
async def test_a_malformed_packet_closes_the_socket_with_a_reason(start_gateway, frame, caplog):
    gw = await start_gateway()
    async with engineio_websocket(gw) as ws:
        await ws.send_str(frame)
        code, reason = await closed_with(ws)
    assert code == aiohttp.WSCloseCode.POLICY_VIOLATION and reason.startswith("invalid packet: "), (code, reason)
    assert not [r for r in caplog.records if r.exc_info]


async def test_malformed_packets_after_connect_close_the_socket(start_gateway, mint):
    gw = await start_gateway()
    for frame in ("4abc", "42{}", '42abc["chat:typing",1]', "42[", '42[1,"x"]', "42/other,[\"x\"]"):
        async with engineio_websocket(gw) as ws:
            await socketio_connect(ws, mint.token(503, "user"))
            code, reason = await closed_with_after(ws, frame)
            assert code == aiohttp.WSCloseCode.POLICY_VIOLATION, (frame, code, reason)
    await until(lambda: gw.gateway.connections.sockets == 0)


async def closed_with_after(ws: aiohttp.ClientWebSocketResponse, frame: str) -> tuple[int | None, str]:
    await ws.send_str(frame)
    return await closed_with(ws)


async def test_500_garbage_frames_are_logged_a_handful_of_times_without_a_traceback(start_gateway, caplog):
    gw = await start_gateway()
    caplog.set_level(logging.INFO)
    garbage = ["42[", "4garbage", "44{", "42"]
    async with engineio_websocket(gw) as ws:  # one socket sending all of them at once
        for i in range(400):
            try:
                await ws.send_str(garbage[i % 4])
            except (ConnectionError, aiohttp.ClientError):
                break
        assert (await closed_with(ws))[0] == aiohttp.WSCloseCode.POLICY_VIOLATION
    for i in range(100):  # and a hundred sockets with one each
        async with engineio_websocket(gw) as ws:
            await ws.send_str(garbage[i % 4])
            assert (await closed_with(ws))[0] == aiohttp.WSCloseCode.POLICY_VIOLATION
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    lines = problems(caplog)
    assert 1 <= len(lines) <= 3, [r.getMessage() for r in lines]
    assert all(r.levelno == logging.WARNING for r in lines)
    _, metrics = await get_text(f"{gw.url}/metrics")
    assert 'gateway_protocol_violations_total{kind="malformed"}' in metrics


async def test_a_malformed_polling_body_closes_the_session_without_a_traceback(start_gateway, caplog):
    gw = await start_gateway()
    async with aiohttp.ClientSession() as http:
        for body in ("x", "4garbage", "\x1e".join(["6"] * 17), b"\xff\xfe", "42[", "42"):
            assert await polling_post_closes_the_session(http, gw, body), body
    assert not [r for r in caplog.records if r.exc_info]


async def polling_post_closes_the_session(http: aiohttp.ClientSession, gw: Any, body: str | bytes) -> bool:
    """A polling session with a GET pending gets `body` POSTed: True when the GET is answered with Engine.IO's
    CLOSE packet and the session is gone (400) afterwards."""
    sid = await polling_session(http, gw)
    poll = asyncio.ensure_future(http.get(polling_url(gw, sid)))
    await asyncio.sleep(0.1)  # the GET is pending
    async with http.post(polling_url(gw, sid), data=body) as response:
        assert response.status == 200  # as Node's engine.io: "ok", the session is closed
    async with await asyncio.wait_for(poll, BOUND) as response:
        closed = await response.text() == "1"
    async with http.get(polling_url(gw, sid)) as response:
        return closed and response.status == 400


async def get_text(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


# ---- finding 3: connections that never CONNECT, silent TCP connections


async def test_a_connection_without_connect_is_closed_after_the_connect_timeout(start_gateway, connect_client, mint):
    gw = await start_gateway(connect_timeout_seconds=0.5)
    async with engineio_websocket(gw) as ws:
        assert await closed_with(ws) == (aiohttp.WSCloseCode.POLICY_VIOLATION, "no Socket.IO CONNECT in time")
    async with engineio_websocket(gw) as ws:  # refused (bad token), then silent: closed as well
        await ws.send_str('40{"token":"not-a-jwt"}')
        assert (await asyncio.wait_for(ws.receive_str(), BOUND)).startswith("44{")
        assert (await closed_with(ws))[1] == "no Socket.IO CONNECT in time"
    async with aiohttp.ClientSession() as http:  # polling
        sid = await polling_session(http, gw)
        async with http.get(polling_url(gw, sid)) as response:
            assert await response.text() == "1"


async def test_a_connected_client_outlives_the_connect_timeout(start_gateway, connect_client):
    gw = await start_gateway(connect_timeout_seconds=0.2)
    client = await connect_client(gw, 504, "user")
    polling = await connect_client(gw, 505, "user", transports=["polling"])
    await asyncio.sleep(1.0)  # five connect timeouts
    assert client.sio.connected and polling.sio.connected
    assert gw.gateway.connections.sockets == 2


async def test_a_connected_socket_holds_no_connect_deadline_timer(start_gateway, connect_client):
    gw = await start_gateway(connect_timeout_seconds=30)
    client = await connect_client(gw, 506, "user")
    assert client.sio.connected
    assert gw.gateway.sio._deadlines == {}  # the handshake's timer went with the CONNECT, not 30 s later


async def test_a_tcp_connection_that_sends_nothing_is_closed(start_gateway):
    gw = await start_gateway(http_idle_timeout_seconds=0.5)
    host, port = gw.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        assert await asyncio.wait_for(reader.read(), BOUND) == b""  # the server closed it
    finally:
        writer.close()


# ---- finding 13: the protocol rules of socket.io-protocol's test suite


async def test_the_engineio_handshake_announces_the_session_and_its_limits(start_gateway):
    gw = await start_gateway()
    async with aiohttp.ClientSession() as http, http.get(polling_url(gw)) as response:
        assert response.status == 200
        text = await response.text()
    assert text.startswith("0")
    opened = json.loads(text[1:])
    assert set(opened) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert opened["upgrades"] == ["websocket"] and opened["maxPayload"] == 1_000_000
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(gw)) as ws:
        assert json.loads((await ws.receive_str())[1:])["upgrades"] == []


@pytest.mark.parametrize(("method", "query"), [
    ("GET", "EIO=4"), ("GET", "EIO=4&transport=abc"), ("GET", "transport=polling"), ("GET", "EIO=abc&transport=polling"),
    ("POST", "EIO=4&transport=polling"), ("PUT", "EIO=4&transport=polling"), ("DELETE", "EIO=4&transport=polling"),
])
async def test_a_bad_handshake_request_is_400(start_gateway, method, query):
    gw = await start_gateway()
    async with aiohttp.ClientSession() as http, http.request(method, f"{gw.url}/socket.io/?{query}") as response:
        assert response.status == 400


async def test_an_upgraded_session_ignores_polling_and_a_second_websocket_is_opened_and_closed(start_gateway):
    gw = await start_gateway()
    async with aiohttp.ClientSession() as http:
        sid = await polling_session(http, gw)
        async with http.ws_connect(ws_url(gw, sid)) as ws:
            await ws.send_str("2probe")
            assert await ws.receive_str() == "3probe"
            await ws.send_str("5")
            async with http.get(polling_url(gw, sid)) as response:
                assert response.status == 400
            async with http.ws_connect(ws_url(gw, sid)) as second:  # opened (101), not refused with 400 ...
                assert (await closed_with(second))[0] == aiohttp.WSCloseCode.POLICY_VIOLATION  # ... then closed


async def test_an_engineio_close_packet_ends_the_session_at_once(start_gateway):
    gw = await start_gateway()
    async with engineio_websocket(gw) as ws:
        await ws.send_str("1")
        assert (await closed_with(ws))[0] is not None
    async with aiohttp.ClientSession() as http:
        sid = await polling_session(http, gw)
        poll = asyncio.ensure_future(http.get(polling_url(gw, sid)))
        await asyncio.sleep(0.1)  # the GET is pending
        async with http.post(polling_url(gw, sid), data="1") as response:
            assert response.status == 200
        async with await asyncio.wait_for(poll, BOUND) as response:
            assert response.status == 200 and await response.text() == "6"  # NOOP: the pending GET is answered
        async with http.get(polling_url(gw, sid)) as response:
            assert response.status == 400


async def test_an_unknown_namespace_is_answered_invalid_namespace(start_gateway):
    gw = await start_gateway()
    async with engineio_websocket(gw) as ws:
        await ws.send_str("40/random,")
        assert await asyncio.wait_for(ws.receive_str(), BOUND) == '44/random,{"message":"Invalid namespace"}'


async def test_an_invalid_handshake_packet_closes_the_connection_at_once(start_gateway):
    gw = await start_gateway()  # default connect timeout (45 s) and ping timeout: neither closes it within BOUND
    async with engineio_websocket(gw) as ws:
        await ws.send_str("4abc")
        assert (await closed_with(ws))[0] == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_connect_and_disconnect_from_the_main_namespace(start_gateway, mint):
    gw = await start_gateway()
    async with engineio_websocket(gw) as ws:
        await ws.send_str("40" + json.dumps({"token": mint.token(506, "user")}))
        reply = await asyncio.wait_for(ws.receive_str(), BOUND)
        assert reply.startswith("40") and isinstance(json.loads(reply[2:])["sid"], str)
        await ws.send_str("41")
        await until(lambda: gw.gateway.connections.sockets == 0)
        assert not ws.closed
