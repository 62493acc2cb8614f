"""What the gateway does on RabbitMQ: dead-letters bad events, publishes presence, and several gateways
behind one broker deliver each event once to each client."""

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import aio_pika
import httpx
import pytest
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.events.topology import NOTIFICATION_EVENTS_EXCHANGE, PRESENCE_EXCHANGE
from contracts.payloads import ChatMessageData, NotificationData
from contracts.time import now_beijing

pytestmark = pytest.mark.integration

NOW = now_beijing()


def broadcast(notification_id: int = 1) -> p.NotificationCreated:
    data = NotificationData(notification_id=notification_id, type="system", title="t", content="c",
                            created_at=NOW, is_read=False)
    return p.NotificationCreated(notification=data, target_user_id=None)


async def test_invalid_events_are_dead_lettered_to_the_shared_dlq_and_delivery_goes_on(
    start_gateway, connect_client, broker
):
    gw = await start_gateway()
    admin = await connect_client(gw, 1, "admin")
    good = r.new_envelope(r.NOTIFICATION_CREATED, "test", broadcast(), "1")
    as_json = json.loads(good.to_bytes())
    bad_bodies = [
        b"{not json",
        json.dumps({**as_json, "event_id": str(uuid4()), "schema_version": "2.0"}).encode(),  # unknown major
        json.dumps({**as_json, "event_id": str(uuid4()), "payload": {"target_user_id": None}}).encode(),
    ]
    for body in bad_bodies:
        await broker.publish_raw(NOTIFICATION_EVENTS_EXCHANGE, r.NOTIFICATION_CREATED, body)
    await broker.publish(r.NOTIFICATION_CREATED, broadcast(2))
    (delivered,) = await admin.wait_for("notification:broadcast")
    assert delivered["notification_id"] == 2

    channel = await broker.connection.channel()
    dlq = await channel.declare_queue("gateway.events.dlq", durable=True, passive=True)
    dead: list[bytes] = []
    async with asyncio.timeout(5):
        while len(dead) < 3:
            if (message := await dlq.get(fail=False, no_ack=True)) is not None:
                dead.append(message.body)
            else:
                await asyncio.sleep(0.05)
    assert dead == bad_bodies
    assert admin.sio.connected
    _, metrics = gw.url, gw.gateway.metrics.render().decode()
    assert "gateway_events_dead_lettered_total 3.0" in metrics


async def presence_queue(broker) -> aio_pika.abc.AbstractQueue:
    channel = await broker.connection.channel()
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(PRESENCE_EXCHANGE, routing_key="presence.#")
    return queue


async def next_presence(queue, event_type: str, timeout: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.02)
                continue
            envelope, payload = r.parse_domain_event(message.body)
            assert envelope.producer == "realtime-gateway"
            assert message.delivery_mode == aio_pika.DeliveryMode.NOT_PERSISTENT
            if envelope.event_type == event_type:
                return payload.model_dump()


async def test_admin_presence_counts_tabs_and_heartbeats_carry_the_full_map(
    start_gateway, connect_client, broker
):
    queue = await presence_queue(broker)
    gw = await start_gateway(gateway_id="gw-presence", presence_heartbeat_seconds=0.3)
    changed = r.PRESENCE_ADMIN_CONNECTIONS_CHANGED
    tab1 = await connect_client(gw, 11, "admin")
    tab2 = await connect_client(gw, 11, "admin")
    await connect_client(gw, 12, "user")  # users are not presence
    assert [(await next_presence(queue, changed))["connections"] for _ in range(2)] == [1, 2]
    beat = await next_presence(queue, r.PRESENCE_GATEWAY_HEARTBEAT)
    while beat["admins"] != {11: 2}:
        beat = await next_presence(queue, r.PRESENCE_GATEWAY_HEARTBEAT)
    assert beat["gateway_id"] == "gw-presence" and beat["ttl_seconds"] == 1  # ceil(3 x 0.3)
    await tab1.sio.disconnect()
    one = await next_presence(queue, changed)
    assert (one["gateway_id"], one["admin_id"], one["connections"]) == ("gw-presence", 11, 1)
    await tab2.sio.disconnect()
    assert (await next_presence(queue, changed))["connections"] == 0
    await connect_client(gw, 13, "admin")
    assert (await next_presence(queue, changed))["admin_id"] == 13

    await gw.stop()  # clean shutdown: the admin's sockets close, then an empty heartbeat
    assert (await next_presence(queue, changed))["connections"] == 0
    beat = await next_presence(queue, r.PRESENCE_GATEWAY_HEARTBEAT)
    while beat["admins"]:
        beat = await next_presence(queue, r.PRESENCE_GATEWAY_HEARTBEAT)
    assert beat["admins"] == {}


