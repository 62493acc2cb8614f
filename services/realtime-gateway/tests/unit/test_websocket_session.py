"""transport/websocket_session.py and SendQueue's push mode, without I/O."""

import asyncio
from typing import Any

from engineio import packet as eio_packet
from realtime_gateway.transport.send_queue import SendQueue
from realtime_gateway.transport.websocket_session import PingWheel, websocket_frame


async def test_push_mode_writes_at_once_and_queues_behind_backpressure_in_order() -> None:
    queue = SendQueue()
    wrote: list[str] = []
    sent: list[str] = []
    writable = True
    release = asyncio.Event()

    def write(item: str) -> bool:
        if writable:
            wrote.append(item)
        return writable

    async def send(item: str) -> None:
        await release.wait()
        sent.append(item)

    queue.push_to(write, send)
    queue.put_nowait("a")
    assert wrote == ["a"] and queue.idle and queue.qsize() == 0
    writable = False
    queue.put_nowait("b")  # backpressure: queued, a drain task sends it
    writable = True
    queue.put_nowait("c")  # writable again, but "b" is queued: "c" must not overtake it
    assert wrote == ["a"] and not queue.idle and queue.qsize() == 2
    release.set()
    await queue.join()
    await asyncio.sleep(0)
    assert sent == ["b", "c"] and queue.idle
    queue.put_nowait("d")
    assert wrote == ["a", "d"]


async def test_push_mode_ignores_the_writer_stop_sentinel_and_stop_pushing_releases_join() -> None:
    queue = SendQueue()

    async def never(item: Any) -> None:
        await asyncio.Event().wait()

    queue.push_to(lambda item: False, never)
    queue.put_nowait(None)
    assert queue.qsize() == 0
    queue.put_nowait("x")
    queue.put_nowait("y")
    await asyncio.sleep(0)
    await queue.stop_pushing()  # the connection ended with two packets unsent: dropped, counted done
    await asyncio.wait_for(queue.join(), 1)
    assert queue.qsize() == 0 and not queue.idle


def test_frames_are_text_for_str_and_binary_for_bytes() -> None:
    assert websocket_frame("2") == b"\x81\x012"
    assert websocket_frame(b"\x04x") == b"\x82\x02\x04x"
    assert websocket_frame("x" * 200)[:4] == b"\x81\x7e\x00\xc8"


class FakeSocket:
    def __init__(self) -> None:
        self.queue = SendQueue()
        self.sent: list[Any] = []
        self.queue.push_to(lambda p: self.sent.append(p.packet_type) is None, self._never)
        self.last_ping: float | None = None
        self.closing = self.closed = False
        self.checked = 0

    async def _never(self, item: Any) -> None:
        raise AssertionError("not written directly")

    async def check_ping_timeout(self) -> bool:
        self.checked += 1
        self.closed = True
        return False


class FakeServer:
    ping_interval = 0.05
    ping_timeout = 0.05


async def test_the_wheel_pings_after_the_interval_and_closes_a_socket_whose_ping_goes_unanswered() -> None:
    wheel = PingWheel(FakeServer(), resolution=0.01)
    answering, silent = FakeSocket(), FakeSocket()
    for sock in (answering, silent):
        wheel.ping_later(sock)
    assert wheel.scheduled == 2
    await asyncio.sleep(0.08)
    assert answering.sent == silent.sent == [eio_packet.PING]
    answering.last_ping = None  # its PONG (stock `schedule_ping` clears last_ping, then asks for the next ping)
    wheel.ping_later(answering)
    await asyncio.sleep(0.1)
    assert silent.checked == 1 and silent.closed
    assert answering.checked == 0 and answering.sent == [eio_packet.PING, eio_packet.PING]


async def test_one_timer_per_bucket_however_many_sockets_are_due_in_it() -> None:
    loop = asyncio.get_running_loop()
    wheel = PingWheel(FakeServer(), resolution=10)
    timers: list[Any] = []
    original = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any) -> Any:
        timers.append(when)
        return original(when, callback, *args)

    loop.call_at = counting_call_at  # type: ignore[method-assign]
    try:
        for _ in range(1000):
            wheel.ping_later(FakeSocket())
    finally:
        loop.call_at = original  # type: ignore[method-assign]
    assert len(timers) <= 2 and wheel.scheduled == 1000




async def test_push_mode_writes_what_was_queued_before_at_once_without_a_drain_task() -> None:
    queue = SendQueue()
    queue.put_nowait("open")  # engine.io's OPEN packet, queued before the websocket handler starts
    wrote: list[str] = []
    tasks_before = len(asyncio.all_tasks())

    async def send(item: str) -> None:
        raise AssertionError("no drain needed")

    queue.push_to(lambda item: wrote.append(item) is None, send)
    assert wrote == ["open"] and queue.idle and len(asyncio.all_tasks()) == tasks_before
    await asyncio.wait_for(queue.join(), 1)
