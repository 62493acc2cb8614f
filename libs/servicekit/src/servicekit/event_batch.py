"""A consumer's side of event batches (contracts.events.batch): one AMQP message -> the events it carries.

Used by the one ack policy every service's consumers share (``servicekit.amqp.guarded``): each event of a batch
reaches the handler as a message of its own (the delivery, with that event's body, `message_id` = its `event_id`
and `type` = its `event_type`), in order, so handlers, their dedup by `event_id` and their errors stay as they were.
The gateway's stream consumer and its replay unpack with ``contracts.events.batch.event_bodies``.
"""

from __future__ import annotations

import copy
from typing import Any, cast

import aiormq
from aio_pika import IncomingMessage
from aio_pika.abc import AbstractIncomingMessage
from contracts.events.batch import EVENT_BATCH_TYPE, event_body, event_names, unpack_events


def is_batch(message: AbstractIncomingMessage) -> bool:
    return message.type == EVENT_BATCH_TYPE


def unpacked(message: AbstractIncomingMessage) -> list[AbstractIncomingMessage]:
    """The events of `message` as messages of their own, in order (`message` itself when it is not a batch).
    Raises `contracts.errors.MalformedEventBatch` when the batch cannot be read at all.

    Each is a shallow copy of the delivery: settling it settles the whole batch, which only the ack policy does."""
    if not is_batch(message):
        return [message]
    return [_as_message(message, event) for event in unpack_events(message.body)]


def _as_message(message: AbstractIncomingMessage, event: dict[str, Any]) -> AbstractIncomingMessage:
    view = cast(IncomingMessage, copy.copy(message))  # aio-pika delivers IncomingMessage (its slots hold these)
    view.body = event_body(event)
    view.message_id, view.type = event_names(event)
    return view


async def dead_letter_alone(
    batch: AbstractIncomingMessage, event: AbstractIncomingMessage, exchange: str, routing_key: str, reason: str,
) -> None:
    """Publish one event of `batch` alone to the dead-letter exchange (the broker can only dead-letter whole
    messages), on the channel it was delivered on (a confirming one: see ``servicekit.amqp.start_consumer``).
    Raises when the broker did not take it (the caller then retries the whole batch: nothing is lost)."""
    properties = aiormq.spec.Basic.Properties(
        content_type="application/json", delivery_mode=2, message_id=event.message_id, message_type=event.type,
        headers={"x-batch-message-id": batch.message_id or "", "x-dead-letter-reason": reason[:500]},
    )
    confirm = await batch.channel.basic_publish(event.body, exchange=exchange, routing_key=routing_key,
                                                properties=properties)
    if confirm is not None and not isinstance(confirm, aiormq.spec.Basic.Ack):
        raise RuntimeError(f"the broker refused the dead-lettered event {event.message_id}: {confirm!r}")
