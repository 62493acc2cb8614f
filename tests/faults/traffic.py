"""Traffic for fault tests: recovering sockets that count what they receive, and senders that count what the
services accepted.

- `RecoveringSocket`: a python-socketio client with the client side of Socket.IO connection state recovery
  (what socket.io-client does by itself): it keeps the CONNECT reply's `pid` and the last string argument of
  every event, sends both on reconnect, and reconnects by itself (capped backoff) to the next gateway of its
  list when its connection drops (what a balancer in front of several gateways gives a browser).
- `Resender`: sends one item after another, sending the same item again under its key until it is accepted, so
  every item is accepted exactly once and "sent" is what the services accepted. Its transports: `Sender` (REST,
  an `Idempotency-Key`, accepted on a 2xx) and `SocketSender` (a user's chat messages over their own socket,
  `chat:send_message` with the same `client_msg_id` while its ack is lost: timeout, unavailable, the socket gone,
  as the SDK does).
- `Tally`: per socket, expected ids vs received ids -> lost / duplicates; and chat messages stored twice (one
  content under two message ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import socketio


class RecoveringSocket(socketio.AsyncClient):
    def __init__(self, name: str, token: str, urls: list[str]) -> None:
        super().__init__(reconnection=False)
        self.name = name
        self.token = token
        self.urls = urls
        self.pid: str | None = None
        self.offset: str | None = None
        self.recovered = False
        self.connects = 0
        self.not_recovered = 0
        self.counts: Counter[tuple[str, int]] = Counter()
        """(event, id) -> how many times received."""
        self.message_ids: dict[tuple[Any, str], set[int]] = {}
        """(session id, chat message content) -> the message ids it came under (one, unless stored twice)."""
        self.shown: set[tuple[str, int]] = set()
        self._turn = itertools.count()
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self.on("*", self._record)
        self.on("disconnect", self._dropped)

    def _auth(self) -> dict[str, Any]:
        auth: dict[str, Any] = {"token": self.token}
        if self.pid:
            auth["pid"] = self.pid
            if self.offset is not None:
                auth["offset"] = self.offset
        return auth

    async def _handle_connect(self, namespace: str | None, data: Any) -> None:
        pid = data.get("pid") if isinstance(data, dict) else None
        self.recovered = bool(pid) and pid == self.pid
        if self.connects and not self.recovered:
            self.not_recovered += 1
        self.connects += 1
        self.pid = pid
        await super()._handle_connect(namespace, data)

    async def _record(self, event: str, *args: Any) -> None:
        if args and isinstance(args[-1], str):
            self.offset = args[-1]
        data = args[0] if args else None
        key = _id_of(event, data)
        if key is not None:
            self.counts[key] += 1
            self.shown.add(key)  # the page dedups by id
            if key[0] == "m" and isinstance(data, dict):
                content = (data.get("session_id"), str(data.get("message_content")))
                self.message_ids.setdefault(content, set()).add(key[1])

    async def open(self, index: int) -> None:
        self._turn = itertools.count(index)
        await self._connect_somewhere(deadline=time.monotonic() + 15)

    async def _connect_somewhere(self, deadline: float) -> None:
        backoff = 0.05
        while not self._closing:
            url = self.urls[next(self._turn) % len(self.urls)]
            try:
                await self.connect(url, socketio_path="/socket.io", transports=["websocket"], auth=self._auth,
                                   wait_timeout=5)
                return
            except (socketio.exceptions.ConnectionError, ValueError, OSError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 0.5)

    async def _dropped(self, *args: Any) -> None:
        if not self._closing and (self._reconnecting is None or self._reconnecting.done()):
            self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await self._connect_somewhere(deadline=time.monotonic() + 60)

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        with contextlib.suppress(Exception):
            await self.disconnect()


def _id_of(event: str, data: Any) -> tuple[str, int] | None:
    if not isinstance(data, dict):
        return None
    if event in ("notification:new", "notification:broadcast"):
        return "n", data.get("notification_id")  # type: ignore[return-value]
    if event == "chat:new_message":
        return "m", data.get("message_id")  # type: ignore[return-value]
    return None


Accepted = tuple[tuple[str, int], list[str]]
"""(kind, id) of an item a service accepted, and the sockets that must receive it."""


@dataclass(kw_only=True)
class Resender:
    """Sends items one after another; each is sent again, under the same key, until it is accepted (a real
    client's retry): so every item is accepted exactly once, and "sent" is what the services accepted. A
    transport says how one item is made (`item`) and how one attempt goes (`attempt`: None when the answer is
    lost or transient)."""

    interval: float = 0.1
    accepted: list[Accepted] = field(default_factory=list)
    attempts_failed: int = 0
    _stop: bool = False

    def connection(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return contextlib.nullcontext()

    def item(self, n: int) -> Any:
        raise NotImplementedError

    async def attempt(self, connection: Any, item: Any) -> Accepted | None:
        raise NotImplementedError

    async def run(self) -> None:
        async with self.connection() as connection:
            for n in itertools.count():
                if self._stop:
                    return
                item = self.item(n)
                while (accepted := await self.attempt(connection, item)) is None:
                    self.attempts_failed += 1
                    await asyncio.sleep(0.2)
                self.accepted.append(accepted)
                await asyncio.sleep(self.interval)

    def stop(self) -> None:
        self._stop = True


@dataclass
class Sender(Resender):
    """Over REST: each item a POST with its own `Idempotency-Key`, accepted on a 2xx."""

    name: str
    base_url: str
    token: str
    path: str
    body: Callable[[int], dict[str, Any]]
    kind: str
    recipients: Callable[[dict[str, Any]], list[str]]
    """socket names that must receive the accepted item (from the service's answer)."""

    def connection(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return httpx.AsyncClient(base_url=self.base_url, timeout=5, headers={"Authorization": f"Bearer {self.token}"})

    def item(self, n: int) -> tuple[str, dict[str, Any]]:
        return str(uuid.uuid4()), self.body(n)

    async def attempt(self, connection: Any, item: tuple[str, dict[str, Any]]) -> Accepted | None:
        key, body = item
        try:
            response = await connection.post(self.path, json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            return None
        if response.status_code not in (200, 201):
            return None
        answer = response.json()
        item_id = answer["notification_id"] if self.kind == "n" else answer["message_id"]
        return (self.kind, item_id), self.recipients(answer)


class Sends(Protocol):
    name: str
    accepted: list[Accepted]
    attempts_failed: int


@dataclass
class SocketSender(Resender):
    """A user's chat messages over their own socket, each sent again with the same `client_msg_id` until its ack
    says it was stored (a lost ack: `timeout`, `unavailable`, or the socket gone), as the SDK does."""

    name: str
    socket: RecoveringSocket
    session_id: int
    content: Callable[[int], str]
    recipients: list[str]
    interval: float = field(default=0.4, kw_only=True)

    def item(self, n: int) -> dict[str, Any]:
        return {"session_id": self.session_id, "content": self.content(n), "client_msg_id": uuid.uuid4().hex}

    async def attempt(self, connection: Any, item: dict[str, Any]) -> Accepted | None:
        try:
            ack = await self.socket.call("chat:send_message", item, timeout=6)
        except (socketio.exceptions.SocketIOError, OSError):
            return None  # not connected, or no ack in time: the message may or may not be stored
        if isinstance(ack, dict) and ack.get("ok"):
            return ("m", ack["data"]["message_id"]), self.recipients
        if isinstance(ack, dict) and ack.get("error", {}).get("code") not in ("timeout", "unavailable"):
            raise AssertionError(f"{self.name}: chat:send_message refused: {ack}")
        return None


@dataclass
class Tally:
    sent: int
    deliveries_expected: int
    lost: int
    duplicates_raw: int
    duplicates_shown: int
    stored_twice: int
    """chat messages that reached the sockets under two message ids (a resend stored as a second message)."""
    reconnects: int
    not_recovered: int
    lost_examples: list[str]

    def line(self, scenario: str) -> str:
        return (f"[{scenario}] sent {self.sent} items, {self.deliveries_expected} expected deliveries: "
                f"lost {self.lost}, duplicates shown {self.duplicates_shown} (raw {self.duplicates_raw}), "
                f"stored twice {self.stored_twice}, "
                f"reconnects {self.reconnects} (not recovered {self.not_recovered})")


def tally(senders: Sequence[Sends], sockets: dict[str, RecoveringSocket]) -> Tally:
    expected = 0
    lost: list[str] = []
    for sender in senders:
        for key, names in sender.accepted:
            for name in names:
                expected += 1
                if key not in sockets[name].shown:
                    lost.append(f"{name} missed {key}")
    raw = sum(count - 1 for s in sockets.values() for count in s.counts.values() if count > 1)
    ids_by_content: dict[tuple[Any, str], set[int]] = {}
    for s in sockets.values():
        for content, ids in s.message_ids.items():
            ids_by_content.setdefault(content, set()).update(ids)
    return Tally(
        sent=sum(len(s.accepted) for s in senders), deliveries_expected=expected, lost=len(lost),
        duplicates_raw=raw, duplicates_shown=0,
        stored_twice=sum(1 for ids in ids_by_content.values() if len(ids) > 1), reconnects=sum(max(s.connects - 1, 0) for s in sockets.values()),
        not_recovered=sum(s.not_recovered for s in sockets.values()), lost_examples=lost[:10],
    )


async def wait_delivered(senders: Sequence[Sends], sockets: dict[str, RecoveringSocket], timeout: float) -> None:
    """Until every accepted item reached every socket that must have it (or the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tally(senders, sockets).lost == 0:
            return
        await asyncio.sleep(0.2)
