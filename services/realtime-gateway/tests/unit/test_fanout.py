"""fanout.py without I/O: the frame header, the send queue's `idle` and limit, and the sid -> rooms index."""

import asyncio
import struct

import socketio
from realtime_gateway.fanout import FanOutManager, SendQueue, websocket_text_frame


def test_frames_are_unmasked_text_frames_with_the_rfc6455_length_forms() -> None:
    for size, header in ((0, b"\x81\x00"), (125, b"\x81\x7d"), (126, b"\x81\x7e\x00\x7e"),
                         (65535, b"\x81\x7e\xff\xff"), (65536, b"\x81\x7f" + struct.pack("!Q", 65536))):
        payload = b"x" * size
        assert websocket_text_frame(payload) == header + payload


async def test_queue_is_idle_only_while_its_consumer_waits_on_an_empty_queue() -> None:
    queue = SendQueue()
    assert not queue.idle  # nobody waiting yet
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert queue.idle
    queue.put_nowait("a")
    assert not queue.idle  # cleared by the put, before the consumer even wakes up
    assert await getter == "a"
    assert not queue.idle  # the consumer holds what it took until it comes back for more
    queue.put_nowait("b")
    assert await queue.get() == "b"  # a get on a non-empty queue never marks it idle
    assert not queue.idle


async def test_queue_over_its_limit_reports_once_and_drops_but_lets_the_writer_stop() -> None:
    overflowed: list[SendQueue] = []
    queue = SendQueue(limit=2, on_overflow=overflowed.append)
    for item in ("a", "b", "c", "d"):
        await queue.put(item)
    assert overflowed == [queue]
    assert queue.qsize() == 2
    queue.put_nowait(None)  # engine.io's sentinel that ends its writer task
    assert [queue.get_nowait() for _ in range(3)] == ["a", "b", None]


def _stock_rooms(manager: socketio.AsyncManager, sid: str) -> set:
    return {name for name, members in manager.rooms.get("/", {}).items() if sid in members}


def test_the_room_index_matches_a_scan_and_a_disconnect_leaves_every_room() -> None:
    manager = FanOutManager()
    for n in range(50):
        sid, eio_sid = f"s{n}", f"e{n}"
        manager.basic_enter_room(sid, "/", None, eio_sid=eio_sid)
        manager.basic_enter_room(sid, "/", sid, eio_sid=eio_sid)
        for room in ("admins", f"admin:{n}", f"user:{n}"):
            manager.basic_enter_room(sid, "/", room)
    manager.basic_leave_room("s7", "/", "admins")
    assert set(manager.get_rooms("s7", "/")) == _stock_rooms(manager, "s7") - {None} == {"s7", "admin:7", "user:7"}

    manager.basic_disconnect("s7", "/")
    assert _stock_rooms(manager, "s7") == set()
    assert manager.get_rooms("s7", "/") == []
    assert ("/", "s7") not in manager._rooms_of
    assert "admin:7" not in manager.rooms["/"]  # emptied rooms are removed, as stock does
    assert len(manager.rooms["/"]["admins"]) == 49
    manager.basic_close_room("admins", "/")
    assert "admins" not in manager.get_rooms("s8", "/")


def test_the_room_index_agrees_with_python_socketio_through_many_connects_and_disconnects() -> None:
    import random

    rng = random.Random(8)
    manager = FanOutManager()
    connected: set[str] = set()
    for step in range(3000):
        sid = f"s{rng.randrange(200)}"
        if sid not in connected:  # a handshake: pre_connect's two rooms, then the token's rooms
            manager.basic_enter_room(sid, "/", None, eio_sid=f"e{sid}")
            manager.basic_enter_room(sid, "/", sid, eio_sid=f"e{sid}")
            for room in rng.sample(["admins", "users", f"user:{sid}", f"admin:{sid}", "ops"], 3):
                manager.basic_enter_room(sid, "/", room)
            connected.add(sid)
        elif rng.random() < 0.2:
            manager.basic_leave_room(sid, "/", rng.choice(["admins", "users", "ops", "nope"]))
        else:
            manager.basic_disconnect(sid, "/")
            connected.discard(sid)
            assert _stock_rooms(manager, sid) == set() and ("/", sid) not in manager._rooms_of
        if step % 100 == 0:
            for other in connected:
                assert set(manager.get_rooms(other, "/")) == _stock_rooms(manager, other) - {None}
    ns = manager.rooms.get("/", {})
    assert all(len(members) for members in ns.values())  # no empty room left behind
    assert set(ns.get(None, {})) == connected
    assert {sid for _, sid in manager._rooms_of} == connected
