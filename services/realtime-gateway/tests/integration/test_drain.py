"""Graceful drain: a draining gateway refuses new handshakes (503) and says so on /health, moves its sockets
away in batches, and with recovery they lose nothing while events keep flowing."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import httpx
import pytest
import socketio
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.payloads import NotificationData
from contracts.time import now_beijing

pytestmark = pytest.mark.integration

_ids = itertools.count(80_000)


class Recovering(socketio.AsyncClient):
    """Client side of recovery (pid + last offset), reconnecting to the next url of its list."""

    def __init__(self, token: str, urls: list[str]) -> None:
        super().__init__(reconnection=False)
        self.token, self.urls, self.pid, self.offset = token, urls, None, None
        self.recovered: list[bool] = []
        self.ids: list[int] = []
        self._turn = itertools.count()
        self._closing = False
        self.on("*", self._record)
        self.on("disconnect", self._dropped)

    def _auth(self) -> dict[str, Any]:
        return {"token": self.token, **({"pid": self.pid, "offset": self.offset} if self.pid else {})}

    async def _handle_connect(self, namespace: str | None, data: Any) -> None:
        pid = data.get("pid") if isinstance(data, dict) else None
        self.recovered.append(bool(pid) and pid == self.pid)
        self.pid = pid
        await super()._handle_connect(namespace, data)

    async def _record(self, event: str, *args: Any) -> None:
        if args and isinstance(args[-1], str):
            self.offset = args[-1]
        self.ids.append(args[0]["notification_id"])

    async def go(self) -> None:
        for _ in range(100):
            if self._closing:
                return
            try:
                await self.connect(self.urls[next(self._turn) % len(self.urls)], socketio_path="/socket.io",
                                   transports=["websocket"], auth=self._auth, wait_timeout=5)
                return
            except (socketio.exceptions.ConnectionError, ValueError):
                await asyncio.sleep(0.05)

    async def _dropped(self, *args: Any) -> None:
        if not self._closing:
            asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self.go()))

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            await self.disconnect()


async def test_a_drained_gateways_clients_recover_elsewhere_while_events_flow(start_gateway, broker, mint):
    gw1, gw2 = await start_gateway(), await start_gateway(drain_seconds=1.0)
    clients = [Recovering(mint.token(900 + n, "admin"), [gw2.url, gw1.url]) for n in range(30)]
    for client in clients:
        await client.go()
    assert gw2.gateway.connections.sockets == 30
    sent: list[int] = []
    stop = asyncio.Event()

    async def publish() -> None:
        while not stop.is_set():
            nid = next(_ids)
            data = NotificationData(notification_id=nid, type="system", title="t", content="c",
                                    created_at=now_beijing(), is_read=False)
            await broker.publish(r.NOTIFICATION_CREATED, p.NotificationCreated(notification=data, target_user_id=None))
            sent.append(nid)
            await asyncio.sleep(0.01)

    publisher = asyncio.create_task(publish())
    await asyncio.sleep(0.3)
    drain = asyncio.create_task(gw2.gateway.drain.run())
    await asyncio.sleep(0.1)
    async with httpx.AsyncClient(base_url=gw2.url) as http:
        assert (await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})).status_code == 503
        health = await http.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "draining"
    await drain
    assert gw2.gateway.connections.sockets == 0
    await asyncio.sleep(0.5)
    stop.set()
    await publisher
    async with asyncio.timeout(10):
        while any(c.ids[-1:] != sent[-1:] for c in clients):
            await asyncio.sleep(0.05)
    try:
        for client in clients:
            assert client.recovered[1:] == [True], client.recovered
            assert client.ids == sent  # nothing lost, nothing twice, in order
    finally:
        await asyncio.gather(*(c.close() for c in clients))
