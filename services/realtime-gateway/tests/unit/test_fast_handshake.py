"""transport/fast_handshake.py: which first request heads the fast path serves itself (and with what environ), and
which it leaves to aiohttp. The answers aiohttp then gives are checked over real connections
(tests/integration/test_fast_handshake.py)."""

import asyncio
from typing import Any

import engineio
import pytest
from realtime_gateway.transport.fast_handshake import (
    FAST_HANDSHAKE,
    FastHandshake,
    FastHandshakes,
    FirstRequest,
)
from servicekit.forwarded import TrustedProxies

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example: its accept is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=


class FakeTransport:
    def __init__(self, peer: Any = ("10.0.0.7", 40000)) -> None:
        self.peer = peer

    def get_extra_info(self, name: str) -> Any:
        return self.peer if name == "peername" else None


def head(*, url: str = "/socket.io/?EIO=4&transport=websocket", extra: str = "", method: str = "GET",
         version: str = "1.1", headers: str | None = None) -> bytes:
    lines = headers if headers is not None else (
        f"Host: gw.example\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
    )
    return f"{method} {url} HTTP/{version}\r\n{lines}{extra}\r\n".encode()


class Eio:
    def __init__(self) -> None:
        self.cors_allowed_origins: Any = ["https://app.example"]


def handshakes(*, draining: bool = False, count: int = 0, limit: int = 10, compression: bool = False,
               trusted: str = "127.0.0.1", origins: Any = None) -> FastHandshakes:
    eio = Eio()
    if origins is not None:
        eio.cors_allowed_origins = origins
    return FastHandshakes(eio, draining=lambda: draining, address_count=lambda _a: count,
                          address_limit=lambda: limit, trusted=TrustedProxies.parse([trusted]),
                          compression=compression, idle_timeout=60)


def environ_of(request: bytes, fast: FastHandshakes | None = None, peer: Any = ("10.0.0.7", 40000)) -> Any:
    return (fast or handshakes()).environ(request, FakeTransport(peer), None)  # type: ignore[arg-type]


def test_a_direct_websocket_open_is_served_with_the_environ_engineio_reads_and_rfc6455s_accept() -> None:
    environ = environ_of(head(extra="Origin: https://app.example\r\nX-Request-ID: abc-1\r\n"))
    assert environ is not None
    assert environ["QUERY_STRING"] == "EIO=4&transport=websocket" and environ["REQUEST_METHOD"] == "GET"
    assert environ["HTTP_UPGRADE"] == "websocket" and "upgrade" in environ["HTTP_CONNECTION"].lower()
    assert environ["REMOTE_ADDR"] == "10.0.0.7" and environ["HTTP_ORIGIN"] == "https://app.example"
    fast: FastHandshake = environ[FAST_HANDSHAKE]
    assert fast.accept == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" and fast.request_id == "abc-1"


def test_a_request_id_that_is_not_usable_is_replaced_by_a_new_one() -> None:
    fast = environ_of(head(extra="X-Request-ID: has space\r\n"))[FAST_HANDSHAKE]
    assert fast.request_id != "has space" and len(fast.request_id) == 32


def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy() -> None:
    request = head(extra="X-Forwarded-For: 203.0.113.9\r\n")
    assert environ_of(request, peer=("127.0.0.1", 1))["REMOTE_ADDR"] == "203.0.113.9"
    assert environ_of(request, peer=("10.0.0.7", 1))["REMOTE_ADDR"] == "10.0.0.7"


