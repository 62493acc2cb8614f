"""transport/fanout.py without I/O: the frame header, the send queue's `idle` and limit, and the sid -> rooms index."""

import asyncio
import struct

import socketio
from realtime_gateway.transport.fanout import FanOutManager, Room, SendQueue, websocket_text_frame


def test_frames_are_unmasked_text_frames_with_the_rfc6455_length_forms() -> None:
    for size, header in ((0, b"\x81\x00"), (125, b"\x81\x7d"), (126, b"\x81\x7e\x00\x7e"),
                         (65535, b"\x81\x7e\xff\xff"), (65536, b"\x81\x7f" + struct.pack("!Q", 65536))):
        payload = b"x" * size
        assert websocket_text_frame(payload) == header + payload


async def test_queue_is_idle_only_while_its_consumer_waits_on_an_empty_queue() -> None:
    queue = SendQueue()
    assert not queue.idle  # nobody waiting yet
    getter = queue.get()
    assert queue.idle
    queue.put_nowait("a")
    assert not queue.idle  # cleared by the put, before the consumer even wakes up
    assert await getter == "a"
    assert not queue.idle  # the consumer holds what it took until it comes back for more
    queue.put_nowait("b")
    assert await queue.get() == "b"  # a get on a non-empty queue never marks it idle
    assert not queue.idle


async def test_queue_get_is_a_future_that_wait_for_awaits_without_a_task() -> None:
    queue = SendQueue()
    before = len(asyncio.all_tasks())
    waiting = asyncio.ensure_future(asyncio.wait_for(queue.get(), timeout=5))
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before + 1  # the wait_for itself; stock Queue.get adds a Task for get()
    await queue.put("a")
    assert await waiting == "a"
    queue.task_done()
    await asyncio.wait_for(queue.join(), timeout=1)  # put / task_done still balance


async def test_a_get_that_timed_out_never_swallows_an_item() -> None:
    queue = SendQueue()
    try:
        await asyncio.wait_for(queue.get(), timeout=0.01)
        raise AssertionError("expected a timeout")
    except TimeoutError:
        pass
    assert not queue.idle  # nobody waits any more
    queue.put_nowait("a")
    assert queue.qsize() == 1  # kept for the next consumer, not handed to the cancelled one
    assert await queue.get() == "a"


async def test_waiting_consumers_are_served_in_order_and_items_in_fifo_order() -> None:
    queue = SendQueue()
    first, second = queue.get(), queue.get()
    for item in ("a", "b", "c"):
        queue.put_nowait(item)
    assert (await first, await second) == ("a", "b")
    assert queue.qsize() == 1 and await queue.get() == "c"


async def test_queue_over_its_limit_reports_once_and_drops_but_lets_the_writer_stop() -> None:
    overflowed: list[SendQueue] = []
    queue = SendQueue(limit=2, on_overflow=overflowed.append)
    for item in ("a", "b", "c", "d"):
        await queue.put(item)
    assert overflowed == [queue]
    assert queue.qsize() == 2
    queue.put_nowait(None)  # engine.io's sentinel that ends its writer task
    assert [queue.get_nowait() for _ in range(3)] == ["a", "b", None]


async def test_an_empty_send_queue_costs_hundreds_of_bytes_not_the_kilobytes_of_asyncio_queues_deques() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        queues = [SendQueue(10) for _ in range(1000)]
        per_queue = (tracemalloc.get_traced_memory()[0] - before) / len(queues)
    finally:
        tracemalloc.stop()
    assert per_queue < 1024, f"{per_queue:.0f} bytes per empty send queue (asyncio.Queue: ~3,300)"


async def test_join_waits_for_every_item_to_be_marked_done_and_an_empty_get_nowait_raises_queue_empty() -> None:
    queue = SendQueue()
    await asyncio.wait_for(queue.join(), timeout=1)  # nothing put: returns at once
    queue.put_nowait("a")
    queue.put_nowait("b")
    joined = asyncio.ensure_future(queue.join())
    assert queue.get_nowait() == "a"
    queue.task_done()
    await asyncio.sleep(0)
    assert not joined.done()  # "b" is not done yet
    assert queue.get_nowait() == "b"
    queue.task_done()
    await asyncio.wait_for(joined, timeout=1)
    try:
        queue.get_nowait()
        raise AssertionError("expected QueueEmpty")
    except asyncio.QueueEmpty:
        pass
    try:
        queue.task_done()
        raise AssertionError("expected ValueError")
    except ValueError:
        pass


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


def test_named_rooms_are_plain_dicts_and_the_sid_to_eio_sid_room_stays_a_bidict() -> None:
    from bidict import ValueDuplicationError

    manager = FanOutManager()
    manager.basic_enter_room("s1", "/", None, eio_sid="e1")
    manager.basic_enter_room("s1", "/", "s1", eio_sid="e1")
    manager.basic_enter_room("s1", "/", "admins")
    rooms = manager.rooms["/"]
    assert type(rooms["s1"]) is Room and type(rooms["admins"]) is Room
    assert type(rooms[None]) is not Room and manager.sid_from_eio_sid("e1", "/") == "s1"
    try:  # stock: one eio sid cannot be connected twice (pre_connect relies on it)
        manager.basic_enter_room("s2", "/", None, eio_sid="e1")
        raise AssertionError("expected ValueDuplicationError")
    except ValueDuplicationError:
        pass
    try:  # stock: nobody else enters a sid room
        manager.basic_enter_room("s3", "/", "s1", eio_sid="e3")
        raise AssertionError("expected ValueError")
    except ValueError:
        pass
    assert list(manager.get_participants("/", "admins")) == [("s1", "e1")]
    assert list(manager.get_participants("/", ["admins", "s1"])) == [("s1", "e1")]
    manager.basic_disconnect("s1", "/")
    assert manager.rooms == {}  # every room, then the namespace, gone as stock leaves them
