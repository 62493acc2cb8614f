"""Offline reach: an admin's reply to an end user with no socket online becomes a WeChat subscribe message, if
the user gave consent (each consent allows one message, as WeChat's one-time subscriptions do).

Decided from events only, on the durable quorum queue `notification-svc.wechat-reach`: users' presence
(reach_presence.py) and `chat.message_created`. Each event is applied once: its event_id goes into
`processed_events` in the transaction of its effects. For an admin's message (not a system text) to a user who
is offline and has a consent left for the configured template, that transaction uses one consent and records
the message to send (`wechat_sends`); wechat_sender.py delivers it. Chat messages never wait for any of this:
chat-svc has already stored and published them, and WeChat is called only after this transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.events.envelope import EventEnvelope
from contracts.events.payloads import ChatMessageCreated, GatewayHeartbeat, UserConnectionsChanged
from contracts.events.registry import (
    CHAT_MESSAGE_CREATED,
    PRESENCE_GATEWAY_HEARTBEAT,
    PRESENCE_USER_CONNECTIONS_CHANGED,
    parse_domain_event,
)
from contracts.events.topology import CHAT_EVENTS_EXCHANGE, PRESENCE_EXCHANGE, queue_name
from pydantic import BaseModel
from servicekit.amqp import Poison, Publisher, QueueSpec, bindings, start_consumer
from servicekit.broker import OnConnect
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notification_svc import reach_presence, wechat_template
from notification_svc.db import processed_events, wechat_sends, wechat_subscriptions
from notification_svc.settings import Settings

log = logging.getLogger(__name__)

REACH_QUEUE = QueueSpec(
    queue_name("notification-svc", "wechat-reach"),
    (*bindings(PRESENCE_EXCHANGE, [PRESENCE_USER_CONNECTIONS_CHANGED, PRESENCE_GATEWAY_HEARTBEAT]),
     *bindings(CHAT_EVENTS_EXCHANGE, [CHAT_MESSAGE_CREATED])),
    quorum=True,
)


@dataclass(frozen=True)
class ReachRules:
    template_id: str
    page: str
    fields: dict[str, str]
    presence_ttl_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> ReachRules:
        assert settings.wechat_template_id is not None  # only built when settings.wechat_reach
        return cls(settings.wechat_template_id, settings.wechat_page, dict(settings.wechat_fields),
                   settings.wechat_presence_ttl_seconds)


# --- consents ---------------------------------------------------------------------------------------------


async def add_consent(db: AsyncConnection, user_id: int, openid: str, template_id: str, most: int) -> int:
    """One more message allowed (at most `most` kept); the consents left."""
    row = insert(wechat_subscriptions).values(user_id=user_id, template_id=template_id, openid=openid, remaining=1)
    s = wechat_subscriptions.c
    upsert = row.on_conflict_do_update(
        index_elements=[s.user_id, s.template_id],
        set_={"openid": row.excluded.openid, "remaining": func.least(s.remaining + 1, most), "updated_at": func.now()},
    ).returning(s.remaining)
    return int((await db.execute(upsert)).scalar_one())


async def consents_left(db: AsyncConnection, user_id: int, template_id: str) -> int:
    s = wechat_subscriptions.c
    found = await db.execute(select(s.remaining).where(s.user_id == user_id, s.template_id == template_id))
    return int(found.scalar_one_or_none() or 0)


async def _use_consent(db: AsyncConnection, user_id: int, template_id: str) -> str | None:
    """Take one consent; the openid to send to, or None when none is left."""
    s = wechat_subscriptions.c
    taken = await db.execute(
        wechat_subscriptions.update()
        .where(s.user_id == user_id, s.template_id == template_id, s.remaining > 0)
        .values(remaining=s.remaining - 1, updated_at=func.now())
        .returning(s.openid)
    )
    return taken.scalar_one_or_none()


# --- events -----------------------------------------------------------------------------------------------


async def apply(engine: AsyncEngine, rules: ReachRules, envelope: EventEnvelope, payload: BaseModel) -> bool:
    """Apply one event, once; True when it recorded a message to send."""
    async with engine.begin() as db:
        first = await db.execute(
            insert(processed_events).values(event_id=envelope.event_id, event_type=envelope.event_type)
            .on_conflict_do_nothing().returning(processed_events.c.event_id)
        )
        if first.first() is None:
            return False  # a redelivery: its effects are committed already
        if isinstance(payload, UserConnectionsChanged):
            await reach_presence.PRESENCE.gateway_seen(db, payload.gateway_id, payload.at, None, rules.presence_ttl_seconds)
            await reach_presence.PRESENCE.set_connections(db, payload.gateway_id, {payload.user_id: payload.connections},
                                                          payload.at)
        elif isinstance(payload, GatewayHeartbeat):
            await reach_presence.PRESENCE.gateway_seen(db, payload.gateway_id, payload.at, payload.ttl_seconds,
                                              rules.presence_ttl_seconds)
        elif isinstance(payload, ChatMessageCreated):
            return await _decide(db, rules, payload)
        else:  # pragma: no cover - the queue is bound to these types only
            raise Poison(f"notification-svc does not consume {envelope.event_type}")
    return False


async def _decide(db: AsyncConnection, rules: ReachRules, event: ChatMessageCreated) -> bool:
    message = event.message
    if message.sender_type != "admin" or message.message_type == "system":
        return False
    if await reach_presence.PRESENCE.is_online(db, event.user_id):
        return False
    openid = await _use_consent(db, event.user_id, rules.template_id)
    if openid is None:
        return False
    await db.execute(insert(wechat_sends).values(
        message_id=message.message_id, user_id=event.user_id, openid=openid, template_id=rules.template_id,
        page=f"{rules.page}?session_id={message.session_id}", data=wechat_template.reply_data(message, rules.fields),
    ))
    log.info("wechat subscribe message queued",
             extra={"user_id": event.user_id, "message_id": message.message_id, "session_id": message.session_id})
    return True


def reach_consumer(engine: AsyncEngine, rules: ReachRules, wake: Callable[[], None]) -> OnConnect:
    """A Broker on_connect hook consuming `notification-svc.wechat-reach`; `wake` tells the sender a message
    waits."""

    async def on_message(message: AbstractIncomingMessage) -> None:
        envelope, payload = parse_domain_event(message.body)  # ContractError -> dead-letter
        if await apply(engine, rules, envelope, payload):
            wake()

    async def start(connection: AbstractRobustConnection, _publisher: Publisher) -> None:
        await start_consumer(connection, REACH_QUEUE, on_message, prefetch=8)

    return start
