"""The envelope around every domain event on RabbitMQ.

``schema_version`` is ``MAJOR.MINOR``: a minor bump only adds fields (old consumers ignore them), a major bump
breaks the payload and consumers reject majors they do not know (see ``DomainEventSpec.parse``).
"""

import json
from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import Field, Strict, ValidationError

from contracts.errors import MalformedEnvelope
from contracts.fields import Outbound, ShortText
from contracts.time import BeijingDatetime, now_beijing

EVENT_TYPE_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$"
SCHEMA_VERSION_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"

EventType = Annotated[str, Strict(), Field(pattern=EVENT_TYPE_PATTERN, max_length=200)]
SchemaVersion = Annotated[str, Strict(), Field(pattern=SCHEMA_VERSION_PATTERN)]


class EventEnvelope(Outbound):
    """One domain event: who produced what, when, for which aggregate, in which schema version.

    ``aggregate_id`` is the ordering key (e.g. the session id): consumers that need order handle one
    aggregate's events in sequence. ``event_id`` is the idempotency key.
    """

    event_id: UUID = Field(default_factory=uuid4)
    event_type: EventType
    occurred_at: BeijingDatetime = Field(default_factory=now_beijing)
    producer: ShortText
    schema_version: SchemaVersion
    aggregate_id: ShortText
    correlation_id: ShortText | None = None
    request_id: ShortText | None = None
    """The `X-Request-ID` of the HTTP request (or the id of the socket command) that caused this event, when there
    was one: it is bound in the log context of whoever handles the event, so one id finds every log line of one
    notification or chat message across the services and the gateway."""
    payload: dict[str, Any]

    @property
    def major(self) -> int:
        return int(self.schema_version.split(".")[0])

    @property
    def minor(self) -> int:
        return int(self.schema_version.split(".")[1])

    def to_bytes(self) -> bytes:
        """The message body: UTF-8 JSON."""
        return self.model_dump_json().encode()


def parse_envelope(body: bytes | str) -> EventEnvelope:
    """Parse a message body into an envelope; raises ``MalformedEnvelope`` naming what is wrong."""
    try:
        return EventEnvelope.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedEnvelope(f"invalid event envelope: {exc}") from exc
    except (ValueError, json.JSONDecodeError) as exc:  # pragma: no cover - pydantic reports bad JSON itself
        raise MalformedEnvelope(f"invalid event envelope: {exc}") from exc
