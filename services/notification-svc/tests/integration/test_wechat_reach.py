"""Offline reach over real notification-svc, RabbitMQ and PostgreSQL, with the WeChat stand-in as WeChat: events
published as the gateway (presence) and chat-svc (`chat.message_created`) publish them; consents over REST."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aio_pika
import pytest_asyncio
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.batch import EVENT_BATCH_TYPE, pack_event_bodies
from contracts.events.envelope import EventEnvelope
from contracts.events.topology import CHAT_EVENTS_EXCHANGE
from contracts.payloads import ChatMessageData
from contracts.time import BEIJING_TZ, now_beijing
from notification_svc.db import processed_events, wechat_sends
from notification_svc.wechat_reach import REACH_QUEUE
from servicekit.amqp import declare_exchanges
from servicekit_testing.tokens import TokenMint
from servicekit_testing.wechat_standin import WeChatStandIn
from sqlalchemy import select

from .conftest import Service, new_id, running

TEMPLATE = "tmpl-reply-1"
SUBSCRIPTIONS = "/api/v4/notifications/wechat/subscriptions"
SEND = "/cgi-bin/message/subscribe/send"
TOKEN = "/cgi-bin/stable_token"


@dataclass
class Reach:
    svc: Service
    wechat: WeChatStandIn
    channel: aio_pika.abc.AbstractChannel

    def wechat_user(self, user_id: int) -> dict[str, str]:
        return self.svc.mint.headers(user_id, "user", wx_openid=f"openid-{user_id}")

    async def consent(self, user_id: int) -> int:
        response = await self.svc.client.post(SUBSCRIPTIONS, json={"template_id": TEMPLATE},
                                              headers=self.wechat_user(user_id))
        assert response.status_code == 200, response.text
        return int(response.json()["remaining"])

    async def publish(self, event_type: str, payload: Any, aggregate: str | int,
                      envelope: EventEnvelope | None = None) -> EventEnvelope:
        envelope = envelope or r.new_envelope(event_type, "test", payload, aggregate)
        exchange = await self.channel.get_exchange(r.DOMAIN_EVENTS[event_type].exchange, ensure=False)
        await exchange.publish(aio_pika.Message(envelope.to_bytes(), message_id=str(envelope.event_id),
                                                type=event_type), routing_key=event_type)
        return envelope

    async def connected(self, gateway: str, user_id: int, connections: int, at: datetime | None = None) -> None:
        await self.applied(await self.publish(r.PRESENCE_USER_CONNECTIONS_CHANGED, p.UserConnectionsChanged(
            gateway_id=gateway, user_id=user_id, connections=connections, at=at or now_beijing()), gateway))

    async def heartbeat(self, gateway: str, at: datetime | None = None, ttl: int = 15) -> None:
        await self.applied(await self.publish(r.PRESENCE_GATEWAY_HEARTBEAT, p.GatewayHeartbeat(
            gateway_id=gateway, admins={}, at=at or now_beijing(), ttl_seconds=ttl), gateway))

    async def reply(self, user_id: int, text: str = "您好，您的订单已发货", *, sender_type: str = "admin",
                    envelope: EventEnvelope | None = None) -> EventEnvelope:
        message = ChatMessageData(
            message_id=new_id(), session_id=new_id(), sender_type=sender_type, sender_id=new_id(),  # type: ignore[arg-type]
            message_content=text, message_type="text",
            created_at=datetime(2026, 12, 7, 15, 4, 5, tzinfo=BEIJING_TZ),
        )
        event = p.ChatMessageCreated(message=message, user_id=user_id, admin_id=message.sender_id)
        sent = await self.publish(r.CHAT_MESSAGE_CREATED, event, message.session_id, envelope)
        await self.applied(sent)
        return sent

    async def applied(self, envelope: EventEnvelope) -> None:
        """Wait until notification-svc has consumed the event (its id is in processed_events)."""
        query = select(processed_events.c.event_id).where(processed_events.c.event_id == envelope.event_id)
        await until(lambda: self._exists(query))

    async def _exists(self, query: Any) -> bool:
        async with self.svc.app.state.engine.connect() as db:
            return (await db.execute(query)).first() is not None

    async def settled(self) -> None:
        """Every due message handed to WeChat (the sender's round run here too): for tests that expect none;
        one the background sender holds is not waited for."""
        while await self.svc.app.state.wechat_sender.send_due():
            pass

    async def sends(self, user_id: int) -> list[Any]:
        async with self.svc.app.state.engine.connect() as db:
            return list((await db.execute(select(wechat_sends).where(wechat_sends.c.user_id == user_id))).all())

    def sent_to(self, user_id: int) -> list[dict[str, Any]]:
        return [m for m in self.wechat.sent if m["touser"] == f"openid-{user_id}"]


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


@asynccontextmanager
async def reach_running(mint: TokenMint, make_database: Any, make_vhost: Any, **overrides: Any) -> AsyncIterator[Reach]:
    async with WeChatStandIn(appid="wx-reach", secret="reach-secret") as wechat:
        amqp_url = await make_vhost()
        settings = {"wechat_appid": "wx-reach", "wechat_secret": "reach-secret", "wechat_template_id": TEMPLATE,
                    "wechat_api_base_url": wechat.base_url, "wechat_retry_seconds": 0.05, "wechat_poll_seconds": 0.05,
                    **overrides}
        async with running(mint, await make_database(), amqp_url, **settings) as svc:
            connection = await aio_pika.connect(amqp_url)
            try:
                channel = await connection.channel()
                await declare_exchanges(channel)
                yield Reach(svc, wechat, channel)
            finally:
                await connection.close()


@pytest_asyncio.fixture(loop_scope="session")
async def reach(mint: TokenMint, make_database: Any, make_vhost: Any) -> AsyncIterator[Reach]:
    async with reach_running(mint, make_database, make_vhost) as value:
        yield value


# --- the decision -------------------------------------------------------------------------------------------


async def test_an_admin_reply_to_an_offline_user_with_consent_sends_exactly_one_subscribe_message(reach):
    user = new_id()
    assert await reach.consent(user) == 1
    event = await reach.reply(user, "您好，您的订单已经发货了，请注意查收快递短信通知")
    await until(lambda: _status_is(reach, user, "sent"))

    [message] = reach.sent_to(user)
    session_id = event.payload["message"]["session_id"]
    assert message == {
        "touser": f"openid-{user}", "template_id": TEMPLATE, "page": f"pages/chat/index?session_id={session_id}",
        "data": {"thing1": {"value": "您好，您的订单已经发货了，请注意查收快…"}, "time2": {"value": "2026年12月7日 15:04"}},
    }
    assert len(reach.wechat.calls_to(SEND)) == 1
    [row] = await reach.sends(user)
    assert row.status == "sent"
    assert (await reach.svc.client.get(SUBSCRIPTIONS, headers=reach.wechat_user(user))).json() == {
        "template_id": TEMPLATE, "remaining": 0}


async def test_an_admin_reply_to_a_user_with_a_socket_online_sends_nothing(reach):
    user, gateway = new_id(), f"gw-{new_id()}"
    await reach.consent(user)
    await reach.heartbeat(gateway)
    await reach.connected(gateway, user, 1)
    await reach.reply(user)
    await reach.settled()
    assert reach.sent_to(user) == []
    assert await reach.sends(user) == []


async def test_a_user_whose_sockets_all_closed_counts_offline_again(reach):
    user, gateway = new_id(), f"gw-{new_id()}"
    await reach.consent(user)
    await reach.heartbeat(gateway)
    at = now_beijing()
    await reach.connected(gateway, user, 0, at + timedelta(milliseconds=5))
    await reach.connected(gateway, user, 1, at)  # older, arriving late: does not bring them back
    await reach.reply(user)
    await until(lambda: _status_is(reach, user, "sent"))
    assert len(reach.sent_to(user)) == 1


async def test_sockets_on_a_gateway_that_stopped_beating_do_not_count(reach):
    user, gateway = new_id(), f"gw-{new_id()}"
    await reach.consent(user)
    long_ago = now_beijing() - timedelta(seconds=60)
    await reach.heartbeat(gateway, at=long_ago, ttl=5)
    await reach.connected(gateway, user, 1, at=long_ago)
    await reach.reply(user)
    await until(lambda: _status_is(reach, user, "sent"))
    assert len(reach.sent_to(user)) == 1


async def test_a_reply_to_a_user_without_consent_and_a_users_own_message_send_nothing(reach):
    without, consenting = new_id(), new_id()
    await reach.consent(consenting)
    await reach.reply(without)
    await reach.reply(consenting, "我自己发的", sender_type="user")
    await reach.settled()
    assert reach.sent_to(without) == [] and reach.sent_to(consenting) == []
    assert reach.wechat.calls_to(SEND) == []


async def test_a_redelivered_chat_event_sends_one_message(reach):
    user = new_id()
    await reach.consent(user)
    await reach.consent(user)
    first = await reach.reply(user)
    await reach.reply(user, envelope=first)  # the same event again (at-least-once delivery)
    await until(lambda: _status_is(reach, user, "sent"))
    assert len(reach.sent_to(user)) == 1
    assert (await reach.svc.client.get(SUBSCRIPTIONS, headers=reach.wechat_user(user))).json()["remaining"] == 1


async def test_a_batch_of_admin_replies_sends_one_message_each_its_poison_is_dead_lettered_alone_and_a_redelivery_sends_none(
    reach,
):
    users = [new_id() for _ in range(3)]
    replies = []
    for user in users:
        await reach.consent(user)
        message = ChatMessageData(
            message_id=new_id(), session_id=new_id(), sender_type="admin", sender_id=new_id(), message_content="好的",
            message_type="text", created_at=now_beijing())
        replies.append(r.new_envelope(r.CHAT_MESSAGE_CREATED, "chat-svc",
                                      p.ChatMessageCreated(message=message, user_id=user, admin_id=message.sender_id),
                                      message.session_id))
    poison = json.dumps({**json.loads(replies[0].to_bytes()), "event_id": str(uuid.uuid4()), "payload": {}}).encode()
    batch = aio_pika.Message(pack_event_bodies([replies[0].to_bytes(), poison, replies[1].to_bytes(),
                                                replies[2].to_bytes()]),
                             type=EVENT_BATCH_TYPE, message_id="batch-test")
    exchange = await reach.channel.get_exchange(CHAT_EVENTS_EXCHANGE, ensure=False)
    for _ in range(2):  # the second time: the same batch redelivered (at-least-once)
        await exchange.publish(batch, routing_key=r.CHAT_MESSAGE_CREATED)
        for reply in replies:
            await reach.applied(reply)
    for user in users:
        await until(lambda user=user: _status_is(reach, user, "sent"))
    await reach.settled()
    assert [len(reach.sent_to(user)) for user in users] == [1, 1, 1]
    dlq = await reach.channel.declare_queue(f"{REACH_QUEUE.name}.dlq", durable=True, passive=True)
    dead = []
    async with asyncio.timeout(5):
        while len(dead) < 2:
            if (got := await dlq.get(fail=False, no_ack=True)) is not None:
                dead.append(json.loads(got.body))
            else:
                await asyncio.sleep(0.05)
    assert [d["event_id"] for d in dead] == [json.loads(poison)["event_id"]] * 2  # that event alone, each time


async def test_a_failing_wechat_is_retried_until_it_accepts_the_message(reach):
    user = new_id()
    await reach.consent(user)
    reach.wechat.fail_next(-1)  # the token fetch: system busy
    reach.wechat.fail_next(-1)  # the first send
    await reach.reply(user)
    await until(lambda: _status_is(reach, user, "sent"))
    [row] = await reach.sends(user)
    assert row.status == "sent" and row.attempts == 3
    assert len(reach.sent_to(user)) == 1


async def test_a_user_who_refused_at_wechat_gets_no_retry_and_their_consents_end(reach):
    user = new_id()
    await reach.consent(user)
    await reach.consent(user)
    await reach.svc.app.state.wechat_api.access_token()
    reach.wechat.fail_next(43101)
    await reach.reply(user)
    await until(lambda: _status_is(reach, user, "refused"))
    await reach.settled()
    assert len(reach.wechat.calls_to(SEND)) == 1 and reach.sent_to(user) == []
    assert (await reach.svc.client.get(SUBSCRIPTIONS, headers=reach.wechat_user(user))).json()["remaining"] == 0


async def _status_is(reach: Reach, user: int, status: str) -> bool:
    return [row.status for row in await reach.sends(user)] == [status]


# --- consents ---------------------------------------------------------------------------------------------


async def test_each_consent_allows_one_more_message_up_to_the_limit(mint, make_database, make_vhost):
    async with reach_running(mint, make_database, make_vhost, wechat_max_consents=2) as reach:
        user = new_id()
        assert [await reach.consent(user) for _ in range(3)] == [1, 2, 2]


async def test_consent_from_a_token_without_a_wechat_openid_is_refused(reach):
    response = await reach.svc.client.post(SUBSCRIPTIONS, json={"template_id": TEMPLATE},
                                           headers=reach.svc.user(new_id()))
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_a_wechat_user"


async def test_consent_to_another_template_is_refused(reach):
    response = await reach.svc.client.post(SUBSCRIPTIONS, json={"template_id": "other"},
                                           headers=reach.wechat_user(new_id()))
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_template"


async def test_subscriptions_answer_409_when_wechat_reach_is_not_configured(service):
    response = await service.client.get(SUBSCRIPTIONS, headers=service.user())
    assert response.status_code == 409 and response.json()["error"]["code"] == "wechat_reach_disabled"


async def test_the_app_secret_and_the_access_tokens_are_in_no_log_line(reach, caplog):
    caplog.set_level(logging.DEBUG)
    user = new_id()
    await reach.consent(user)
    await reach.consent(user)
    await reach.svc.app.state.wechat_api.access_token()
    reach.wechat.expire_tokens()  # the send is answered 42001, the token fetched again
    await reach.reply(user)
    await until(lambda: _status_is(reach, user, "sent"))
    reach.wechat.fail_next(-1)
    await reach.reply(user)
    await until(lambda: _statuses_are(reach, user, ["sent", "sent"]))
    tokens = list(reach.wechat._tokens)
    assert len(tokens) == 2 and caplog.records, "nothing to look for: the check below would prove nothing"
    for record in caplog.records:
        line = record.getMessage() + str(record.__dict__)
        assert "reach-secret" not in line and not any(token in line for token in tokens), record


async def _statuses_are(reach: Reach, user: int, statuses: list[str]) -> bool:
    return [row.status for row in await reach.sends(user)] == statuses
