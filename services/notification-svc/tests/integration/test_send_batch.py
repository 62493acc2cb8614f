"""The group commit of targeted sends (send_batch.py) against real PostgreSQL and RabbitMQ: sends that arrive
together share one transaction, the badge each admin is shown is the committed one, Idempotency-Keys answer once
also inside one batch."""

import asyncio

import pytest
from contracts.events.registry import NOTIFICATION_CREATED, NOTIFICATION_UNREAD_COUNTS_CHANGED
from contracts.identity import Principal
from notification_svc.notifications import NewNotification
from notification_svc.send_batch import SendBatcher
from servicekit.errors import Forbidden
from servicekit.idempotency import IdempotencyKeyReused

from .conftest import Service, new_id, tap
from .test_inbox import badge, count, send

BASE = "/api/v4/notifications"


def admin(user_id: int) -> Principal:
    return Principal(user_id=user_id, user_type="admin", username=f"admin{user_id}")


def note(target: int, title: str = "t") -> NewNotification:
    return NewNotification(type="order", title=title, content="c", target_user_id=target)


def batcher(svc: Service, max_batch: int = 64) -> SendBatcher:
    return SendBatcher(svc.app.state.engine, max_batch=max_batch)


async def test_targeted_sends_that_arrive_together_commit_in_one_transaction_and_announce_the_committed_badge_once(
    own_service,
):
    svc, me, sender = own_service, new_id(), admin(new_id())
    await send(svc, svc.admin(sender.user_id), target_user_id=me)
    group = batcher(svc)
    async with tap(svc.amqp_url) as events:
        answers = await asyncio.gather(*(group.send(sender, note(me, f"n{i}")) for i in range(5)))
        created = await events.expect(5, lambda e: e.envelope.event_type == NOTIFICATION_CREATED)
        [announced] = await events.expect(1, lambda e: e.envelope.event_type == NOTIFICATION_UNREAD_COUNTS_CHANGED)

    assert group.batches == 1
    numbered = [a["notification_id"] for a in answers]
    assert [a["title"] for a in answers] == [f"n{i}" for i in range(5)] and numbered == sorted(numbered)
    assert [e.payload.notification.notification_id for e in created] == numbered
    assert events.events.index(announced) > max(events.events.index(e) for e in created)
    [mine] = announced.payload.counts
    assert (mine.user_id, mine.unread_count, announced.envelope.aggregate_id) == (me, 6, f"admin:{me}")
    assert await count(svc, me) == badge(order=6)


async def test_a_batch_takes_at_most_max_batch_sends_and_each_admin_gets_their_own_badge(own_service):
    svc, first, second, sender = own_service, new_id(), new_id(), admin(new_id())
    group = batcher(svc, max_batch=2)
    async with tap(svc.amqp_url) as events:
        await asyncio.gather(*(group.send(sender, note(target)) for target in (first, second, first, first, second)))
        announced = await events.expect(3, lambda e: e.envelope.event_type == NOTIFICATION_UNREAD_COUNTS_CHANGED)

    assert (group.batches, group.sends) == (3, 5)
    last = {c.user_id: c.unread_count for e in announced for c in e.payload.counts}
    assert last == {first: 3, second: 2}
    assert (await count(svc, first), await count(svc, second)) == (badge(order=3), badge(order=2))


async def test_a_repeated_idempotency_key_inside_one_batch_creates_once_and_another_body_under_it_is_refused_alone(
    own_service,
):
    svc, me, sender, key = own_service, new_id(), admin(new_id()), f"key-{new_id()}"
    group = batcher(svc)
    results = await asyncio.gather(
        group.send(sender, note(me, "a"), idempotency_key=key), group.send(sender, note(me, "a"), idempotency_key=key),
        group.send(sender, note(me, "b"), idempotency_key=key), group.send(sender, note(me, "c")),
        return_exceptions=True,
    )

    assert group.batches == 1
    first, again, other, unkeyed = results
    assert isinstance(first, dict) and again == first
    assert isinstance(other, IdempotencyKeyReused)
    assert isinstance(unkeyed, dict) and unkeyed["notification_id"] != first["notification_id"]
    assert await count(svc, me) == badge(order=2)
    retry = await svc.client.post(f"{BASE}/send", headers={**svc.admin(sender.user_id), "Idempotency-Key": key},
                                  json={"type": "order", "title": "a", "content": "c", "target_user_id": me})
    assert retry.status_code == 201 and retry.json() == first  # the answer stored by the batch
    assert await count(svc, me) == badge(order=2)


async def test_a_batched_send_refuses_a_caller_who_is_not_an_admin(own_service):
    user = Principal(user_id=new_id(), user_type="user", username="u")
    with pytest.raises(Forbidden):
        await batcher(own_service).send(user, note(new_id()))
