"""The stream consumer acknowledges what it handled in batches: a multiple `basic.ack` every half prefetch."""

import asyncio

from realtime_gateway.clients.typing_relay import ParticipantsCache
from realtime_gateway.delivery.consumer import EventConsumer
from realtime_gateway.delivery.dedup import RecentIds
from realtime_gateway.delivery.stream import MARK_TYPE
from realtime_gateway.ops.metrics import Metrics


class StreamMessage:
    """A stream marker as aio-pika hands it over: no domain event to emit, only an offset to record and ack."""

    def __init__(self, channel: object, tag: int, offset: int | None = None) -> None:
        self.channel = channel
        self.delivery_tag = tag
        self.headers = {"x-stream-offset": 1000 + tag if offset is None else offset}
        self.type = MARK_TYPE
        self.acks: list[bool] = []

    async def ack(self, multiple: bool = False) -> None:
        self.acks.append(multiple)


def _consumer() -> EventConsumer:
    return EventConsumer(None, ParticipantsCache(10), RecentIds(10), Metrics(lambda: 0))  # type: ignore[arg-type]


async def test_stream_messages_are_acknowledged_by_one_multiple_ack_every_32_not_one_by_one():
    consumer, channel = _consumer(), object()
    burst = [StreamMessage(channel, tag) for tag in range(1, 71)]
    for message in burst[:35]:
        await consumer.handle_stream(message)  # type: ignore[arg-type]
    await asyncio.gather(*(consumer.handle_stream(m) for m in burst[35:]))  # type: ignore[arg-type]
    assert [m.delivery_tag for m in burst if m.acks] == [32, 64]
    assert all(m.acks == [True] for m in burst if m.acks)
    assert consumer.finished == 1070


async def test_after_a_reconnect_the_count_starts_again_on_the_new_channels_delivery_tags():
    consumer, old, new = _consumer(), object(), object()
    for tag in range(1, 21):
        await consumer.handle_stream(StreamMessage(old, tag))  # type: ignore[arg-type]
    resumed = [StreamMessage(new, tag, offset=1020 + tag) for tag in range(1, 41)]  # tags restart at 1
    for message in resumed:
        await consumer.handle_stream(message)  # type: ignore[arg-type]
    assert [m.delivery_tag for m in resumed if m.acks] == [32]
