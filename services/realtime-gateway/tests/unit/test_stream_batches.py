"""Event batches on the gateway's stream: one stream message carries several domain events. The live consumer emits
them in order with positions numbered across the whole message, and a replay from any position (inside a batch too)
delivers exactly what the live consumer emitted after it: nothing twice, nothing lost."""

from __future__ import annotations

import json
import time
from typing import Any

from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.batch import EVENT_BATCH_TYPE, pack_event_bodies
from realtime_gateway.clients.typing_relay import ParticipantsCache
from realtime_gateway.delivery.consumer import EventConsumer
from realtime_gateway.delivery.dedup import RecentIds
from realtime_gateway.delivery.stream import Stored
from realtime_gateway.ops.metrics import Metrics
from realtime_gateway.transport.recovery import PidClaim, PidCodec, Recovery

ADMIN_ROOM = "admin:7"


class RecordingEmitter:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict[str, Any], str]] = []

    async def emit(self, event: str, data: dict[str, Any], rooms: Any, offset: str | None = None) -> None:
        assert offset is not None
        self.emitted.append((event, data, offset))


class StreamMessage:
    def __init__(self, offset: int, type_: str, body: bytes) -> None:
        self.channel = object()
        self.delivery_tag = offset
        self.headers = {"x-stream-offset": offset}
        self.type, self.body, self.message_id = type_, body, f"m{offset}"

    async def ack(self, multiple: bool = False) -> None:
        return None


class StoredRange:
    """The stream as a `StreamReader` reads it."""

    def __init__(self, stored: list[Stored]) -> None:
        self.stored = stored

    async def read(self, first: int, last: int, timeout: float) -> list[Stored]:
        return [s for s in self.stored if first <= s.offset <= last]


def _read_state(ids: list[int]) -> bytes:
    """An event that becomes one `notification:update` per id for admin 7."""
    payload = p.NotificationReadStateChanged(user_id=7, notification_ids=ids, is_read=True)
    return r.new_envelope(r.NOTIFICATION_READ_STATE_CHANGED, "t", payload, "1").to_bytes()


def _stream() -> list[Stored]:
    single = _read_state([1, 2])
    first, second, third = _read_state([3]), _read_state([4, 5, 6]), _read_state([7, 8])
    poison = json.dumps({**json.loads(_read_state([9])), "payload": {"user_id": "x"}}).encode()
    return [
        Stored(10, r.NOTIFICATION_READ_STATE_CHANGED, single),                       # one event, as before
        Stored(11, EVENT_BATCH_TYPE, pack_event_bodies([first, second, third])),     # 1 + 3 + 2 deliveries
        Stored(12, EVENT_BATCH_TYPE, pack_event_bodies([_read_state([10]), poison, _read_state([11, 12])])),
        Stored(13, EVENT_BATCH_TYPE, pack_event_bodies([second, _read_state([13])])),  # `second` again (a resend)
    ]


async def _live(stored: list[Stored]) -> tuple[EventConsumer, RecordingEmitter]:
    emitter = RecordingEmitter()
    consumer = EventConsumer(emitter, ParticipantsCache(10), RecentIds(100), Metrics(lambda: 0))  # type: ignore[arg-type]
    for item in stored:
        await consumer.handle_stream(StreamMessage(item.offset, item.type or "", item.body))  # type: ignore[arg-type]
    return consumer, emitter


async def test_a_batch_on_the_stream_is_emitted_event_by_event_with_positions_numbered_across_the_message():
    _, emitter = await _live(_stream())
    ids = [data["notification_id"] for _, data, _ in emitter.emitted]
    positions = [position for *_, position in emitter.emitted]
    assert ids == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13]  # in order; the poison alone missing; the resend once
    assert positions == ["10", "10.1", "11", "11.1", "11.2", "11.3", "11.4", "11.5", "12", "12.1", "12.2", "13.3"]


async def test_replay_from_any_position_inside_a_batch_delivers_exactly_what_followed_it_live():
    stored = _stream()
    consumer, emitter = await _live(stored)
    recovery = Recovery(PidCodec("k"), consumer, RecordingEmitter(), StoredRange(stored),  # type: ignore[arg-type]
                        window_seconds=60, timeout=1)
    claim = PidClaim("pid", time.time(), None)
    assert len(emitter.emitted) == 12  # 9 of them inside batches: every start position below is checked
    for k, (*_, position) in enumerate(emitter.emitted):
        replay = await recovery._replay(claim, position, frozenset({ADMIN_ROOM}))
        assert replay is not None
        events, _ = replay
        assert events == emitter.emitted[k + 1:], position  # nothing twice, nothing lost


async def test_a_resent_batch_is_dropped_live_and_skipped_by_the_replay():
    stored = _stream()
    again = Stored(14, stored[1].type, stored[1].body)  # the relay published batch 11 again (at-least-once)
    consumer, emitter = await _live([*stored, again])
    assert [position for *_, position in emitter.emitted][-1] == "13.3"  # nothing emitted for offset 14
    recovery = Recovery(PidCodec("k"), consumer, RecordingEmitter(), StoredRange([*stored, again]),  # type: ignore[arg-type]
                        window_seconds=60, timeout=1)
    replay = await recovery._replay(PidClaim("pid", time.time(), None), "12.2", frozenset({ADMIN_ROOM}))
    assert replay is not None and [position for *_, position in replay[0]] == ["13.3"]


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[bytes, str, str]] = []

    async def publish(self, exchange: str, routing_key: str, body: bytes, *, message_id: str, message_type: str) -> None:
        self.published.append((body, message_id, message_type))


async def test_a_bad_event_of_a_batch_is_dead_lettered_alone_under_its_own_id_and_type():
    emitter, publisher = RecordingEmitter(), RecordingPublisher()
    consumer = EventConsumer(emitter, ParticipantsCache(10), RecentIds(100), Metrics(lambda: 0))  # type: ignore[arg-type]
    consumer._publisher = publisher  # type: ignore[assignment]
    good = _read_state([1])
    poison = json.dumps({**json.loads(_read_state([2])), "payload": {"user_id": "x"}}).encode()
    batch = pack_event_bodies([good, poison, b'{"event_id": 7}'])
    await consumer.handle_stream(StreamMessage(20, EVENT_BATCH_TYPE, batch))  # type: ignore[arg-type]
    assert [data["notification_id"] for _, data, _ in emitter.emitted] == [1]
    assert [(json.loads(body), message_id, message_type) for body, message_id, message_type in publisher.published] == [
        (json.loads(poison), json.loads(poison)["event_id"], r.NOTIFICATION_READ_STATE_CHANGED),
        ({"event_id": 7}, "unknown", "unknown"),  # nothing readable to name it by
    ]
