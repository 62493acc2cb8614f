"""Socket.IO v4 connection state recovery, with the state outside the process (the event stream).

The protocol (socket.io-client 4.7): the server's CONNECT reply carries `{sid, pid}`; the client keeps `pid` and
the last string argument of every event (`_lastOffset`); on reconnect its CONNECT carries
`{...auth, pid, offset}`, and `socket.recovered` is true when the reply carries the same `pid`.

Here:
- `pid` = base64url(JSON [user_id, user_type, issued_at, offset_hint, nonce]) "." HMAC-SHA256 (truncated), keyed with
  `GATEWAY_RECOVERY_SECRET`: any gateway checks it without shared state. `offset_hint` is the stream offset this
  gateway had fully emitted when the socket joined its rooms (a socket that got no event yet resumes from it).
- A reconnect with a valid `pid` of the same account (the token decides the account, as always) resumes from
  max(client offset, pid hint) if that position is at most `recovery_window_seconds` old (by the time of the
  event stored there, or the pid's issue) and still in the stream: the socket's live events are held, the range
  up to the live consumer's position is read from the stream and filtered to the socket's rooms, CONNECT is sent
  with the SAME pid, then the replay, then the held events past it, then the socket joins its rooms.
- Anything else (no/forged/other account's pid, bad or unknown offset, too old, stream gap, broker down,
  timeout): a fresh `pid` (the client sees `recovered === false` and reloads its lists).

`RecoveringServer` is a narrow `socketio.AsyncServer` subclass: its `_handle_connect` is python-socketio 5.18's,
except that the connect handler may return `Accepted(pid, after)`: the pid goes into the CONNECT reply and
`after()` runs once the socket is connected.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import socketio
from contracts.errors import ContractError
from contracts.events.batch import event_bodies
from contracts.events.registry import parse_domain_event
from contracts.identity import Principal
from engineio import packet as eio_packet
from socketio import exceptions, packet

from realtime_gateway.delivery.consumer import EventConsumer
from realtime_gateway.delivery.emitter import Emitter
from realtime_gateway.delivery.routing import deliveries
from realtime_gateway.delivery.stream import (
    MARK_TYPE,
    Position,
    Stored,
    StreamGap,
    StreamReader,
    format_offset,
    message_time,
    parse_offset,
)
from realtime_gateway.transport.connection_environ import connection_environ
from realtime_gateway.transport.protocol_guard import (
    CONNECT_TIMEOUT,
    ProtocolGuard,
    Violation,
    decode_socketio,
)
from realtime_gateway.transport.websocket_session import GatewayEngineIO

log = logging.getLogger(__name__)

DEV_SECRET = "dev-only-recovery-secret-change-me"
AHEAD_WAIT_SECONDS = 1.0
ALL = 1 << 30
"""Delivery index meaning 'every delivery of this offset'."""
_tasks: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class Accepted:
    """What a connect handler returns for an accepted socket: the CONNECT reply's `pid`, and what to do once
    the socket is connected (replay, flush, join its rooms)."""

    pid: str
    after: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class PidClaim:
    pid: str
    issued_at: float
    offset_hint: int | None


class PidCodec:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _sign(self, body: str) -> str:
        digest = hmac.digest(self._key, body.encode(), hashlib.sha256)[:18]  # one-shot: OpenSSL's, no HMAC object
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, principal: Principal, offset_hint: int | None, now: float | None = None) -> str:
        # the nonce: a fresh session never gets the pid of the one it replaces (the client would think it recovered)
        issued = int(now if now is not None else time.time())
        data = [principal.user_id, principal.user_type, issued, offset_hint, secrets.token_hex(4)]
        # orjson: the same compact JSON as json.dumps(separators=(",", ":")) at a fraction of its cost per handshake
        body = base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def verify(self, pid: Any, principal: Principal) -> PidClaim | None:
        """The claim when `pid` is ours (signature) and names `principal`'s account; else None."""
        if not isinstance(pid, str) or len(pid) > 200 or pid.count(".") != 1:
            return None
        body, signature = pid.split(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            user_id, user_type, issued_at, hint, _nonce = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError):
            return None
        if (user_id, user_type) != (principal.user_id, principal.user_type):
            return None
        return PidClaim(pid, float(issued_at), hint if isinstance(hint, int) else None)


