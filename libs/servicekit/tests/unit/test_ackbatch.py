"""servicekit.ackbatch: one multiple ack for deliveries finishing together, never an ack over an unsettled one."""

from __future__ import annotations

import asyncio

from servicekit.ackbatch import AckBatch


class Channel:
    def __init__(self) -> None:
        self.frames: list[tuple[int, bool]] = []


class Delivery:
    def __init__(self, channel: Channel, tag: int) -> None:
        self.channel = channel
        self.delivery_tag = tag
        self.message_id = f"m{tag}"

    async def ack(self, multiple: bool = False) -> None:
        self.channel.frames.append((self.delivery_tag, multiple))


async def test_deliveries_finishing_together_are_acked_by_one_multiple_ack():
    channel, acks = Channel(), AckBatch()
    await asyncio.gather(*(acks.ack(Delivery(channel, tag)) for tag in range(1, 6)))
    assert channel.frames == [(5, True)]


async def test_deliveries_finishing_a_few_passes_of_the_loop_apart_join_one_ack():
    channel, acks = Channel(), AckBatch()

    async def finishes_after(passes: int, tag: int) -> None:
        for _ in range(passes):
            await asyncio.sleep(0)  # a reply publish waiting its turn on the channel
        await acks.ack(Delivery(channel, tag))

    await asyncio.gather(*(finishes_after(2 * tag, tag) for tag in range(1, 6)))
    assert channel.frames == [(5, True)]


async def test_a_delivery_finished_above_one_still_being_handled_is_acked_alone_at_once():
    channel, acks = Channel(), AckBatch()
    first = Delivery(channel, 1)  # still being handled (a retry's backoff)
    await asyncio.gather(acks.ack(Delivery(channel, 2)), acks.ack(Delivery(channel, 3)))
    assert channel.frames == [(2, False), (3, False)]  # a multiple ack of 3 would have acked 1 too
    await acks.ack(first)
    assert channel.frames[-1] == (1, True)  # covers 1 alone: 2 and 3 are no longer outstanding
    await acks.ack(Delivery(channel, 4))
    assert channel.frames[-1] == (4, True)


async def test_a_rejected_delivery_between_finished_ones_is_not_acked_by_the_multiple_ack():
    channel, acks = Channel(), AckBatch()
    rejected = Delivery(channel, 2)
    acks.settled(rejected)  # its reject went out first, on its own
    await asyncio.gather(acks.ack(Delivery(channel, 1)), acks.ack(Delivery(channel, 3)))
    assert channel.frames == [(3, True)]
    assert (2, True) not in channel.frames and (2, False) not in channel.frames


async def test_each_channel_has_its_own_delivery_tags():
    old, new, acks = Channel(), Channel(), AckBatch()
    await acks.ack(Delivery(old, 1))
    await acks.ack(Delivery(old, 2))
    await acks.ack(Delivery(new, 1))  # a reopened channel starts again at 1
    assert old.frames == [(1, True), (2, True)]
    assert new.frames == [(1, True)]
