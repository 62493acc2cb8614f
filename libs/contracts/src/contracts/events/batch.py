"""Several domain events in one AMQP message: the event batch.

The outbox relay (servicekit.outbox) publishes the events of one round that follow each other with the same
exchange and routing key as ONE message of type `EVENT_BATCH_TYPE`, whose body is ``{"events": [envelope, ...]}``:
each event keeps its whole envelope (`event_id`, `request_id`, ...), in outbox (commit) order. The broker routes
the batch by the routing key its events share, so every queue bound to that key gets all of them, together.

Consumers unpack a batch in one place (servicekit.event_batch) and handle its events one by one, as if each had
come alone: dedup by `event_id`, a bad event is dead-lettered alone. A message of any other type is one event, as
before batches existed.
"""

import json
from collections.abc import Sequence
from typing import Any

from pydantic import Field, ValidationError

from contracts.errors import MalformedEventBatch
from contracts.fields import Outbound

EVENT_BATCH_TYPE = "platform.event_batch"
"""The AMQP `type` of a batch (a single event carries its `event_type` there)."""


class EventBatch(Outbound):
    """Domain events of one exchange and routing key, in publish order. Each item is an `EventEnvelope`, validated
    on its own when it is handled (one invalid event must not make its neighbours unreadable)."""

    events: list[dict[str, Any]] = Field(min_length=1)


def pack_event_bodies(bodies: Sequence[bytes]) -> bytes:
    """The body of a batch of already serialized envelopes (`EventEnvelope.to_bytes()`), without parsing them:
    the relay holds the bytes it stored."""
    return b'{"events":[' + b",".join(bodies) + b"]}"


def unpack_events(body: bytes | str) -> list[dict[str, Any]]:
    """The events of a batch, as JSON objects (each one an envelope still to validate). Raises `MalformedEventBatch`
    when the batch itself is unreadable (then no event of it can be told apart)."""
    try:
        return EventBatch.model_validate_json(body).events
    except ValidationError as exc:
        raise MalformedEventBatch(f"invalid event batch: {exc}") from exc


def event_body(event: dict[str, Any]) -> bytes:
    """One event of a batch as the body it would have had alone (compact UTF-8 JSON)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def event_names(event: object) -> tuple[str | None, str | None]:
    """An event's `event_id` and `event_type` where they can be read (an event that failed validation too): what
    names it alone, e.g. the AMQP properties of its dead-letter copy. None for what is missing or not a string."""
    if not isinstance(event, dict):
        return None, None
    event_id, event_type = event.get("event_id"), event.get("event_type")
    return (event_id if isinstance(event_id, str) else None, event_type if isinstance(event_type, str) else None)


def event_bodies(message_type: str | None, body: bytes) -> list[bytes]:
    """The bodies of the events one AMQP message carries: each event of a batch, else the message's own body."""
    if message_type != EVENT_BATCH_TYPE:
        return [body]
    return [event_body(event) for event in unpack_events(body)]
