"""transport/compression.py's websocket driver without I/O: what engine.io sees from wait() / close() / send()."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import socketio
from aiohttp import ClientSession, WSCloseCode, WSMessage, WSMsgType, web
from aiohttp.web import WebSocketResponse
from realtime_gateway.transport.compression import (
    GatewayWebSocket,
    PeerAwareResponse,
    set_websocket_compression,
)


class FakeResponse:
    """The parts of aiohttp's WebSocketResponse the driver uses."""

    def __init__(self, messages: list[WSMessage]) -> None:
        self.messages = messages
        self.closed = False
        self.close_calls = 0
        self.sent: list[Any] = []

    async def receive(self) -> WSMessage:
        return self.messages.pop(0)

    async def close(self) -> bool:
        self.close_calls += 1
        self.closed = True
        return True

    async def send_str(self, data: str) -> None:
        self.sent.append(data)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


def driver(messages: list[WSMessage]) -> tuple[GatewayWebSocket, FakeResponse]:
    ws = GatewayWebSocket(handler=None, server=None)
    ws._sock = FakeResponse(messages)
    return ws, ws._sock


async def test_wait_returns_data_then_none_for_every_kind_of_close() -> None:
    ws, _ = driver([WSMessage(WSMsgType.TEXT, "2probe", None), WSMessage(WSMsgType.BINARY, b"\x04x", None)])
    assert await ws.wait() == "2probe"
    assert await ws.wait() == b"\x04x"
    for closing in (WSMessage(WSMsgType.CLOSE, 1000, ""), WSMessage(WSMsgType.CLOSING, None, None),
                    WSMessage(WSMsgType.CLOSED, None, None), WSMessage(WSMsgType.ERROR, OSError("reset"), None)):
        ws, _ = driver([closing])
        assert await ws.wait() is None  # engine.io: "connection closed by client", no exception to raise


async def test_close_closes_once_and_not_a_response_aiohttp_already_closed() -> None:
    ws, sock = driver([])
    await ws.close()
    await ws.close()
    assert sock.close_calls == 1
    ws, sock = driver([])
    sock.closed = True  # aiohttp closed it when it read the peer's EOF
    await ws.close()
    assert sock.close_calls == 0


async def test_send_picks_text_or_binary_frames() -> None:
    ws, sock = driver([])
    await ws.send("42[\"a\"]")
    await ws.send(b"\x01")
    assert sock.sent == ["42[\"a\"]", b"\x01"]


@pytest.mark.parametrize("enabled", [False, True])
def test_each_server_gets_its_own_driver_class(enabled: bool) -> None:
    opened, closed = [], []
    sio = socketio.AsyncServer(async_mode="aiohttp")
    other = socketio.AsyncServer(async_mode="aiohttp")
    set_websocket_compression(sio, enabled, on_open=lambda *a: opened.append(a), on_close=closed.append)
    cls = sio.eio._async["websocket"]
    assert issubclass(cls, GatewayWebSocket) and cls.compress is enabled
    assert other.eio._async["websocket"] is not cls  # the shared driver table is copied, not mutated
    cls.on_open("h", "r", False)
    cls.on_close("token")
    assert opened == [("h", "r", False)] and closed == ["token"]


@contextlib.asynccontextmanager
async def _serve(handler: Callable[[web.Request], Awaitable[WebSocketResponse]]) -> AsyncIterator[int]:
    """A real aiohttp server on a free port with `handler` at /; yields the port."""
    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


async def _dropped_peer_response(response_class: type[WebSocketResponse]) -> tuple[WebSocketResponse, WSMessage]:
    """A real aiohttp websocket whose client upgrades and then drops its TCP connection without a close frame."""
    done: asyncio.Future[tuple[WebSocketResponse, WSMessage]] = asyncio.get_running_loop().create_future()

    async def handler(request: web.Request) -> WebSocketResponse:
        ws = response_class()
        await ws.prepare(request)
        done.set_result((ws, await ws.receive()))
        return ws

    async with _serve(handler) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        writer.transport.abort()  # the TCP connection is gone: no close frame, no more reads
        return await asyncio.wait_for(done, 5)


async def test_a_dropped_peer_is_closed_without_attempting_a_close_frame() -> None:
    stock, stock_msg = await _dropped_peer_response(WebSocketResponse)
    ours, our_msg = await _dropped_peer_response(PeerAwareResponse)
    # The same end state as aiohttp's own path (which raised and caught "Cannot write to closing transport") ...
    assert isinstance(stock.exception(), ConnectionError)
    for ws, msg in ((stock, stock_msg), (ours, our_msg)):
        assert msg.type in (WSMsgType.ERROR, WSMsgType.CLOSED)
        assert ws.closed and ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    # ... reached without writing: no exception was raised to get there.
    assert ours.exception() is None
    assert await ours.close() is False  # closed once


async def test_a_closing_transport_is_not_written_to_either() -> None:
    seen: asyncio.Future[tuple[bool, bool, int | None, BaseException | None]] = (
        asyncio.get_running_loop().create_future())

    async def handler(request: web.Request) -> WebSocketResponse:
        ws = PeerAwareResponse()
        await ws.prepare(request)
        request.transport.close()  # type: ignore[union-attr]  # closing: a close frame could not be written
        closed = await ws.close()
        seen.set_result((closed, ws.closed, ws.close_code, ws.exception()))
        return ws

    async with _serve(handler) as port:
        async with ClientSession() as session, session.ws_connect(f"http://127.0.0.1:{port}/") as client:
            await client.receive(timeout=5)
        assert await asyncio.wait_for(seen, 5) == (True, True, WSCloseCode.ABNORMAL_CLOSURE, None)


async def test_a_live_peer_still_gets_a_close_frame() -> None:
    async def handler(request: web.Request) -> WebSocketResponse:
        ws = PeerAwareResponse()
        await ws.prepare(request)
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"bye")
        return ws

    async with _serve(handler) as port, ClientSession() as session, \
            session.ws_connect(f"http://127.0.0.1:{port}/") as client:
        msg = await client.receive(timeout=5)
        assert msg.type is WSMsgType.CLOSE and msg.data == WSCloseCode.GOING_AWAY and msg.extra == "bye"
