"""The private python-socketio / python-engineio / aiohttp internals the gateway relies on, checked against the
installed releases (pyproject.toml pins them to the tested minors: `==5.18.*`, `==4.15.*`, `==3.14.*`).

An upgrade that renames, removes or re-shapes one of them fails here with the internal's name and the gateway
module that uses it (its path under realtime_gateway/), instead of silently breaking delivery
(transport/fanout.py), recovery (transport/recovery.py), the connection cap (clients/admission.py) or the websocket
driver (transport/compression.py; test_driver.py checks its behaviour). Two stock methods are copied
(transport/recovery.py's `_handle_connect`) or re-implemented (transport/fanout.py's `basic_disconnect`): their
source is fingerprinted, so a change in the library's version of them says "re-read and port it".
"""

import ast
import asyncio
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import engineio
import pytest
import socketio
from aiohttp import base_protocol, web_runner, web_server
from aiohttp._websocket.helpers import websocket_mask
from aiohttp._websocket.reader import WebSocketDataQueue
from aiohttp.web import WebSocketResponse
from aiohttp.web_protocol import RequestHandler
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as eio_aiohttp
from engineio.async_socket import AsyncSocket
from socketio import base_manager, exceptions
from socketio import packet as sio_packet


@dataclass(frozen=True)
class Method:
    """`owner.name` is a function whose parameters (after self) start with `params`."""

    owner: type
    name: str
    params: tuple[str, ...]
    used_by: str
    is_async: bool | None = None

    @property
    def label(self) -> str:
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


def check_method(m: Method) -> None:
    where = f"`{m.label}` (used by the gateway's {m.used_by})"
    func = inspect.getattr_static(m.owner, m.name, None)
    assert func is not None, f"library internal {where} no longer exists"
    func = getattr(m.owner, m.name)
    assert callable(func), f"library internal {where} is no longer a method"
    found = tuple(inspect.signature(func).parameters)[1:]  # after self
    assert found[: len(m.params)] == m.params, (
        f"library internal {where} changed its signature: expected ({', '.join(m.params)}, ...), "
        f"found ({', '.join(found)})")
    if m.is_async is not None:
        assert inspect.iscoroutinefunction(func) == m.is_async, (
            f"library internal {where} is {'no longer' if m.is_async else 'now'} a coroutine function")


