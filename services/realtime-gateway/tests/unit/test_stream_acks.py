"""The stream consumer acknowledges what it handled in batches (one `basic.ack` with `multiple` for a burst)."""

import asyncio

from realtime_gateway.clients.typing_relay import ParticipantsCache
from realtime_gateway.delivery.consumer import EventConsumer
from realtime_gateway.delivery.dedup import RecentIds
from realtime_gateway.delivery.stream import MARK_TYPE
from realtime_gateway.ops.metrics import Metrics


class StreamMessage:
    """A stream marker as aio-pika hands it over: no domain event to emit, only an offset to record and ack."""

    def __init__(self, channel: object, tag: int) -> None:
        self.channel = channel
        self.delivery_tag = tag
        self.headers = {"x-stream-offset": 1000 + tag}
        self.type = MARK_TYPE
        self.acks: list[bool] = []

    async def ack(self, multiple: bool = False) -> None:
        self.acks.append(multiple)


async def _settled() -> None:
    """Lets the ack scheduled after a burst run."""
    for _ in range(5):
        await asyncio.sleep(0)


def _consumer() -> EventConsumer:
    return EventConsumer(None, ParticipantsCache(10), RecentIds(10), Metrics(lambda: 0))  # type: ignore[arg-type]


async def test_a_burst_of_stream_messages_is_acknowledged_by_one_multiple_ack_of_the_last():
    consumer, channel = _consumer(), object()
    burst = [StreamMessage(channel, tag) for tag in range(1, 11)]
    await asyncio.gather(*(consumer.handle_stream(m) for m in burst))  # type: ignore[arg-type]
    await _settled()
    assert [m.acks for m in burst] == [[]] * 9 + [[True]]
    assert consumer.finished == 1010


async def test_a_long_burst_is_acknowledged_every_ack_batch_so_the_prefetch_window_never_fills():
    consumer, channel = _consumer(), object()
    burst = [StreamMessage(channel, tag) for tag in range(1, 41)]
    await asyncio.gather(*(consumer.handle_stream(m) for m in burst))  # type: ignore[arg-type]
    await _settled()
    assert [m.delivery_tag for m in burst if m.acks] == [32, 40]
    assert all(m.acks == [True] for m in burst if m.acks)


async def test_a_message_alone_is_acknowledged_once_the_loop_has_run_what_was_ready():
    consumer, channel = _consumer(), object()
    first, second = StreamMessage(channel, 1), StreamMessage(channel, 2)
    await consumer.handle_stream(first)  # type: ignore[arg-type]
    await _settled()
    assert first.acks == [True]
    await consumer.handle_stream(second)  # type: ignore[arg-type]
    await _settled()
    assert second.acks == [True]


async def test_after_a_reconnect_the_new_channels_message_is_acknowledged_not_the_old_ones():
    consumer = _consumer()
    old, new = StreamMessage(object(), 7), StreamMessage(object(), 1)  # delivery tags restart on a new channel
    await asyncio.gather(consumer.handle_stream(old), consumer.handle_stream(new))  # type: ignore[arg-type]
    await _settled()
    assert old.acks == [] and new.acks == [True]
