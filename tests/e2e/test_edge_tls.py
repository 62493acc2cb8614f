"""The edge over HTTPS and WSS (issue 18, "TLS at the edge"): the same routes as the plain port, HTTP/2 for pages
and APIs, modern TLS only, HSTS on HTTPS answers only; Socket.IO over wss:// with no Origin header (what
wx.connectSocket sends) is accepted, a foreign Origin is not."""

from __future__ import annotations

import asyncio
import socket
import ssl

import aiohttp
import httpx
import pytest
import socketio

from tests.e2e.conftest import EdgeTls
from tests.integration.sockets import login
from tests.integration.stack import HOST

pytestmark = pytest.mark.usefixtures("stack")  # edge_tls names the port; the stack's edge listens on it


def _client_context(tls: EdgeTls) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls.ca))


def _handshake(context: ssl.SSLContext, port: int) -> ssl.SSLSocket:
    raw = socket.create_connection((HOST, port), timeout=5)
    return context.wrap_socket(raw, server_hostname=HOST)


async def test_https_negotiates_http2_with_modern_tls_and_a_certificate_the_dev_ca_signed(edge_tls: EdgeTls) -> None:
    context = _client_context(edge_tls)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with await asyncio.to_thread(_handshake, context, edge_tls.port) as tls:
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
async def test_tls_older_than_1_2_is_refused(edge_tls: EdgeTls, version: ssl.TLSVersion) -> None:
    context = _client_context(edge_tls)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer the old version at all
    context.minimum_version = version
    context.maximum_version = version
    with pytest.raises(ssl.SSLError) as refused:
        await asyncio.to_thread(_handshake, context, edge_tls.port)
    # The server said no (an alert), not this client library
    assert "NO_PROTOCOLS_AVAILABLE" not in str(refused.value)


async def test_pages_and_apis_answer_over_https_with_hsts_which_plain_http_never_sends(
    edge_tls: EdgeTls, base_url: str
) -> None:
    async with httpx.AsyncClient(base_url=edge_tls.url, verify=_client_context(edge_tls), timeout=10) as client:
        page = await client.get("/h5/chat.html")
        assert page.status_code == 200 and page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["strict-transport-security"] == f"max-age={edge_tls.hsts_max_age}"
        assert (await client.get("/health")).json()["edge"] == "ok"
        assert (await client.get("/api/v4/auth/me")).json()["error"]["code"] == "token_missing"
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        assert "strict-transport-security" not in (await client.get("/h5/chat.html")).headers


async def _connect_wss(edge_tls: EdgeTls, token: str, headers: dict[str, str]) -> socketio.AsyncClient:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_client_context(edge_tls)))
    client = socketio.AsyncClient(reconnection=False, http_session=session)
    try:
        await client.connect(edge_tls.url, socketio_path="/socket.io", transports=["websocket"], headers=headers,
                             auth={"token": token}, wait_timeout=10)
    except BaseException:
        await session.close()
        raise
    return client


async def test_socketio_over_wss_accepts_a_client_without_origin_and_refuses_a_foreign_origin(
    edge_tls: EdgeTls, base_url: str
) -> None:
    token = (await login(base_url, "user3"))["access_token"]
    client = await _connect_wss(edge_tls, token, {})  # like wx.connectSocket: no Origin header, no cookie
    try:
        assert client.connected
        assert client.eio.transport() == "websocket"
    finally:
        session = client.eio.http
        await client.disconnect()
        await session.close()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect_wss(edge_tls, token, {"Origin": "https://evil.example"})