METHODS = [
    # transport/recovery.py: RecoveringServer overrides _handle_connect and calls what the stock one calls.
    Method(socketio.AsyncServer, "_handle_connect", ("eio_sid", "namespace", "data"), "transport/recovery.py", True),
    Method(socketio.AsyncServer, "_send_packet", ("eio_sid", "pkt"), "transport/recovery.py, transport/fanout.py", True),
    Method(socketio.AsyncServer, "_trigger_event", ("event", "namespace", "args"), "transport/recovery.py", True),
    Method(socketio.AsyncManager, "pre_connect", ("eio_sid", "namespace"), "transport/recovery.py"),
    Method(socketio.AsyncManager, "connect", ("sid", "namespace"), "transport/recovery.py", True),
    Method(socketio.AsyncManager, "disconnect", ("sid", "namespace"), "transport/recovery.py", True),
    # transport/fanout.py: FanOutManager subclasses AsyncManager and overrides or calls these.
    Method(socketio.AsyncManager, "set_server", ("server",), "transport/fanout.py"),
    Method(socketio.AsyncManager, "emit", ("event", "data", "namespace", "room", "skip_sid", "callback", "to"),
           "transport/fanout.py", True),
    Method(socketio.AsyncManager, "get_participants", ("namespace", "room"), "transport/fanout.py"),
    Method(socketio.AsyncManager, "_generate_ack_id", ("sid", "callback"), "transport/fanout.py"),
    Method(socketio.AsyncManager, "basic_enter_room", ("sid", "namespace", "room", "eio_sid"), "transport/fanout.py"),
    Method(socketio.AsyncManager, "basic_leave_room", ("sid", "namespace", "room"), "transport/fanout.py"),
    Method(socketio.AsyncManager, "basic_disconnect", ("sid", "namespace"), "transport/fanout.py"),
    Method(socketio.AsyncManager, "is_sid_room", ("namespace", "room"), "transport/fanout.py"),
    Method(socketio.AsyncManager, "get_rooms", ("sid", "namespace"), "transport/fanout.py"),
    # engine.io: the send-queue factory, the packet path, the socket's websocket handler and close.
    Method(engineio.AsyncServer, "create_queue", ("args", "kwargs"), "transport/fanout.py (transport/send_queue.py)"),
    Method(engineio.AsyncServer, "send_packet", ("sid", "pkt"), "transport/fanout.py", True),
    Method(engineio.AsyncServer, "on", ("event", "handler"), "clients/admission.py"),
    Method(AsyncSocket, "_websocket_handler", ("ws",), "transport/fanout.py (websocket_opened)", True),
    Method(AsyncSocket, "close", ("wait", "abort", "reason"), "transport/fanout.py (_disconnect_slow)", True),
    Method(eio_aiohttp.WebSocket, "__init__", ("handler", "server"), "transport/compression.py"),
    # transport/websocket_session.py: the lean session, the ping wheel and the service task.
    Method(AsyncSocket, "_send_ping", (), "transport/websocket_session.py (GatewayEngineIO.start_background_task)", True),
    Method(AsyncSocket, "schedule_ping", (), "transport/websocket_session.py (PingWheel)", False),
    Method(AsyncSocket, "receive", ("pkt",), "transport/websocket_session.py (serve_websocket)", True),
    Method(AsyncSocket, "check_ping_timeout", (), "transport/websocket_session.py (PingWheel)", True),
    Method(engineio.AsyncServer, "start_background_task", ("target", "args", "kwargs"),
           "transport/websocket_session.py (GatewayEngineIO)"),
    Method(engineio.AsyncServer, "_service_task", (), "transport/websocket_session.py (GatewayEngineIO)", True),
    Method(socketio.AsyncServer, "_engineio_server_class", (), "transport/recovery.py (lean_sessions)"),
    # transport/compression.py's PeerAwareResponse: aiohttp's WebSocketResponse with a cheaper close.
    Method(WebSocketResponse, "__init__", ("timeout", "receive_timeout", "autoclose", "autoping", "heartbeat",
                                           "protocols", "compress", "max_msg_size"), "transport/compression.py"),
    Method(WebSocketResponse, "close", ("code", "message", "drain"), "transport/compression.py", True),
    Method(WebSocketResponse, "_set_closed", (), "transport/compression.py"),
    # transport/detached_websocket.py: aiohttp lets go of an upgraded connection (detach_request_handler).
    Method(RequestHandler, "keep_alive", ("val",), "transport/detached_websocket.py"),
    Method(RequestHandler, "force_close", (), "transport/detached_websocket.py"),
    Method(web_server.Server, "connection_lost", ("handler", "exc"), "transport/detached_websocket.py"),
    # transport/fast_handshake.py: the connection factory, a handler given a connection it did not start with,
    # and engine.io's connect run for a handshake served without aiohttp.
    Method(web_server.Server, "__call__", (), "transport/fast_handshake.py (FirstRequestServer)", False),
    Method(web_runner.AppRunner, "_make_server", (), "transport/fast_handshake.py (FastHandshakeRunner)", True),
    Method(RequestHandler, "connection_made", ("transport",), "transport/fast_handshake.py (FirstRequest._hand_over)"),
    Method(RequestHandler, "data_received", ("data",), "transport/fast_handshake.py (FirstRequest._hand_over)"),
    Method(engineio.AsyncServer, "_handle_connect", ("environ", "transport", "jsonp_index"),
           "transport/fast_handshake.py (FastHandshakes.connect)", True),
]


