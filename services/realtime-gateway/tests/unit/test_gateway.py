import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web

from realtime_gateway.main import create_app
from realtime_gateway.settings import Settings


@pytest.fixture
async def gateway_url() -> AsyncIterator[str]:
    """The gateway served by aiohttp on a free loopback port (the Socket.IO client needs a real socket)."""
    runner = web.AppRunner(create_app(Settings()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def get_health(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/health") as response:
        return response.status, await response.json()


async def test_health_names_the_service_and_counts_no_sockets(gateway_url: str) -> None:
    status, body = await get_health(gateway_url)
    assert status == 200
    assert body == {"status": "ok", "service": "realtime-gateway", "websocket": {"connected_sockets": 0}}


async def test_unauthenticated_client_is_refused_and_not_counted(gateway_url: str) -> None:
    client = socketio.AsyncClient(reconnection=False)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @client.event
    def connect_error(data: Any) -> None:
        if not refused.done():
            refused.set_result(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(gateway_url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=5)
    assert await asyncio.wait_for(refused, 5) == {"message": "unauthorized", "data": {"code": "token_missing"}}
    assert not client.connected

    _, body = await get_health(gateway_url)
    assert body["websocket"]["connected_sockets"] == 0


async def test_long_polling_connect_gets_connect_error_packet(gateway_url: str) -> None:
    # Browsers open with long-polling; the refusal must reach them as a CONNECT_ERROR packet ("44").
    # Raw Engine.IO v4 requests, because the Python client's polling shutdown waits out a 25 s ping interval.
    url = f"{gateway_url}/socket.io/"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"EIO": "4", "transport": "polling"}) as response:
            handshake = await response.text()
        assert handshake.startswith("0")
        sid = json.loads(handshake[1:])["sid"]
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        async with session.post(url, params=params, data="40") as response:
            assert response.status == 200
        async with session.get(url, params=params) as response:
            payload = await response.text()
    assert payload.startswith("44")
    assert json.loads(payload[2:]) == {"message": "unauthorized", "data": {"code": "token_missing"}}


def test_settings_read_the_gateway_prefix_and_json_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CORS_ALLOWED_ORIGINS", '["https://example.test"]')
    monkeypatch.setenv("GATEWAY_PORT", "8011")
    settings = Settings()
    assert settings.cors_allowed_origins == ["https://example.test"]
    assert settings.port == 8011
