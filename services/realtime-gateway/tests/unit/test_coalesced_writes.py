"""transport/coalesced_writes.py: direct writes of one loop turn leave joined, per transport, in order."""

import asyncio

from realtime_gateway.transport.coalesced_writes import CoalescedWrites


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing


async def test_frames_of_one_turn_leave_in_one_write_per_transport_in_order() -> None:
    writes, a, b = CoalescedWrites(), Transport(), Transport()
    writes.write(a, b"1")
    writes.write(b, b"x")
    writes.write(a, b"2")
    writes.write(a, b"3")
    assert a.writes == b.writes == []  # nothing before the turn ends
    await asyncio.sleep(0)
    assert a.writes == [b"123"] and b.writes == [b"x"]
    assert (writes.frames, writes.calls) == (4, 2)
    writes.write(a, b"4")  # the next turn: a new round
    await asyncio.sleep(0)
    assert a.writes == [b"123", b"4"]


async def test_a_flush_writes_what_is_kept_at_once_so_a_later_write_another_way_cannot_overtake_it() -> None:
    writes, a = CoalescedWrites(), Transport()
    writes.write(a, b"1")
    writes.flush(a)
    a.write(b"2")  # what aiohttp's path writes after its flush
    await asyncio.sleep(0)
    assert a.writes == [b"1", b"2"]


async def test_a_transport_closed_before_the_turn_ends_gets_nothing() -> None:
    writes, a = CoalescedWrites(), Transport()
    writes.write(a, b"1")
    a.closing = True
    await asyncio.sleep(0)
    assert a.writes == [] and writes.calls == 0


async def test_off_each_frame_is_written_at_once() -> None:
    writes, a = CoalescedWrites(), Transport()
    writes.enabled = False
    writes.write(a, b"1")
    writes.write(a, b"2")
    assert a.writes == [b"1", b"2"]


async def test_a_broadcast_writes_at_once_but_behind_frames_already_kept_for_that_socket() -> None:
    writes, kept, idle = CoalescedWrites(), Transport(), Transport()
    writes.write(kept, b"1")  # a chat frame kept this turn
    writes.write_through(kept, b"B")
    writes.write_through(idle, b"B")
    assert idle.writes == [b"B"] and kept.writes == []  # nothing kept for it: written now
    await asyncio.sleep(0)
    assert kept.writes == [b"1B"]