def test_the_tcp_options_aiohttp_sets_on_its_connections_are_the_ones_a_fast_handshake_sets() -> None:
    """transport/fast_handshake.py sets SO_KEEPALIVE and TCP_NODELAY itself (aiohttp.tcp_helpers), as
    RequestHandler.connection_made and BaseProtocol.connection_made do for the connections aiohttp serves."""
    assert "tcp_keepalive(" in inspect.getsource(RequestHandler.connection_made)
    assert "tcp_nodelay(" in inspect.getsource(base_protocol.BaseProtocol.connection_made)


@pytest.mark.parametrize("slot", ["transport", "_payload_parser", "_manager", "_force_close"])
def test_each_aiohttp_request_handler_slot_the_detached_websocket_relies_on_is_there(slot: str) -> None:
    slots = {name for klass in RequestHandler.__mro__ for name in getattr(klass, "__slots__", ())}
    assert slot in slots, (
        f"library internal `aiohttp.web_protocol.RequestHandler.{slot}` is gone "
        "(used by the gateway's transport/detached_websocket.py: detach_request_handler)")


async def test_a_websocket_response_marked_eof_sent_is_not_closed_by_aiohttps_write_eof() -> None:
    response = WebSocketResponse()
    assert response._reader is None and response._eof_sent is False  # the attributes take_over reads and sets
    response._eof_sent = True
    await response.write_eof()  # unprepared: would raise RuntimeError if it went on to close()
    assert hasattr(WebSocketDataQueue(None, 1, loop=asyncio.get_running_loop()), "_buffer")


def test_aiohttps_websocket_mask_unmasks_in_place() -> None:
    data = bytearray(b"\x01\x02\x03\x04\x05")
    websocket_mask(b"\x01\x01\x01\x01", data)
    assert data == bytearray(b"\x00\x03\x02\x05\x04")


@pytest.mark.parametrize("attribute", ["_req", "_writer", "_closed", "_close_code", "_parser"])
def test_each_aiohttp_websocket_attribute_the_driver_relies_on_is_there(attribute: str) -> None:
    assert hasattr(WebSocketResponse(), attribute), (
        f"library internal `aiohttp.web.WebSocketResponse.{attribute}` is gone "
        "(used by the gateway's transport/compression.py: PeerAwareResponse.close)")


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.label)
def test_each_library_method_the_gateway_relies_on_exists_with_the_expected_signature(method: Method) -> None:
    check_method(method)


def _server() -> socketio.AsyncServer:
    return socketio.AsyncServer(async_mode="aiohttp")


# name -> (check on a fresh stock server, the gateway module relying on it)
ATTRIBUTES: dict[str, tuple[Callable[[socketio.AsyncServer], bool], str]] = {
    "socketio.AsyncServer.environ (dict)": (lambda s: isinstance(s.environ, dict), "transport/recovery.py"),
    "socketio.AsyncServer.handlers (dict)": (lambda s: isinstance(s.handlers, dict), "transport/recovery.py"),
    "socketio.AsyncServer.namespace_handlers (dict)": (lambda s: isinstance(s.namespace_handlers, dict),
                                                       "transport/recovery.py"),
    "socketio.AsyncServer.namespaces": (lambda s: s.namespaces == ["/"], "transport/recovery.py"),
    "socketio.AsyncServer.packet_class": (lambda s: s.packet_class is sio_packet.Packet, "transport/recovery.py, transport/fanout.py"),
    "socketio.AsyncManager.rooms / callbacks / pending_connect / pending_disconnect (dicts)": (
        lambda s: all(isinstance(getattr(s.manager, a), dict)
                      for a in ("rooms", "callbacks", "pending_connect", "pending_disconnect")), "transport/fanout.py"),
    "engineio.AsyncServer.sockets (dict)": (lambda s: isinstance(s.eio.sockets, dict), "transport/fanout.py"),
    "engineio.AsyncServer.ping_timeout (number)": (lambda s: isinstance(s.eio.ping_timeout, int | float),
                                                   "transport/fanout.py"),
    "engineio.AsyncServer.handlers['connect'/'disconnect'] registered by socketio": (
        lambda s: {"connect", "disconnect"} <= set(s.eio.handlers), "clients/admission.py"),
    "engineio.AsyncServer._async['websocket'] (the aiohttp WebSocket driver)": (
        lambda s: isinstance(s.eio._async, dict) and s.eio._async.get("websocket") is eio_aiohttp.WebSocket,
        "transport/compression.py"),
}


