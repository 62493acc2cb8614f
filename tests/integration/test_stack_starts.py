"""The harness itself: the whole stack starts, answers, refuses strangers, survives a crash of one service."""

import asyncio
from typing import Any

import httpx
import pytest
import socketio

from tests.integration.stack import Stack

AUTH, NOTIFICATION, CHAT, GATEWAY = "auth-svc", "notification-svc", "chat-svc", "realtime-gateway"


@pytest.mark.parametrize("name", [AUTH, NOTIFICATION, CHAT, GATEWAY])
async def test_every_service_answers_health_with_its_name(stack: Stack, name: str) -> None:
    async with httpx.AsyncClient(base_url=stack.url(name), timeout=5) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["service"] == name


async def test_auth_serves_its_public_keys(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=5) as client:
        response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json()["keys"], "auth-svc published no signing key"


async def test_gateway_refuses_an_unauthenticated_socketio_client(stack: Stack) -> None:
    client = socketio.AsyncClient(reconnection=False)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @client.event
    def connect_error(data: Any) -> None:
        if not refused.done():
            refused.set_result(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(stack.url(GATEWAY), transports=["websocket"], wait_timeout=5)
    data = await asyncio.wait_for(refused, 5)
    assert "unauthorized" in data["message"] and data["data"]["code"] == "token_missing"
    assert not client.connected


async def test_a_killed_service_comes_back_healthy_on_the_same_url(stack: Stack) -> None:
    chat = stack[CHAT]
    url, old_pid = chat.base_url, chat.process.pid if chat.process else None

    assert await chat.kill() == -9
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        with pytest.raises(httpx.TransportError):
            await client.get("/health")

        await chat.restart()
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["service"] == CHAT
    assert chat.base_url == url and chat.process is not None and chat.process.pid != old_pid
