"""Connection state recovery with the spec's own client (socket.io-client 4.7.2 in Node, `tests/node/driver.mjs`):
a client that drops, misses events and reconnects gets `socket.recovered === true` and exactly the missed events
in order, then live ones; also across a restart of its gateway and onto another gateway; a too-old position gets
`recovered === false` and no replay. Plus the Python-side edges (forged / other account's pid)."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.batch import EVENT_BATCH_TYPE, pack_event_bodies
from contracts.payloads import NotificationData
from contracts.time import now_beijing
from realtime_gateway.clients.rooms import ADMINS
from realtime_gateway.transport.recovery import PidCodec

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
ADMIN = 601
_ids = itertools.count(70_000)


class Driver:
    """tests/node/driver.mjs: one Node process, several sockets, JSON lines both ways."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._rid = itertools.count(1)

    async def __call__(self, cmd: str, timeout: float = 20, **args: Any) -> dict[str, Any]:
        rid = next(self._rid)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"rid": rid, "cmd": cmd, **args}) + "\n").encode())
        await self.proc.stdin.drain()
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"the node driver exited: {await self.proc.stderr.read()}")  # type: ignore[union-attr]
                reply = json.loads(line)
                if reply.get("rid") == rid:
                    assert "error" not in reply, reply
                    return reply