def socket_events(
    stored: Stored, rooms: frozenset[str], after: Position, skip: Callable[[int, str], bool] = lambda *_: False,
) -> list[tuple[str, dict[str, Any], str]]:
    """The Socket.IO events one stored message (one event or an event batch) became for a socket in `rooms`, past
    position `after`; numbered across the whole message as the live consumer numbers them (delivery/consumer.py).
    `skip(i, event_id)`: the message's i-th event is a duplicate (its deliveries are counted, not returned)."""
    if stored.type == MARK_TYPE:
        return []
    try:
        bodies = event_bodies(stored.type, stored.body)
    except ContractError:
        return []
    events: list[tuple[str, dict[str, Any], str]] = []
    first_index = 0
    for event_index, body in enumerate(bodies):
        try:
            envelope, payload = parse_domain_event(body)
        except ContractError:
            continue  # dead-lettered by the live consumer: no deliveries there either
        planned = deliveries(envelope.event_type, payload)
        if not skip(event_index, str(envelope.event_id)):
            events.extend(
                (d.event, d.data(), format_offset(stored.offset, index))
                for index, d in enumerate(planned, start=first_index)
                if (stored.offset, index) > after and not rooms.isdisjoint(d.rooms)
            )
        first_index += len(planned)
    return events


class Recovery:
    def __init__(
        self,
        codec: PidCodec,
        consumer: EventConsumer,
        emitter: Emitter,
        reader: StreamReader,
        window_seconds: float,
        timeout: float,
    ) -> None:
        self._codec = codec
        self._consumer = consumer
        self._emitter = emitter
        self._reader = reader
        self.window_seconds = window_seconds
        self._timeout = timeout
        self.outcomes: collections.Counter[str] = collections.Counter()
        """Reconnections by outcome: `recovered`, `not_recovered` (a valid pid, but the replay failed or was too
        old) and `rejected_pid` (not ours or not theirs); read by `metrics.Metrics.watch_recovery`."""
        self.replayed = 0
        """Events sent in replays."""

    def fresh(self, sid: str, principal: Principal, rooms: list[str]) -> Accepted:
        """A new session: join now; the pid remembers the stream position this socket starts from."""
        self._emitter.join(sid, rooms)
        pid = self._codec.issue(principal, self._consumer.finished)

        async def nothing() -> None:
            return None

        return Accepted(pid, nothing)

    async def accept(self, sid: str, principal: Principal, rooms: list[str], auth: Any) -> Accepted:
        """Recover the session named by `auth.pid` / `auth.offset`, or start a fresh one."""
        claim = self._codec.verify(auth.get("pid"), principal) if isinstance(auth, dict) else None
        if claim is None:
            if isinstance(auth, dict) and "pid" in auth:
                self.outcomes["rejected_pid"] += 1
                log.info("user %s: pid not ours or not theirs; new session", principal.user_id)
            return self.fresh(sid, principal, rooms)
        self._emitter.hold(sid, rooms)
        try:
            # A gateway that just (re)started may take a client before its broker link and stream position are
            # ready (clients reconnect as soon as the port answers): wait for them, within the replay bound.
            await asyncio.wait_for(self._consumer.position_known.wait(), self._timeout)
            replay = await self._replay(claim, auth.get("offset"), frozenset(rooms))
        except Exception as exc:  # noqa: BLE001 - whatever failed, a fresh session is always correct
            log.info("user %s: session %s... not recovered (offset %s, live at %s): %s: %s", principal.user_id,
                     claim.pid[:12], auth.get("offset"), self._consumer.started, type(exc).__name__, exc)
            replay = None
        if replay is None:
            self.outcomes["not_recovered"] += 1
            self._emitter.release(sid)
            return self.fresh(sid, principal, rooms)
        events, last = replay
        self.outcomes["recovered"] += 1
        self.replayed += len(events)

        async def after() -> None:
            await self._send(sid, events, last, rooms)

        return Accepted(claim.pid, after)

    async def _replay(
        self, claim: PidClaim, client_offset: Any, rooms: frozenset[str]
    ) -> tuple[list[tuple[str, dict[str, Any], str]], Position] | None:
        client = parse_offset(client_offset) if client_offset is not None else None
        if client_offset is not None and client is None:
            raise ValueError(f"unreadable offset {str(client_offset)[:40]!r}")
        hint = (claim.offset_hint, ALL) if claim.offset_hint is not None else None
        candidates = [p for p in (client, hint) if p is not None]
        if not candidates:
            raise ValueError("no position to resume from")
        start = max(candidates)
        consumer = self._consumer
        if consumer.started is None:  # just started: its start marker is on its way
            async with asyncio.timeout(self._timeout):
                await consumer.position_known.wait()
        if consumer.started is None or consumer.started < start[0]:
            # this gateway's live consumer is a little behind the one that served the client: wait briefly (an
            # offset far ahead is made up: not recovered)
            async with asyncio.timeout(min(self._timeout, AHEAD_WAIT_SECONDS)):
                while consumer.started is None or consumer.started < start[0]:
                    consumer.advanced.clear()
                    await consumer.advanced.wait()
        until = consumer.started
        assert until is not None
        stored = await self._reader.read(start[0], max(until, start[0]), self._timeout)
        when = max(message_time(stored[0].body) or 0.0, claim.issued_at)
        if time.time() - when > self.window_seconds:
            raise StreamGap(f"position {format_offset(*start)} is older than {self.window_seconds:.0f}s")
        duplicates = set(consumer.duplicate_events)
        events: list[tuple[str, dict[str, Any], str]] = []
        seen: set[str] = set()
        for item in stored:
            if item.offset > until:
                continue

            def skip(event_index: int, event_id: str, offset: int = item.offset) -> bool:
                if (offset, event_index) in duplicates or event_id in seen:
                    return True
                seen.add(event_id)
                return False

            events.extend(socket_events(item, rooms, start, skip))
        return events, max(start, (until, ALL))

    async def _send(
        self, sid: str, events: list[tuple[str, dict[str, Any], str]], last: Position, rooms: list[str]
    ) -> None:
        """After CONNECT: the replay, then what was held past it, then the rooms (no await between the last
        empty check and joining, so nothing slips between held and live)."""
        try:
            for event, data, offset in events:
                await self._emitter.emit(event, data, [sid], offset)
            while held := self._emitter.take_held(sid):
                for event, data, held_offset in held:
                    position = parse_offset(held_offset) if held_offset is not None else None
                    if position is None or position > last:
                        await self._emitter.emit(event, data, [sid], held_offset)
            self._emitter.join(sid, rooms)
        finally:
            self._emitter.release(sid)


