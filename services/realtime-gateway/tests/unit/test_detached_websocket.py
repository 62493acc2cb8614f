"""transport/detached_websocket.py without I/O: the frame parser, the order and backpressure of inbound packets,
the drain path of outbound ones, and no task for a packet whose handling does not suspend."""

import asyncio
import os
import struct
from types import SimpleNamespace
from typing import Any

import pytest
from engineio import packet as eio_packet
from realtime_gateway.transport.detached_websocket import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    DetachedWebSocket,
    FrameError,
    FrameParser,
)
from realtime_gateway.transport.send_queue import SendQueue


def client_frame(payload: bytes, opcode: int = OP_TEXT, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes((opcode | (0x80 if fin else 0) | rsv,))
    if n < 126:
        head += bytes((0x80 | n,))
    elif n < 65536:
        head += bytes((0x80 | 126,)) + struct.pack("!H", n)
    else:
        head += bytes((0x80 | 127,)) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_the_parser_reassembles_split_and_fragmented_messages_with_control_frames_between() -> None:
    parser = FrameParser(max_size=1_000_000)
    big = b"x" * 70_000
    data = (client_frame(b"42[\"a\"]") + client_frame(b"4", fin=False) + client_frame(b"", OP_PING)
            + client_frame(b"2[\"b\"]", 0, fin=True) + client_frame(big))
    messages = []
    for i in range(0, len(data), 7):  # a byte stream cut anywhere
        messages += parser.feed(data[i:i + 7])
    assert messages == [(OP_TEXT, b'42["a"]'), (OP_PING, b""), (OP_TEXT, b'42["b"]'), (OP_TEXT, big)]


@pytest.mark.parametrize("frame, code", [
    (client_frame(b"x")[:1] + bytes((client_frame(b"x")[1] & 0x7F,)) + b"x", 1002),  # unmasked
    (client_frame(b"x", rsv=0x40), 1002),  # a compressed frame: no extension was negotiated
    (client_frame(b"x", 0x3), 1002),  # unknown opcode
    (client_frame(b"x" * 200, OP_PING), 1002),  # control frame over 125 bytes
    (client_frame(b"x", 0), 1002),  # continuation without a message
], ids=["unmasked", "rsv1", "opcode", "long-control", "lone-continuation"])
def test_the_parser_refuses_frames_that_break_rfc_6455(frame: bytes, code: int) -> None:
    with pytest.raises(FrameError) as err:
        FrameParser(max_size=100).feed(frame)
    assert err.value.code == code


def test_binary_frames_are_announced_from_their_header_and_their_payload_is_never_buffered() -> None:
    parser = FrameParser(max_size=2_000_000)
    flood = client_frame(b"\0" * 1_000_000, OP_BINARY) * 3
    data = flood + client_frame(b"x" * 300, OP_BINARY, fin=False) + client_frame(b"y" * 300, 0) + client_frame(b"42[]")
    messages, buffered = [], 0
    for i in range(0, len(data), 65_536):  # as a socket reads it
        messages += parser.feed(data[i:i + 65_536])
        buffered = max(buffered, len(parser._buffer))
    assert messages == [(OP_BINARY, b"")] * 4 + [(OP_TEXT, b"42[]")]  # refused anyway: nothing of it is kept
    assert buffered < 16  # at most a header's bytes, never a megabyte payload


def test_a_message_over_the_limit_is_refused_from_its_header_before_its_bytes_arrive() -> None:
    parser = FrameParser(max_size=1000)
    with pytest.raises(FrameError) as err:
        parser.feed(client_frame(b"x" * 5000)[:8])  # header + mask only
    assert err.value.code == 1009
    parser = FrameParser(max_size=1000)
    parser.feed(client_frame(b"x" * 600, fin=False))
    with pytest.raises(FrameError):  # the fragments together
        parser.feed(client_frame(b"x" * 600, 0)[:8])


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.paused = False
        self.closing = False
        self.buffered = 0

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def close(self) -> None:
        self.closing = True

    abort = close

    def get_write_buffer_size(self) -> int:
        return self.buffered


class FakeSocket:
    """engine.io's socket as the detached websocket uses it; a CONNECT ("40") waits for `connect_done`."""

    def __init__(self) -> None:
        self.sid = "s1"
        self.closed = self.closing = False
        self.queue = SendQueue()
        self.received: list[str] = []
        self.connect_done = asyncio.Event()
        self.server = SimpleNamespace(reason=SimpleNamespace(TRANSPORT_CLOSE="transport close"), sockets={"s1": self})

    async def receive(self, pkt: eio_packet.Packet) -> None:
        text = pkt.encode()
        if text.startswith("40"):
            await self.connect_done.wait()
        self.received.append(text)

    async def close(self, **_kwargs: Any) -> None:
        self.closed = True


def detached(sock: FakeSocket, transport: FakeTransport, buffer_limit: int = 100) -> DetachedWebSocket:
    return DetachedWebSocket(sock, transport, max_size=10_000, buffer_limit=buffer_limit,  # type: ignore[arg-type]
                             guard=None, environ={})


async def test_packets_after_one_that_suspends_wait_in_order_with_reading_paused() -> None:
    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport)
    ws.data_received(client_frame(b'40{"token":"t"}') + client_frame(b'42["a"]') + client_frame(b'42["b"]'))
    await asyncio.sleep(0.01)
    assert sock.received == [] and transport.paused  # the CONNECT is being handled: nothing overtakes it
    ws.data_received(client_frame(b'42["c"]'))  # what the transport had already read also waits its turn
    sock.connect_done.set()
    await asyncio.sleep(0.01)
    assert sock.received == ['40{"token":"t"}', '42["a"]', '42["b"]', '42["c"]']
    assert not transport.paused