@pytest.mark.parametrize("name", list(ATTRIBUTES))
def test_each_library_attribute_the_gateway_relies_on_is_there(name: str) -> None:
    check, used_by = ATTRIBUTES[name]
    try:
        ok = check(_server())
    except (AttributeError, KeyError, TypeError) as exc:
        pytest.fail(f"library internal `{name}` (used by the gateway's {used_by}) changed: {exc!r}")
    assert ok, f"library internal `{name}` (used by the gateway's {used_by}) changed"


async def test_engineio_sockets_take_their_queue_from_the_servers_create_queue_and_track_the_state_fanout_reads(
) -> None:
    server = engineio.AsyncServer(async_mode="aiohttp")
    made: list[Any] = []

    def create_queue(*args: Any, **kwargs: Any) -> asyncio.Queue[Any]:
        made.append(q := asyncio.Queue())
        return q

    server.create_queue = create_queue
    sock = AsyncSocket(server, "sid1")
    assert made and sock.queue is made[0], (
        "library internal `engineio AsyncSocket.queue = server.create_queue()` changed "
        "(used by the gateway's transport/fanout.py: SendQueue)")
    for attr in ("sid", "upgraded", "upgrading", "closing", "closed", "last_ping"):
        assert hasattr(sock, attr), (
            f"library internal `engineio.AsyncSocket.{attr}` is gone (used by the gateway's transport/fanout.py)")


def test_socketio_reads_room_members_through_fwdm() -> None:
    """fanout.Room is a dict with a `_fwdm` property because stock get_participants reads `room._fwdm`."""
    source = inspect.getsource(base_manager.BaseManager.get_participants)
    assert "._fwdm" in source, (
        "library internal `socketio BaseManager.get_participants` no longer reads `room._fwdm` "
        "(used by the gateway's transport/fanout.py: Room)")


def test_the_constants_and_error_args_the_gateway_uses_are_there() -> None:
    for module, names in ((sio_packet, ("CONNECT", "CONNECT_ERROR", "EVENT")), (eio_packet, ("MESSAGE",))):
        for name in names:
            assert hasattr(module, name), f"library constant `{module.__name__}.{name}` is gone"
    assert exceptions.ConnectionRefusedError("x", {"code": "c"}).error_args == {
        "message": "x", "data": {"code": "c"}}, (
        "library internal `socketio.exceptions.ConnectionRefusedError.error_args` changed (used by transport/recovery.py)")