async def test_end_user_presence_is_published_on_every_change_of_their_socket_count(
    start_gateway, connect_client, broker
):
    queue = await presence_queue(broker)
    gw = await start_gateway(gateway_id="gw-user-presence")
    changed = r.PRESENCE_USER_CONNECTIONS_CHANGED
    phone = await connect_client(gw, 21, "user")
    tablet = await connect_client(gw, 21, "user")
    first, second = await next_presence(queue, changed), await next_presence(queue, changed)
    assert (first["gateway_id"], first["user_id"], first["connections"]) == ("gw-user-presence", 21, 1)
    assert second["connections"] == 2 and second["at"] >= first["at"]
    await phone.sio.disconnect()
    await tablet.sio.disconnect()
    assert [(await next_presence(queue, changed))["connections"] for _ in range(2)] == [1, 0]


async def test_two_gateways_deliver_a_broadcast_once_to_every_admin_and_chat_across_them(
    start_gateway, connect_client, broker, vhost, amqp_management_url
):
    gw_a = await start_gateway(gateway_id="gw-a")
    gw_b = await start_gateway(gateway_id="gw-b")
    admin_a = await connect_client(gw_a, 21, "admin")
    admin_b = await connect_client(gw_b, 22, "admin")
    user_b = await connect_client(gw_b, 31, "user")

    await broker.publish(r.NOTIFICATION_CREATED, broadcast(5))
    await broker.publish(r.NOTIFICATION_CREATED, broadcast(6))  # a second one as a barrier for duplicates
    for admin in (admin_a, admin_b):
        got = await admin.wait_for("notification:broadcast", 2)
        assert [d["notification_id"] for d in got] == [5, 6]
    assert user_b.events("notification:broadcast") == []

    # the admin on A and the user on B chat: messages (from chat-svc's events) and typing (relayed)
    for sender_type, sender in (("user", 31), ("admin", 21)):
        message = ChatMessageData(message_id=sender, session_id=40, sender_type=sender_type, sender_id=sender,
                                  message_content="你好", message_type="text", created_at=NOW)
        await broker.publish(r.CHAT_MESSAGE_CREATED, p.ChatMessageCreated(message=message, user_id=31, admin_id=21))
    for client in (admin_a, user_b):
        assert [m["message_id"] for m in await client.wait_for("chat:new_message", 2)] == [31, 21]
    assert admin_b.events("chat:new_message") == []

    assert await user_b.call("chat:typing", {"session_id": 40}) == {"ok": True}  # cached from the messages
    assert await admin_a.wait_for("chat:typing") == [{"session_id": 40, "sender_type": "user", "sender_id": 31}]
    assert await admin_a.call("chat:typing", {"session_id": 40}) == {"ok": True}
    assert (await user_b.wait_for("chat:typing"))[0]["sender_id"] == 21
    await asyncio.sleep(0.1)
    assert len(admin_a.events("chat:typing")) == 1 and admin_b.events("chat:typing") == []
    # each gateway has its own exclusive, auto-delete queues (typing relays; the services' heartbeats); domain
    # events come from the one durable stream
    vhost_name = urlsplit(vhost).path.lstrip("/")
    async with httpx.AsyncClient(base_url=amqp_management_url) as http:
        queues = (await http.get(f"/api/queues/{vhost_name}")).json()
    mine = {q["name"]: (q["exclusive"], q["auto_delete"], q["durable"]) for q in queues
            if q["name"].startswith("gateway.")}
    assert mine == {
        "gateway.gw-a.events": (True, True, False), "gateway.gw-b.events": (True, True, False),
        "gateway.gw-a.health": (True, True, False), "gateway.gw-b.health": (True, True, False),
        "gateway.events.dlq": (False, False, True), "gateway.events.stream": (False, False, True),
    }
