"""Who is online, as the gateways tell it: `presence.*` events from `gateway.presence` on the durable quorum
queue `chat-svc.presence`.

Each event is applied once (its event_id goes into `chat.processed_events` with the last of its effects, see
apply_presence) and in event-time order per (gateway, admin): an older event never overwrites a newer count.
Then the queue of waiting sessions is offered again, since an admin may just have come online. A gateway counts until
its last heartbeat + ttl_seconds (one seen only through connection changes: CHAT_PRESENCE_TTL_SECONDS); the
expiry is checked at every decision and by the periodic sweep (Chat.sweep).
"""

from __future__ import annotations

import logging

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.events.envelope import EventEnvelope
from contracts.events.payloads import AdminConnectionsChanged, GatewayHeartbeat
from contracts.events.registry import (
    PRESENCE_ADMIN_CONNECTIONS_CHANGED,
    PRESENCE_GATEWAY_HEARTBEAT,
    parse_domain_event,
)
from contracts.events.topology import PRESENCE_EXCHANGE, queue_name
from pydantic import BaseModel
from servicekit.amqp import Poison, Publisher, QueueSpec, bindings, start_consumer
from servicekit.broker import OnConnect
from servicekit.tasks import every
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from chat_svc import agents_store, store
from chat_svc.db import processed_events
from chat_svc.service import Chat, Tx

log = logging.getLogger(__name__)

PRESENCE_QUEUE = QueueSpec(
    queue_name("chat-svc", "presence"),
    bindings(PRESENCE_EXCHANGE, [PRESENCE_ADMIN_CONNECTIONS_CHANGED, PRESENCE_GATEWAY_HEARTBEAT]),
    quorum=True,
)


async def apply_presence(chat: Chat, envelope: EventEnvelope, payload: BaseModel) -> bool:
    """Apply one presence event; False when it was already applied (a redelivery).

    Two short transactions: the presence rows first, without the assignment lock (they are per gateway and
    admin, ordered by event time, so concurrent events cannot overwrite newer ones); then the queue is
    offered under the lock. Every heartbeat of every gateway would otherwise hold the lock that each
    session creation, claim, transfer and close waits for, during all of its writes. No assignment is missed:
    a decision that ran before this event committed is followed by this offer, one after it sees the rows.

    The event is marked processed with the offer, in the second transaction: a failure between the two
    redelivers it and both run again (writing the same presence rows twice changes nothing: they only move
    forward in event time), so an offer is never skipped as "already processed". Once the mark is visible,
    the event's whole effect is."""
    async with chat.transaction() as tx:
        if await _processed(tx, envelope):
            return False
        if isinstance(payload, AdminConnectionsChanged):
            await store.PRESENCE.gateway_seen(tx.db, payload.gateway_id, payload.at, None, chat.presence_ttl_seconds)
            await store.PRESENCE.set_connections(tx.db, payload.gateway_id, {payload.admin_id: payload.connections},
                                        payload.at)
            if payload.connections > 0:  # opening the console counts as the agent's activity (chat_svc.agents)
                await agents_store.note_activity(tx.db, payload.admin_id, payload.at)
            tx.agents.touch(payload.admin_id)  # supervisors see them come and go (heartbeats: the agents sweep)
        elif isinstance(payload, GatewayHeartbeat):
            await store.PRESENCE.gateway_seen(tx.db, payload.gateway_id, payload.at, payload.ttl_seconds,
                                     chat.presence_ttl_seconds)
            await store.PRESENCE.set_connections(tx.db, payload.gateway_id, dict(payload.admins), payload.at)
            await store.PRESENCE.forget_not_in(tx.db, payload.gateway_id, list(payload.admins), payload.at)
        else:  # pragma: no cover - the queue is bound to these two types only
            raise Poison(f"chat-svc does not consume {envelope.event_type}")
    async with chat.transaction() as tx:
        assigned = await chat.assign_waiting(tx)
        await tx.db.execute(
            insert(processed_events).values(event_id=envelope.event_id, event_type=envelope.event_type)
            .on_conflict_do_nothing()
        )
    log.debug("presence %s %s applied; %d sessions assigned", envelope.event_type, envelope.event_id, assigned)
    return True


async def _processed(tx: Tx, envelope: EventEnvelope) -> bool:
    found = await tx.db.execute(
        select(processed_events.c.event_id).where(processed_events.c.event_id == envelope.event_id)
    )
    return found.first() is not None


def presence_consumer(chat: Chat) -> OnConnect:
    """A Broker on_connect hook that consumes `chat-svc.presence`."""

    async def on_message(message: AbstractIncomingMessage) -> None:
        envelope, payload = parse_domain_event(message.body)  # ContractError -> dead-letter
        await apply_presence(chat, envelope, payload)

    async def start(connection: AbstractRobustConnection, _publisher: Publisher) -> None:
        # A few at a time: each holds a pooled connection and then waits for the assignment lock; 32 of them
        # (the default) could take the whole pool from the API during a reconnect storm.
        await start_consumer(connection, PRESENCE_QUEUE, on_message, prefetch=4)

    return start


async def sweep_forever(chat: Chat, interval: float) -> None:
    """The periodic half of presence expiry: forget dead gateways, re-run assignment."""
    await every(interval, chat.sweep, "presence sweep")
