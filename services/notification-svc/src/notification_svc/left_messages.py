"""Left messages: `chat.message_left` from chat-svc (a user's message waits with nobody to take it) becomes
`notification:new` for the admins it names, on the durable quorum queue `notification-svc.left-messages`.

Who is told is chat-svc's decision (it carries `recipient_ids`: the supervisors it has seen, or null for every
admin): notification-svc knows admins only by id, never their roles. One targeted notification per recipient, or
one broadcast. Each event is applied once: its event_id goes into `notification.processed_events` in the
transaction that creates the notifications (a redelivery finds it and does nothing).
"""

from __future__ import annotations

import logging

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from contracts.events.envelope import EventEnvelope
from contracts.events.payloads import ChatMessageLeft
from contracts.events.registry import CHAT_MESSAGE_LEFT, parse_domain_event
from contracts.events.topology import CHAT_EVENTS_EXCHANGE, queue_name
from contracts.time import to_beijing_iso
from servicekit.amqp import Poison, Publisher, QueueSpec, bindings, start_consumer
from servicekit.broker import OnConnect
from servicekit.uow import UnitsOfWork
from sqlalchemy.dialects.postgresql import insert

from notification_svc.db import processed_events
from notification_svc.notifications import NewNotification, create_notification

log = logging.getLogger(__name__)

LEFT_MESSAGES_QUEUE = QueueSpec(
    queue_name("notification-svc", "left-messages"), bindings(CHAT_EVENTS_EXCHANGE, [CHAT_MESSAGE_LEFT]), quorum=True)
PLATFORM = 0
"""`created_by` of the notifications the platform writes itself (no admin sent them)."""
LINK = "/admin/customer-service.html"


def notification_text(left: ChatMessageLeft) -> tuple[str, str]:
    """(title, content): in Chinese, the platform's language (notifications carry no codes to render per page)."""
    title = f"用户 #{left.user_id} 留言待回复（会话 #{left.session_id}）"
    if left.reason == "outside_working_hours" and left.next_open_at is not None:
        why = f"非工作时间留言，下次上班：{to_beijing_iso(left.next_open_at)}"
    else:
        why = "留言时没有客服在线"
    what = "[图片]" if left.message_type == "image" else left.preview or "…"
    return title, f"{why}。{what}"


async def apply_left_message(work: UnitsOfWork, envelope: EventEnvelope, left: ChatMessageLeft) -> int:
    """Create the notifications of one `chat.message_left`; returns how many (0: already applied)."""
    title, content = notification_text(left)
    targets: list[int | None] = list(left.recipient_ids) if left.recipient_ids is not None else [None]
    async with work.begin(correlation_id=envelope.correlation_id) as uow:
        first = await uow.db.execute(insert(processed_events).values(
            event_id=envelope.event_id, event_type=envelope.event_type).on_conflict_do_nothing()
            .returning(processed_events.c.event_id))
        if first.first() is None:
            return 0
        for target in sorted(targets, key=lambda t: t or 0):
            await create_notification(uow, NewNotification(type="user", title=title, content=content, link=LINK,
                                                           target_user_id=target), created_by=PLATFORM)
    log.info("left message in session %d: %d notification(s)", left.session_id, len(targets))
    return len(targets)


def left_messages_consumer(work: UnitsOfWork) -> OnConnect:
    """A Broker on_connect hook that consumes `notification-svc.left-messages`."""

    async def on_message(message: AbstractIncomingMessage) -> None:
        envelope, payload = parse_domain_event(message.body)  # ContractError -> dead-letter
        if not isinstance(payload, ChatMessageLeft):  # pragma: no cover - the queue is bound to this type only
            raise Poison(f"notification-svc does not consume {envelope.event_type}")
        await apply_left_message(work, envelope, payload)

    async def start(connection: AbstractRobustConnection, _publisher: Publisher) -> None:
        await start_consumer(connection, LEFT_MESSAGES_QUEUE, on_message, prefetch=8)

    return start