# misc: python-socketio ships no types (pyproject's [tool.mypy] override), so AsyncServer is Any to mypy
# (subclassing Any), as for fanout.FanOutManager and compression.GatewayWebSocket; our own methods stay typed.
class RecoveringServer(socketio.AsyncServer):  # type: ignore[misc]
    """`AsyncServer` whose CONNECT reply carries the `pid` a connect handler returns in `Accepted`, and which
    screens every client packet before python-socketio acts on it (`transport/protocol_guard.py`: binary and malformed
    packets, events before CONNECT close the connection) and closes a connection that sends no CONNECT within
    `connect_timeout` seconds.

    Seams into python-socketio 5.18's private methods (the dispatch of `AsyncServer._handle_eio_message`, and
    `_handle_connect`, `_handle_disconnect`, `_handle_event`, `_handle_ack`, `_handle_eio_connect`,
    `_handle_eio_disconnect` with their stock signatures); `tests/unit/test_protocol_guard.py` and the
    integration tests `test_protocol.py` check them against the installed version."""

    def __init__(self, *args: Any, connect_timeout: float = 45.0, protocol_log_interval: float = 60.0,
                 lean_sessions: bool = False, **kwargs: Any) -> None:
        self.lean_sessions = lean_sessions  # read by `_engineio_server_class` during `super().__init__`
        super().__init__(*args, **kwargs)
        self.connect_timeout = connect_timeout
        self.guard = ProtocolGuard(self.eio, protocol_log_interval)
        self.guard.environ_of = self.environ.get
        self._deadlines: dict[str, asyncio.TimerHandle] = {}

    def _engineio_server_class(self) -> Any:
        """With `lean_sessions`: engine.io's server with the ping wheel (transport/websocket_session.py)."""
        return GatewayEngineIO if self.lean_sessions else super()._engineio_server_class()

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        result = await super()._handle_eio_connect(eio_sid, environ)
        # the connection keeps its client address, not the handshake request (transport/connection_environ.py)
        self.environ[eio_sid] = connection_environ(environ, self.guard.address_of)
        self._arm_deadline(eio_sid, self.connect_timeout)
        return result

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        deadline = self._deadlines.pop(eio_sid, None)
        if deadline is not None:
            deadline.cancel()
        sock = self.eio.sockets.get(eio_sid)
        if reason == self.eio.reason.CLIENT_DISCONNECT and sock is not None and not sock.upgraded:
            # The client's Engine.IO CLOSE over polling: answer its pending GET now (NOOP), not at ping timeout.
            sock.queue.put_nowait(eio_packet.Packet(eio_packet.NOOP))
        await super()._handle_eio_disconnect(eio_sid, reason)

    def _arm_deadline(self, eio_sid: str, delay: float) -> None:
        loop = asyncio.get_running_loop()
        self._deadlines[eio_sid] = loop.call_later(delay, self._deadline_passed, eio_sid)

    def _deadline_passed(self, eio_sid: str) -> None:
        self._deadlines.pop(eio_sid, None)
        if eio_sid not in self.eio.sockets:
            return
        namespaces = [(ns, self.manager.sid_from_eio_sid(eio_sid, ns)) for ns in self.manager.get_namespaces()]
        sids = [(ns, sid) for ns, sid in namespaces if sid is not None]
        if any(self.manager.is_connected(sid, ns) for ns, sid in sids):
            return
        if sids:  # a handshake is still running (token check, recovery replay): look again shortly
            self._arm_deadline(eio_sid, 1.0)
            return
        task = asyncio.get_running_loop().create_task(
            self.guard.refuse(eio_sid, CONNECT_TIMEOUT, self.environ.get(eio_sid)))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or sock.closing or sock.closed:
            return  # a closed (or refused) connection: whatever it still sends is dropped unread
        pkt = decode_socketio(
            self.packet_class, data, lambda ns: self.manager.sid_from_eio_sid(eio_sid, ns) is not None)
        if isinstance(pkt, Violation):
            await self.guard.refuse(eio_sid, pkt, self.environ.get(eio_sid), data)
            return
        kind = pkt.packet_type
        if kind == packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif kind == packet.EVENT:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        else:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        namespace = namespace or "/"
        sid = None
        if namespace in self.handlers or namespace in self.namespace_handlers or self.namespaces == "*" \
                or namespace in self.namespaces:
            sid = await self.manager.pre_connect(eio_sid, namespace)
        if sid is None:
            # what the protocol (and Node's socket.io) answers; socket.io-client reads `message` from it
            await self._send_packet(eio_sid, self.packet_class(
                packet.CONNECT_ERROR, data={"message": "Invalid namespace"}, namespace=namespace))
            return
        fail_reason: Any = exceptions.ConnectionRefusedError().error_args
        try:
            result = await self._trigger_event("connect", namespace, sid, self.environ[eio_sid], data or None)
        except exceptions.ConnectionRefusedError as exc:
            fail_reason, result = exc.error_args, False
        except ConnectionRefusedError:
            fail_reason, result = {"message": "Connection refused by server"}, False
        if result is False:
            await self._send_packet(eio_sid, self.packet_class(
                packet.CONNECT_ERROR, data=fail_reason, namespace=namespace))
            await self.manager.disconnect(sid, namespace, ignore_queue=True)
            return
        reply: dict[str, Any] = {"sid": sid}
        if isinstance(result, Accepted):
            reply["pid"] = result.pid
        await self._send_packet(eio_sid, self.packet_class(packet.CONNECT, reply, namespace=namespace))
        await self.manager.connect(sid, namespace)
        deadline = self._deadlines.pop(eio_sid, None)  # connected: nothing left to enforce, and no timer per socket
        if deadline is not None:                       # held for `connect_timeout` (20,000 handshakes: 20,000 timers)
            deadline.cancel()
        if isinstance(result, Accepted):
            await result.after()
