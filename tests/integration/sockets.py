"""Socket.IO clients for whole-stack tests: log in through auth-svc, connect to a gateway, record every event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

PASSWORD = "Passw0rd!"


async def login(auth_url: str, username: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=auth_url, timeout=10) as client:
        response = await client.post("/api/v4/auth/login", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return response.json()


@dataclass
class Person:
    """A logged-in account with one recording socket (more tabs: ``open_tab``)."""

    username: str
    user_id: int
    token: str
    sio: socketio.AsyncClient
    received: list[tuple[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def events(self, name: str, where: Callable[[Any], bool] = lambda data: True) -> list[Any]:
        return [data for event, data in self.received if event == name and where(data)]

    async def wait_for(self, name: str, where: Callable[[Any], bool] = lambda data: True, *, count: int = 1,
                       timeout: float = 10) -> list[Any]:
        async with asyncio.timeout(timeout):
            while len(self.events(name, where)) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.events(name, where)

    async def call(self, event: str, data: Any, timeout: float = 10) -> Any:
        return await self.sio.call(event, data, timeout=timeout)


async def connect_person(auth_url: str, gateway_url: str, username: str, *,
                         transports: list[str] | None = None) -> Person:
    body = await login(auth_url, username)
    sio = socketio.AsyncClient(reconnection=False)
    person = Person(username, body["user"]["user_id"], body["access_token"], sio)

    @sio.on("*")
    async def record(event: str, *args: Any) -> None:
        # stream events carry their offset as a last string argument (connection state recovery)
        person.received.append((event, args[0] if args else None))
        person.changed.set()

    await sio.connect(gateway_url, socketio_path="/socket.io", transports=transports or ["websocket"],
                      auth={"token": person.token}, wait_timeout=10)
    return person