async def test_a_packet_whose_handling_does_not_suspend_costs_no_task() -> None:
    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport)
    before = len(asyncio.all_tasks())
    ws.data_received(client_frame(b"3") + client_frame(b'42["a"]'))
    assert len(asyncio.all_tasks()) == before and sock.received == ["3", '42["a"]']


async def test_sends_wait_for_the_transport_to_drain_below_the_limit_and_keep_their_order() -> None:
    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport, buffer_limit=100)
    transport.buffered = 1000
    first = asyncio.ensure_future(ws.send("4a"))
    second = asyncio.ensure_future(ws.send("4b"))
    await asyncio.sleep(0.01)
    assert transport.written == [] and not first.done()
    transport.buffered = 10
    ws.resume_writing()
    await asyncio.gather(first, second)
    assert transport.written == [b"\x81\x024a", b"\x81\x024b"]


async def test_the_peers_close_frame_is_answered_with_its_code_and_the_connection_closed() -> None:
    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport)
    ws.data_received(client_frame(struct.pack("!H", 4001) + b"bye", OP_CLOSE) + client_frame(b"3"))
    assert transport.written == [b"\x88\x02" + struct.pack("!H", 4001)] and transport.closing
    assert sock.received == []  # nothing is read after the close frame
    ws.connection_lost(None)
    await asyncio.sleep(0.01)
    assert sock.closed and sock.server.sockets == {}  # engine.io forgets the session


async def test_a_binary_frame_is_refused_with_1003() -> None:
    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport)
    ws.data_received(client_frame(b"\x00", OP_BINARY) + client_frame(b"3"))
    assert transport.written[0][:4] == b"\x88" + bytes((2 + len(b"binary packets are not accepted"),)) + b"\x03\xeb"
    assert sock.received == []


async def test_after_our_close_frame_only_the_peers_close_frame_is_read_and_it_closes_the_connection_at_once() -> None:
    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport)
    await ws.refuse(1008, "policy")
    assert transport.written == [b"\x88\x08\x03\xf0policy"] and not transport.closing
    ws.data_received(client_frame(b'42["late"]') + client_frame(struct.pack("!H", 1008), OP_CLOSE))
    assert sock.received == [] and transport.closing  # the late event is dropped; the answer ends the connection
    assert len(transport.written) == 1  # no second close frame
    ws.connection_lost(None)


async def test_a_frame_kept_for_coalescing_goes_out_before_a_pong_or_a_drained_send() -> None:
    from realtime_gateway.transport.coalesced_writes import WRITES

    sock, transport = FakeSocket(), FakeTransport()
    ws = detached(sock, transport)
    WRITES.write(transport, b"kept-1")  # a direct write of this loop turn, not yet on the transport
    ws.data_received(client_frame(b"p", OP_PING))
    WRITES.write(transport, b"kept-2")
    await ws.send("4x")
    assert transport.written == [b"kept-1", b"\x8a\x01p", b"kept-2", b"\x81\x024x"]
