"""Gateways running in-process on real ports against a real RabbitMQ vhost, Socket.IO clients that record
what they receive, and a publisher that sends domain events the way the services do (`new_envelope`)."""

import asyncio
import itertools
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import socketio
from aiohttp import web
from contracts.events import registry as r
from pydantic import BaseModel
from realtime_gateway.main import (
    GATEWAY_KEY,
    Gateway,
    create_app,
    gateway_runner,
    gateway_site,
    runner_options,
)
from realtime_gateway.settings import Settings
from servicekit.amqp import Publisher, connect
from servicekit.jwt import JwksVerifier
from servicekit_testing.tokens import TokenMint

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).resolve().parent.parent / "node"

_ids = itertools.count(1)


def next_id() -> int:
    return next(_ids)


@dataclass
class RunningGateway:
    url: str
    app: web.Application
    runner: web.AppRunner
    stopped: bool = False

    @property
    def gateway(self) -> Gateway:
        return self.app[GATEWAY_KEY]

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


@dataclass
class Client:
    """A python-socketio client that records every event it receives, in order."""

    sio: socketio.AsyncClient
    name: str
    received: list[tuple[str, Any]] = field(default_factory=list)
    offsets: list[str | None] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.received if event == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 5) -> list[Any]:
        await self.wait_until(lambda: len(self.events(name)) >= count, timeout)
        return self.events(name)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        """Emit with an ack and return the ack."""
        return await self.sio.call(event, data, timeout=timeout)


@dataclass
class Broker:
    """The test's own link to the vhost: publishes domain events like the services' outbox relays."""

    connection: aio_pika.abc.AbstractRobustConnection
    publisher: Publisher

    async def publish(self, event_type: str, payload: BaseModel, *, event_id: Any = None) -> Any:
        envelope = r.new_envelope(event_type, "test", payload, "1", event_id=event_id)
        await self.publish_raw(r.DOMAIN_EVENTS[event_type].exchange, event_type, envelope.to_bytes(),
                               message_id=str(envelope.event_id))
        return envelope

    async def publish_raw(self, exchange: str, routing_key: str, body: bytes, message_id: str = "raw") -> None:
        await self.publisher.publish(exchange, routing_key, body, message_id=message_id, message_type=routing_key)


@pytest.fixture(scope="session")
def mint() -> TokenMint:
    return TokenMint()


@pytest.fixture
async def vhost(make_vhost: Callable[[], Awaitable[str]]) -> str:
    """A fresh vhost per test: its gateways, queues and events see nobody else's."""
    return await make_vhost()


@pytest.fixture
async def broker(vhost: str) -> AsyncIterator[Broker]:
    connection = await connect(vhost, name="gateway-test")
    publisher = Publisher(connection)
    await publisher.start()
    yield Broker(connection, publisher)
    await connection.close()


@pytest.fixture
async def start_gateway(
    vhost: str, mint: TokenMint
) -> AsyncIterator[Callable[..., Awaitable[RunningGateway]]]:
    """Factory: `await start_gateway(**settings)` serves a gateway on 127.0.0.1:<free port>, connected to the
    test's vhost and trusting `mint`'s tokens; stopped at the end of the test."""
    running: list[RunningGateway] = []

    async def start(
        *, verifier: JwksVerifier | None = None, wait: bool = True, port: int = 0, **overrides: Any
    ) -> RunningGateway:
        # No platform services beat in these vhosts: watch none unless a test says which (ops/service_status.py).
        settings = Settings(**{"amqp_url": vhost, "status_services": [], **overrides})
        app = create_app(settings, jwt_verifier=verifier or mint.verifier())
        runner = gateway_runner(app, shutdown_timeout=1, **runner_options(settings))
        await runner.setup()
        site = gateway_site(runner, settings, "127.0.0.1", port)
        await site.start()
        host, port = runner.addresses[0][:2]
        gw = RunningGateway(f"http://{host}:{port}", app, runner)
        running.append(gw)
        if wait:
            await gw.gateway.broker.wait_ready(10)
            async with asyncio.timeout(10):  # its stream consumer knows where it is (its start marker arrived)
                await gw.gateway.consumer.position_known.wait()
        return gw

    yield start
    for gw in reversed(running):
        await gw.stop()


@pytest.fixture
async def connect_client(mint: TokenMint) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """Factory: `await connect_client(gw, user_id, "admin")` -> a connected, recording client."""
    clients: list[Client] = []

    async def make(
        gw: RunningGateway, user_id: int, user_type: str, *, token: str | None = None,
        transports: list[str] | None = None,
    ) -> Client:
        sio = socketio.AsyncClient(reconnection=False)
        client = Client(sio, f"{user_type}{user_id}")

        @sio.on("*")
        async def record(event: str, *args: Any) -> None:
            # stream events carry their offset as a last string argument (connection state recovery)
            client.received.append((event, args[0] if args else None))
            client.offsets.append(args[1] if len(args) > 1 else None)
            client._changed.set()

        await sio.connect(
            gw.url, socketio_path="/socket.io", transports=transports or ["websocket"],
            auth={"token": token or mint.token(user_id, user_type)}, wait_timeout=5,
        )
        clients.append(client)
        return client

    yield make
    await asyncio.gather(*(c.sio.disconnect() for c in clients if c.sio.connected), return_exceptions=True)


async def refusal_of(url: str, auth: Any) -> Any:
    """Try to connect; return what `connect_error` carried (the connection must fail)."""
    sio = socketio.AsyncClient(reconnection=False)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    received: list[str] = []

    @sio.event
    def connect_error(data: Any) -> None:
        if not refused.done():
            refused.set_result(data)

    @sio.on("*")
    def anything(event: str, *args: Any) -> None:
        received.append(event)

    try:
        await sio.connect(url, socketio_path="/socket.io", transports=["websocket"], auth=auth, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        await sio.disconnect()
        raise AssertionError("the connection was accepted")
    data = await asyncio.wait_for(refused, 5)
    assert not received, f"a refused socket received {received}"
    return data


@pytest.fixture
def refused() -> Callable[[str, Any], Awaitable[Any]]:
    return refusal_of


@pytest.fixture
def ids() -> Callable[[], int]:
    return next_id


@pytest.fixture(scope="session")
def node_client() -> Path:
    """`node` and the locked socket.io-client; `npm ci` when node_modules is missing. Never a silent skip."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "node and npm are required for the socket.io-client test (Debian: apt-get install nodejs npm; "
            "scripts/bootstrap.sh should install them)", pytrace=False,
        )
    if not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.fail(f"npm ci in {NODE_DIR} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return Path(node)
