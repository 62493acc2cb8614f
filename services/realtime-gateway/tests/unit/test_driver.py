"""compression.py's websocket driver without I/O: what engine.io sees from wait() / close() / send()."""

from typing import Any

import pytest
import socketio
from aiohttp import WSMessage, WSMsgType
from realtime_gateway.compression import GatewayWebSocket, set_websocket_compression


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