@pytest.fixture
async def driver(node_client):
    proc = await asyncio.create_subprocess_exec(
        str(node_client), "driver.mjs", cwd=NODE_DIR, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    yield Driver(proc)
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


def broadcast() -> tuple[int, p.NotificationCreated]:
    nid = next(_ids)
    data = NotificationData(notification_id=nid, type="system", title=f"n{nid}", content="c",
                            created_at=now_beijing(), is_read=False)
    return nid, p.NotificationCreated(notification=data, target_user_id=None)


async def publish(broker, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        nid, payload = broadcast()
        await broker.publish(r.NOTIFICATION_CREATED, payload)
        ids.append(nid)
    return ids


def ids_of(state: dict[str, Any]) -> list[int]:
    return [data["notification_id"] for name, data, _ in state["events"] if name == "notification:broadcast"]


async def test_a_dropped_client_gets_exactly_what_it_missed_in_order_then_live(driver, start_gateway, broker, mint):
    gw = await start_gateway()
    first = await driver("open", id="a", url=gw.url, token=mint.token(ADMIN, "admin"))
    assert first["recovered"] is False
    before = await publish(broker, 3)
    state = await driver("wait", id="a", count=3)
    assert ids_of(state) == before and all(offset for *_, offset in state["events"])  # every event has an offset

    await driver("drop", id="a")
    missed = await publish(broker, 5)
    state = await driver("reconnect", id="a")
    assert state["recovered"] is True and state["connects"] == 2
    state = await driver("wait", id="a", count=8)
    assert ids_of(state) == before + missed  # exactly the missed ones, in order, once
    live = await publish(broker, 2)
    state = await driver("wait", id="a", count=10)
    assert ids_of(state) == before + missed + live
    offsets = [offset for *_, offset in state["events"]]
    assert len(set(offsets)) == 10


async def publish_batch(broker, n: int) -> list[int]:
    """`n` broadcasts in ONE stream message, as a service's outbox relay batches them."""
    ids, bodies = [], []
    for _ in range(n):
        nid, payload = broadcast()
        bodies.append(r.new_envelope(r.NOTIFICATION_CREATED, "test", payload, "1").to_bytes())
        ids.append(nid)
    await broker.publisher.publish(r.DOMAIN_EVENTS[r.NOTIFICATION_CREATED].exchange, r.NOTIFICATION_CREATED,
                                   pack_event_bodies(bodies), message_id=f"batch-{ids[0]}",
                                   message_type=EVENT_BATCH_TYPE)
    return ids


async def test_events_of_a_batch_arrive_in_order_with_one_position_each_and_a_reconnect_gets_the_missed_batch(
    driver, start_gateway, broker, mint,
):
    gw = await start_gateway()
    await driver("open", id="a", url=gw.url, token=mint.token(ADMIN, "admin"))
    before = await publish_batch(broker, 3)
    state = await driver("wait", id="a", count=3)
    assert ids_of(state) == before
    offsets = [offset for *_, offset in state["events"]]
    head = offsets[0]
    assert offsets == [head, f"{head}.1", f"{head}.2"]  # one stream message, a position per delivery

    await driver("drop", id="a")
    missed = await publish_batch(broker, 4)
    state = await driver("reconnect", id="a")
    assert state["recovered"] is True
    state = await driver("wait", id="a", count=7)
    assert ids_of(state) == before + missed  # exactly the missed batch, in order, once
    live = await publish(broker, 1)
    state = await driver("wait", id="a", count=8)
    assert ids_of(state) == before + missed + live


async def test_recovery_survives_a_restart_of_the_gateway_on_the_same_port(driver, start_gateway, broker, mint):
    gw = await start_gateway()
    port = int(gw.url.rsplit(":", 1)[1])
    await driver("open", id="a", url=gw.url, token=mint.token(ADMIN, "admin"))
    before = await publish(broker, 2)
    await driver("wait", id="a", count=2)
    await gw.stop()  # the client's transport closes; it retries by itself while nobody listens
    missed = await publish(broker, 4)
    await start_gateway(port=port)  # a new process as far as recovery knows: nothing shared but the stream
    state = await driver("awaitConnects", id="a", connects=2)
    assert state["recovered"] is True
    state = await driver("wait", id="a", count=6)
    assert ids_of(state) == before + missed
    live = await publish(broker, 1)
    state = await driver("wait", id="a", count=7)
    assert ids_of(state) == before + missed + live


async def test_a_client_of_a_stopped_gateway_recovers_on_the_other_one(driver, start_gateway, broker, mint):
    gw1, gw2 = await start_gateway(), await start_gateway()
    await driver("open", id="a", url=gw1.url, token=mint.token(ADMIN, "admin"))
    await driver("open", id="b", url=gw2.url, token=mint.token(ADMIN + 1, "admin"))
    before = await publish(broker, 2)
    await driver("wait", id="a", count=2)
    await driver("retarget", id="a", url=gw2.url)  # what a balancer does when gw1 is gone
    await gw1.stop()
    missed = await publish(broker, 3)
    state = await driver("awaitConnects", id="a", connects=2)
    assert state["recovered"] is True
    state = await driver("wait", id="a", count=5)
    assert ids_of(state) == before + missed
    assert ids_of(await driver("wait", id="b", count=5)) == before + missed  # b stayed: no duplicates


async def test_a_too_old_position_is_not_recovered_and_nothing_is_replayed(driver, start_gateway, broker, mint):
    gw = await start_gateway(recovery_window_seconds=1)
    await driver("open", id="a", url=gw.url, token=mint.token(ADMIN, "admin"))
    before = await publish(broker, 1)
    await driver("wait", id="a", count=1)
    await driver("drop", id="a")
    await asyncio.sleep(1.5)
    await publish(broker, 2)
    state = await driver("reconnect", id="a")
    assert state["recovered"] is False  # the page reloads its lists
    live = await publish(broker, 1)
    state = await driver("wait", id="a", count=2)
    await asyncio.sleep(0.2)
    assert ids_of(await driver("state", id="a")) == before + live


class PyRecoveringClient(socketio.AsyncClient):
    """The client side of recovery in python-socketio (which has none): remembers `pid` and the last offset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(reconnection=False, **kwargs)
        self.pid: str | None = None
        self.recovered = False

    async def _handle_connect(self, namespace: str | None, data: Any) -> None:
        pid = data.get("pid") if isinstance(data, dict) else None
        self.recovered = bool(pid) and pid == self.pid
        self.pid = pid
        await super()._handle_connect(namespace, data)


async def _connect(url: str, auth: dict[str, Any]) -> PyRecoveringClient:
    client = PyRecoveringClient()
    await client.connect(url, socketio_path="/socket.io", transports=["websocket"], auth=auth, wait_timeout=5)
    return client


async def test_a_pid_is_honoured_only_for_its_own_account_and_only_when_signed(start_gateway, broker, mint):
    gw = await start_gateway()
    owner = await _connect(gw.url, {"token": mint.token(ADMIN, "admin")})
    assert owner.pid and owner.recovered is False
    pid = owner.pid
    await owner.disconnect()
    for auth in (
        {"token": mint.token(ADMIN + 5, "admin"), "pid": pid},  # someone else's pid
        {"token": mint.token(ADMIN, "user"), "pid": pid},  # same id, other type
        {"token": mint.token(ADMIN, "admin"), "pid": PidCodec("another secret").issue(
            _principal(ADMIN), None)},  # forged
        {"token": mint.token(ADMIN, "admin"), "pid": pid, "offset": "not-an-offset"},
        {"token": mint.token(ADMIN, "admin"), "pid": pid, "offset": "999999999"},  # not in the stream
        {"token": mint.token(ADMIN, "admin"), "pid": ["x"]},
    ):
        other = await _connect(gw.url, auth)
        assert other.recovered is False and other.pid != pid, auth
        await other.disconnect()
    again = await _connect(gw.url, {"token": mint.token(ADMIN, "admin"), "pid": pid})
    assert again.pid == pid  # the real owner, within the window (no event yet: the pid's own position)
    # and the recovered socket is in its rooms
    assert ADMINS in gw.gateway.sio.manager.get_rooms(again.get_sid("/"), "/")
    await again.disconnect()


def _principal(user_id: int):
    from contracts.identity import Principal

    return Principal(user_id=user_id, user_type="admin", username="x")


async def _metrics(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        return await response.text()


async def test_recoveries_are_counted_by_outcome_with_the_events_they_replayed(driver, start_gateway, broker, mint):
    gw = await start_gateway(recovery_window_seconds=2)
    await driver("open", id="a", url=gw.url, token=mint.token(ADMIN, "admin"))
    await publish(broker, 1)
    await driver("wait", id="a", count=1)
    await driver("drop", id="a")
    await publish(broker, 3)
    assert (await driver("reconnect", id="a"))["recovered"] is True
    await driver("wait", id="a", count=4)
    await driver("drop", id="a")
    await asyncio.sleep(2.5)
    await publish(broker, 1)
    assert (await driver("reconnect", id="a"))["recovered"] is False
    text = await _metrics(gw.url)
    assert 'gateway_recoveries_total{outcome="recovered"} 1.0' in text
    assert 'gateway_recoveries_total{outcome="not_recovered"} 1.0' in text
    assert "gateway_recovery_replayed_events_total 3.0" in text
