"""transport/protocol_guard.py without I/O: which client packets pass, which close the connection, and the log's rate limit.
Also pins the python-socketio seams RecoveringServer relies on (packet decoding, the private handlers)."""

import logging

import pytest
import socketio
from realtime_gateway.transport.protocol_guard import (
    BINARY,
    CONNECT_TIMEOUT,
    NOT_CONNECTED,
    Violation,
    ViolationLog,
    decode_socketio,
    screen_polling_body,
)
from realtime_gateway.transport.recovery import RecoveringServer
from socketio import packet


def decode(data: object, connected: tuple[str, ...] = ("/",)) -> packet.Packet | Violation:
    return decode_socketio(packet.Packet, data, lambda ns: ns in connected)


@pytest.mark.parametrize(("data", "kind", "namespace"), [
    ("0", packet.CONNECT, None), ('0{"token":"t"}', packet.CONNECT, None), ("0/random,", packet.CONNECT, "/random"),
    ("1", packet.DISCONNECT, None), ('2["chat:typing",{"session_id":1}]', packet.EVENT, None),
    ('27["notification:mark_read",{"notification_id":1}]', packet.EVENT, None), ("31[]", packet.ACK, None),
])
def test_well_formed_client_packets_pass(data: str, kind: int, namespace: str | None) -> None:
    pkt = decode(data)
    assert isinstance(pkt, packet.Packet) and pkt.packet_type == kind and pkt.namespace == namespace


@pytest.mark.parametrize("data", [
    '59999-["chat:send_message",{"_placeholder":true,"num":0}]', '61-1[{"_placeholder":true,"num":0}]',
    b"\x01\x02", bytearray(b"x"),
])
def test_binary_packets_are_refused_before_anything_is_buffered(data: object) -> None:
    assert decode(data) is BINARY


@pytest.mark.parametrize("data", [
    "2[", "garbage", "4{", "2", "abc", "2{}", '2abc["x"]', "3", "31", '3["x"]', '0"text"', '1"x"', '2[1,"x"]',
    "2[]", "9", "", "7x", 42, None, ["2"],
])
def test_malformed_packets_are_refused(data: object) -> None:
    violation = decode(data)
    assert isinstance(violation, Violation) and violation.kind == "malformed", violation


def test_events_and_acks_before_connect_to_their_namespace_are_refused() -> None:
    assert decode('2["chat:typing",{}]', connected=()) is NOT_CONNECTED
    assert decode("31[]", connected=()) is NOT_CONNECTED
    assert decode('2/other,["x"]') is NOT_CONNECTED
    assert isinstance(decode("0", connected=()), packet.Packet)  # CONNECT is how one gets connected
    assert isinstance(decode("1", connected=()), packet.Packet)  # a DISCONNECT changes nothing: harmless


@pytest.mark.parametrize(("body", "verdict"), [
    (b"", None), (b'40{"token":"t"}', None), (b'42["a"]\x1e3\x1e6', None), ("4é".encode(), None),
    (b"bAQID", "binary"), (b'42["a"]\x1ebAQID', "binary"), (b"x", "malformed"), (b"\xff\xfe", "malformed"),
    (b"42\x1e", "malformed"), ("\x1e".join(["6"] * 17).encode(), "malformed"),
])
def test_polling_bodies_are_screened(body: bytes, verdict: str | None) -> None:
    violation = screen_polling_body(body, 16)
    assert (violation.kind if violation else None) == verdict


def test_the_log_says_one_line_per_address_and_interval_and_counts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = ViolationLog(60, clock=lambda: now[0])
    caplog.set_level(logging.INFO, "realtime_gateway.transport.protocol_guard")
    assert log.report("10.0.0.1", BINARY)
    assert not any(log.report("10.0.0.1", BINARY) for _ in range(499))
    assert log.report("10.0.0.2", BINARY)  # another address has its own budget
    assert log.report("10.0.0.1", CONNECT_TIMEOUT, level=logging.INFO)  # INFO does not use up the WARNING's
    now[0] = 61
    assert log.report("10.0.0.1", BINARY)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4 and "499 more from this address" in lines[-1]
    assert not any(r.exc_info for r in caplog.records)


def test_the_python_socketio_seams_recovering_server_overrides_exist() -> None:
    for name in ("_handle_eio_message", "_handle_eio_connect", "_handle_eio_disconnect", "_handle_connect",
                 "_handle_disconnect", "_handle_event", "_handle_ack", "_send_packet"):
        assert callable(getattr(socketio.AsyncServer, name)), name
    sio = RecoveringServer(async_mode="aiohttp", connect_timeout=3)
    assert sio.connect_timeout == 3 and sio.eio.reason.CLIENT_DISCONNECT == sio.reason.CLIENT_DISCONNECT
    assert "translate_request" in sio.eio._async and "websocket" in sio.eio._async
