"""Issue 17: `chat.message_left` from chat-svc becomes `notification.created` (the gateway's `notification:new`)
for the admins it names, or one broadcast when it names none; each event once, even delivered twice."""

from __future__ import annotations

from typing import Any

import aio_pika
from contracts.events.payloads import ChatMessageLeft
from contracts.events.registry import CHAT_MESSAGE_LEFT, NOTIFICATION_CREATED, new_envelope
from contracts.events.topology import CHAT_EVENTS_EXCHANGE
from contracts.time import now_beijing
from servicekit.amqp import declare_exchanges

from .conftest import new_id, tap

LIST = "/api/v4/notifications"


async def publish_twice(amqp_url: str, left: ChatMessageLeft) -> None:
    """Like chat-svc's relay, and then once more (a redelivery after a lost ack)."""
    envelope = new_envelope(CHAT_MESSAGE_LEFT, "chat-svc", left, aggregate_id=left.session_id)
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await declare_exchanges(channel)
        exchange = await channel.get_exchange(CHAT_EVENTS_EXCHANGE)
        for _ in range(2):
            await exchange.publish(aio_pika.Message(envelope.to_bytes(), message_id=str(envelope.event_id)),
                                   routing_key=CHAT_MESSAGE_LEFT)
    finally:
        await connection.close()


def left(recipients: list[int] | None, **fields: Any) -> ChatMessageLeft:
    values: dict[str, Any] = {"session_id": new_id(), "user_id": new_id(), "reason": "no_agent_online",
                              "message_type": "text", "preview": "有人吗？", "next_open_at": None,
                              "recipient_ids": recipients, "at": now_beijing(), **fields}
    return ChatMessageLeft(**values)


async def inbox(service, admin_id: int) -> list[dict]:
    response = await service.client.get(LIST, headers=service.admin(admin_id))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_left_message_notifies_each_named_supervisor_once_and_no_other_admin(own_service):
    service = own_service
    supervisor_a, supervisor_b, agent = new_id(), new_id(), new_id()
    event = left([supervisor_a, supervisor_b])
    async with tap(service.amqp_url) as events:
        await publish_twice(service.amqp_url, event)
        created = await events.expect(2, lambda e: e.envelope.event_type == NOTIFICATION_CREATED, settle=1.0)
    assert sorted(e.payload.target_user_id for e in created) == [supervisor_a, supervisor_b]
    [mine] = await inbox(service, supervisor_a)
    assert (mine["type"], mine["link"]) == ("user", "/admin/customer-service.html")
    assert f"#{event.session_id}" in mine["title"] and "有人吗？" in mine["content"]
    assert await inbox(service, agent) == []


async def test_a_left_message_naming_nobody_is_one_broadcast_to_every_admin(own_service):
    service = own_service
    event = left(None, reason="outside_working_hours", next_open_at=now_beijing())
    async with tap(service.amqp_url) as events:
        await publish_twice(service.amqp_url, event)
        [created] = await events.expect(1, lambda e: e.envelope.event_type == NOTIFICATION_CREATED, settle=1.0)
    assert created.payload.target_user_id is None
    [seen] = await inbox(service, new_id())
    assert "非工作时间" in seen["content"]