@pytest.mark.parametrize("request_head", [
    head(url="/socket.io/?EIO=4&transport=polling"),
    head(url="/socket.io/?EIO=4&transport=websocket&sid=abc"),
    head(url="/socket.io/?EIO=3&transport=websocket"),
    head(url="/socket.io/?transport=websocket"),
    head(url="/socket.io/?EIO=4&transport=websocket&j=1"),
    head(url="/socket.io?EIO=4&transport=websocket"),
    head(url="/health"),
    head(method="POST"),
    head(version="1.0"),
    head(extra="Sec-WebSocket-Protocol: chat\r\n"),
    head(extra="Content-Length: 3\r\n"),
    head(extra="Host: second.example\r\n"),
    head(extra="Origin: https://evil.example\r\n"),
    head(headers=f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"),
    head(headers=f"Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: {KEY}\r\n"
                 "Sec-WebSocket-Version: 13\r\n"),
    head(headers=f"Host: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"),
    head(headers=f"Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 8\r\n"),
    head(headers="Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n"),
    head(headers="Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: !!!!\r\nSec-WebSocket-Version: 13\r\n"),
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nBroken header line\r\n\r\n",
], ids=["polling", "sid", "EIO 3", "no EIO", "jsonp", "no slash", "health", "POST", "HTTP/1.0", "sub-protocol", "body",
        "two hosts", "foreign origin", "no host", "no connection upgrade", "other upgrade", "version 8", "short key",
        "bad key", "malformed"])
def test_anything_the_fast_path_does_not_fully_understand_is_left_to_aiohttp(request_head: bytes) -> None:
    assert environ_of(request_head) is None


def test_draining_and_an_address_at_its_cap_are_left_to_aiohttps_gates() -> None:
    assert environ_of(head(), handshakes(draining=True)) is None
    assert environ_of(head(), handshakes(count=10, limit=10)) is None
    assert environ_of(head(), handshakes(count=9, limit=10)) is not None


def test_a_deflate_offer_is_left_to_aiohttp_only_when_compression_is_on() -> None:
    offer = head(extra="Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
    assert environ_of(offer, handshakes(compression=True)) is None
    assert environ_of(offer, handshakes(compression=False)) is not None


def test_origins_are_checked_as_engineio_does_for_a_list_and_left_to_aiohttp_otherwise() -> None:
    foreign = head(extra="Origin: https://evil.example\r\n")
    assert environ_of(foreign, handshakes(origins=[])) is not None  # engine.io: [] turns the check off
    assert environ_of(foreign, handshakes(origins="*")) is None  # any other configuration: engine.io decides
    assert environ_of(head(), handshakes(origins="*")) is not None  # no Origin: nothing to check


def test_a_unix_socket_peer_is_left_to_aiohttp() -> None:
    assert environ_of(head(), peer="") is None


class WritingTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_a_connect_engineio_refuses_after_the_checks_gets_engineios_http_answer_and_the_connection_closes() -> None:
    """A refusal that only engine.io's connect makes (a connect handler saying no, e.g. the address cap reached by a
    connection that raced past the fast path's own check) reaches the client as engine.io's HTTP answer, as aiohttp
    would have written it: status, headers, body, and the connection closed."""
    answer = engineio.AsyncServer()._unauthorized("Too many connections")
    protocol = FirstRequest(None, handshakes())  # type: ignore[arg-type]
    transport = WritingTransport()
    protocol.transport = transport  # type: ignore[assignment]
    protocol.connected(answer)
    status, _, body = transport.written.partition(b"\r\n\r\n")
    lines = status.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 401 UNAUTHORIZED"
    assert b"Content-Type: application/json" in lines
    assert f"Content-Length: {len(answer['response'])}".encode() in lines
    assert body == b'"Too many connections"'
    assert transport.closed


def test_a_connect_taken_over_by_its_websocket_leaves_the_connection_open() -> None:
    protocol = FirstRequest(None, handshakes())  # type: ignore[arg-type]
    transport = WritingTransport()
    protocol.transport = transport  # type: ignore[assignment]
    protocol.connected(None)  # engine.io's connect returned once the websocket took the transport over
    assert transport.written == b"" and not transport.closed


class SuspendingEio(Eio):
    """An engine.io whose connect suspends (a connect handler awaiting something) until the test says how it ends."""

    def __init__(self) -> None:
        super().__init__()
        self.outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def _handle_connect(self, _environ: Any, _transport: str) -> Any:
        return await self.outcome


def suspended_connect(eio: SuspendingEio) -> tuple[FirstRequest, WritingTransport]:
    fast = handshakes()
    fast.eio = eio
    protocol = FirstRequest(None, fast)  # type: ignore[arg-type]
    transport = WritingTransport()
    protocol.transport = transport  # type: ignore[assignment]
    fast.connect({}, protocol)
    return protocol, transport


async def _settled() -> None:
    for _ in range(5):  # the connect's task, then its done callback
        await asyncio.sleep(0)


async def test_a_refusal_after_engineios_connect_suspended_is_written_when_it_comes() -> None:
    eio = SuspendingEio()
    _protocol, transport = suspended_connect(eio)
    await _settled()
    assert transport.written == b"" and not transport.closed  # still deciding
    eio.outcome.set_result(engineio.AsyncServer()._unauthorized("Too many connections"))
    await _settled()
    assert transport.written.startswith(b"HTTP/1.1 401 UNAUTHORIZED\r\n") and transport.closed


async def test_a_refusal_for_a_connection_that_closed_while_engineio_decided_writes_nothing() -> None:
    eio = SuspendingEio()
    protocol, transport = suspended_connect(eio)
    await _settled()
    transport.closed = True  # the client went away meanwhile
    protocol.connection_lost(None)
    eio.outcome.set_result(engineio.AsyncServer()._unauthorized("Too many connections"))
    await _settled()
    assert transport.written == b"" and protocol.lost


async def test_a_connect_that_fails_after_suspending_aborts_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    eio = SuspendingEio()
    _protocol, transport = suspended_connect(eio)
    aborted: list[bool] = []
    transport.abort = lambda: aborted.append(True)  # type: ignore[attr-defined]
    await _settled()
    eio.outcome.set_exception(RuntimeError("a connect handler broke"))
    await _settled()
    assert aborted == [True] and transport.written == b""
    assert "websocket handshake failed" in caplog.text
