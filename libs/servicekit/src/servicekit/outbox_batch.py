"""Many events into a schema's outbox in one statement, on a raw asyncpg connection inside the caller's transaction
(the hot paths that write a batch of changes in one transaction: chat-svc's group commit of messages).

The same rows and the same NOTIFY as ``servicekit.outbox.enqueue``, row for row in the order given (ids come from
the table's identity in that order, and the relay publishes by id), for one round trip whatever their number.
``outbox_rows`` gives those rows as column arrays, for a statement or database function that writes them together
with other changes (chat-svc's ``chat.commit_message_batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple
from uuid import UUID

import asyncpg
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import DOMAIN_EVENTS

from servicekit.outbox import notify_channel


class OutboxRows(NamedTuple):
    """The outbox rows of some events, column by column, in the events' order."""

    event_ids: list[UUID]
    event_types: list[str]
    exchanges: list[str]
    routing_keys: list[str]
    aggregate_ids: list[str]
    bodies: list[bytes]


def outbox_rows(envelopes: Sequence[EventEnvelope]) -> OutboxRows:
    """Each envelope's row as ``servicekit.outbox.enqueue`` writes it (its exchange and routing key from the
    registry; each envelope keeps its own request and correlation ids)."""
    specs = [DOMAIN_EVENTS[e.event_type] for e in envelopes]
    return OutboxRows([e.event_id for e in envelopes], [e.event_type for e in envelopes],
                      [s.exchange for s in specs], [s.routing_key for s in specs],
                      [e.aggregate_id for e in envelopes], [e.to_bytes() for e in envelopes])


def _statement(schema: str) -> str:
    return (
        f'WITH queued AS (INSERT INTO "{schema}".outbox (event_id, event_type, exchange, routing_key, aggregate_id, '
        "body) SELECT event_id, event_type, exchange, routing_key, aggregate_id, body FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) "
        "WITH ORDINALITY AS e(event_id, event_type, exchange, routing_key, aggregate_id, body, n) ORDER BY n "
        "RETURNING id) "
        "SELECT pg_notify($7, '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_row"
    )


async def enqueue_many(conn: asyncpg.Connection, schema: str, envelopes: Sequence[EventEnvelope]) -> None:
    """Add ``envelopes`` to ``schema``'s outbox, in this order, within the connection's open transaction; the relay
    is notified at commit. Each envelope keeps its own request and correlation ids."""
    if not envelopes:
        return
    await conn.execute(_statement(schema), *outbox_rows(envelopes), notify_channel(schema))