def fingerprint(func: Any) -> str:
    """The method's code without comments or layout (ast), so only a change in what it does shows."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


COPIED = [
    # (stock method, its fingerprint in the tested release, the gateway code that copies it)
    (socketio.AsyncServer._handle_connect, "2fa2bbe94fd2cc4e", "transport/recovery.py RecoveringServer._handle_connect"),
    (base_manager.BaseManager.basic_disconnect, "cf1ef60e8554ec00", "transport/fanout.py FanOutManager.basic_disconnect"),
    (AsyncSocket._websocket_handler, "f88beeab2ff2e626", "transport/websocket_session.py serve_websocket"),
    # transport/fast_handshake.py applies handle_request's checks itself (origin, EIO=4, transport, no sid) and
    # gives _handle_connect an environ with the keys it and the websocket upgrade read; aiohttp's _handshake
    # decides what a valid upgrade is (the fast path serves only a subset of what it accepts).
    (engineio.AsyncServer.handle_request, "710859a4a0f7ef04", "transport/fast_handshake.py FastHandshakes.environ"),
    (engineio.AsyncServer._handle_connect, "e047ef7e1d009e58", "transport/fast_handshake.py FastHandshakes.environ"),
    (AsyncSocket.handle_get_request, "7d3d19042c390920", "transport/fast_handshake.py FastHandshakes.environ"),
    (WebSocketResponse._handshake, "562e38aa7a3ab875", "transport/fast_handshake.py FastHandshakes.environ"),
]


@pytest.mark.parametrize("stock, expected, copy", COPIED, ids=[c[2] for c in COPIED])
def test_the_stock_methods_the_gateway_copies_are_unchanged(stock: Any, expected: str, copy: str) -> None:
    assert fingerprint(stock) == expected, (
        f"library internal `{stock.__module__}.{stock.__qualname__}` changed (fingerprint {fingerprint(stock)}, "
        f"tested {expected}): re-read it and port the change to {copy}, then update the fingerprint here")


def test_a_missing_or_changed_internal_is_reported_by_name() -> None:
    class Old:
        async def _send_packet(self, sid: str) -> None: ...

    with pytest.raises(AssertionError, match=r"`.*Old\._handle_connect` .*no longer exists"):
        check_method(Method(Old, "_handle_connect", ("eio_sid",), "transport/recovery.py"))
    with pytest.raises(AssertionError, match=r"`.*Old\._send_packet` .*changed its signature: expected "
                                             r"\(eio_sid, pkt, \.\.\.\), found \(sid\)"):
        check_method(Method(Old, "_send_packet", ("eio_sid", "pkt"), "transport/recovery.py"))


def test_stock_schedule_ping_starts_send_ping_as_a_background_task_and_shutdown_waits_on_the_service_task() -> None:
    """transport/websocket_session.py: GatewayEngineIO recognises stock `schedule_ping`'s
    `server.start_background_task(self._send_ping)` and replaces the task with a PingWheel entry; its own
    `_service_task` sets `service_task_event`, which stock `shutdown` sets and whose task it awaits."""
    ping_source = inspect.getsource(AsyncSocket.schedule_ping)
    assert "start_background_task(self._send_ping)" in ping_source.replace(" ", "").replace(
        "start_background_task(", "start_background_task(").replace("self.server.", ""), (
        "library internal `engineio AsyncSocket.schedule_ping` no longer starts `_send_ping` as a background task "
        "(used by the gateway's transport/websocket_session.py: GatewayEngineIO.start_background_task)")
    shutdown = inspect.getsource(engineio.AsyncServer.shutdown)
    assert "service_task_event" in shutdown and "service_task_handle" in shutdown, (
        "library internal `engineio AsyncServer.shutdown` no longer stops the service task through "
        "`service_task_event` (used by the gateway's transport/websocket_session.py: GatewayEngineIO._service_task)")
    handler = inspect.getsource(AsyncSocket._websocket_handler)
    assert "self.connected = True" in handler and "self.upgraded = True" in handler, (
        "library internal `engineio AsyncSocket._websocket_handler` changed what a direct websocket sets "
        "(re-read it: transport/websocket_session.py serve_websocket re-implements it)")


async def test_socketio_keeps_the_environ_it_is_given_at_engineio_connect_and_engineio_reads_none_after_the_upgrade(
) -> None:
    """transport/connection_environ.py replaces `AsyncServer.environ[eio_sid]` after the stock
    `_handle_eio_connect` stored it, and empties a WebSocket's request environ once the driver has prepared the
    response: engine.io's `_upgrade_websocket` must end with `return await ws(environ)` (nothing reads it after)."""
    server = _server()
    environ = {"REMOTE_ADDR": "x"}
    await server._handle_eio_connect("eio1", environ)
    assert server.environ.get("eio1") is environ, (
        "library internal `socketio.AsyncServer._handle_eio_connect` no longer stores `environ[eio_sid]` "
        "(used by the gateway's transport/recovery.py + transport/connection_environ.py)")
    body = ast.parse(textwrap.dedent(inspect.getsource(AsyncSocket._upgrade_websocket))).body[0]
    assert isinstance(body, ast.AsyncFunctionDef)
    last = body.body[-1]
    assert isinstance(last, ast.Return) and ast.unparse(last) == "return await ws(environ)", (
        "library internal `engineio.AsyncSocket._upgrade_websocket` changed its end "
        "(used by the gateway's transport/compression.py: the request environ is emptied after the upgrade)")
