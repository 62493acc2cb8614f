"""Notifications over HTTP against real PostgreSQL and RabbitMQ: sending, listing, read state per admin,
idempotency, and the one event each change publishes."""

import pytest
from contracts.events.payloads import NotificationCreated, NotificationReadStateChanged
from contracts.events.registry import NOTIFICATION_CREATED, NOTIFICATION_READ_STATE_CHANGED
from contracts.events.topology import NOTIFICATION_EVENTS_EXCHANGE
from notification_svc import unread
from servicekit.ratelimit import RateLimit
from sqlalchemy import text

from .conftest import Service, error_fields, new_id, running, tap

MAX_BIGINT = 2**63 - 1


def note(**overrides):
    return {"type": "order", "title": "New order", "content": "Order #1 needs review", **overrides}


def created(notification_id):
    return lambda e: e.envelope.event_type == NOTIFICATION_CREATED and e.payload.notification.notification_id == notification_id


def read_changed(user_id):
    return lambda e: e.envelope.event_type == NOTIFICATION_READ_STATE_CHANGED and e.payload.user_id == user_id


async def send(svc: Service, sender: dict, **overrides) -> dict:
    response = await svc.client.post("/api/v4/notifications/send", json=note(**overrides), headers=sender)
    assert response.status_code == 201, response.text
    return response.json()


# --- send ---


async def test_sending_to_one_admin_returns_the_notification_and_publishes_one_created_event(service):
    target = new_id()
    async with tap(service.amqp_url) as events:
        body = await send(service, service.admin(), link="/admin/orders/1", target_user_id=target)
        got = await events.expect(1, created(body["notification_id"]))

    assert body == {
        "notification_id": body["notification_id"], "type": "order", "title": "New order",
        "content": "Order #1 needs review", "link": "/admin/orders/1", "created_at": body["created_at"],
        "is_read": False, "target_user_id": target,
    }
    assert body["created_at"].endswith("+08:00")
    [event] = got
    assert (event.exchange, event.routing_key) == (NOTIFICATION_EVENTS_EXCHANGE, NOTIFICATION_CREATED)
    assert event.persistent and event.message_id == str(event.envelope.event_id)
    assert isinstance(event.payload, NotificationCreated)
    assert event.payload.target_user_id == target
    assert event.payload.notification.model_dump(mode="json") == body
    assert event.envelope.aggregate_id == str(body["notification_id"]) and event.envelope.producer == "notification-svc"


async def test_a_broadcast_has_no_target_in_the_answer_and_a_null_target_in_the_event(service):
    async with tap(service.amqp_url) as events:
        body = await send(service, service.admin())
        [event] = await events.expect(1, created(body["notification_id"]))
    assert "target_user_id" not in body and "link" not in body
    assert event.payload.target_user_id is None


async def test_only_admins_send_notifications(service):
    response = await service.client.post("/api/v4/notifications/send", json=note(), headers=service.user())
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = await service.client.post("/api/v4/notifications/send", json=note())
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "order", "content": "x"}, "title"),
        (note(title="x" * 201), "title"),
        (note(title="   "), "title"),
        (note(content=""), "content"),
        (note(content="x" * 5001), "content"),
        (note(type="spam"), "type"),
        (note(link=""), "link"),
        (note(target_user_id=0), "target_user_id"),
        (note(target_user_id="7"), "target_user_id"),
        (note(target_user_id=MAX_BIGINT + 1), "target_user_id"),
        (note(priority=1), "priority"),
    ],
)
async def test_a_bad_notification_is_refused_with_422_naming_the_field(service, body, field):
    response = await service.client.post("/api/v4/notifications/send", json=body, headers=service.admin())
    assert response.status_code == 422, response.text
    assert field in error_fields(response)


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_notification_and_no_second_event(service):
    sender = {**service.admin(), "Idempotency-Key": f"key-{new_id()}"}
    async with tap(service.amqp_url) as events:
        first = await send(service, sender, title="once")
        second = await send(service, sender, title="once")
        got = await events.expect(1, created(first["notification_id"]), settle=0.8)
    assert second == first
    assert len(got) == 1
    async with service.app.state.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM notification.notifications WHERE title = 'once'"))).scalar()
    assert count == 1

    other_body = await service.client.post("/api/v4/notifications/send", json=note(title="twice"), headers=sender)
    assert other_body.status_code == 422 and other_body.json()["error"]["code"] == "idempotency_key_reused"


# --- list, unread count, get ---


async def test_an_admin_lists_own_and_broadcast_notifications_newest_first_with_own_read_state(own_service):
    svc = own_service
    me, other, sender = new_id(), new_id(), svc.admin()
    mine = await send(svc, sender, target_user_id=me, title="mine")
    theirs = await send(svc, sender, target_user_id=other, title="theirs")
    everyone = await send(svc, sender, title="everyone", type="alert")
    await svc.client.post(f"/api/v4/notifications/{mine['notification_id']}/read", headers=svc.admin(me))

    response = await svc.client.get("/api/v4/notifications", headers=svc.admin(me))
    assert response.status_code == 200
    page = response.json()
    assert [n["notification_id"] for n in page["items"]] == [everyone["notification_id"], mine["notification_id"]]
    assert [n["is_read"] for n in page["items"]] == [False, True]
    assert (page["total"], page["unread_count"], page["page"], page["page_size"]) == (2, 1, 1, 20)
    assert theirs["notification_id"] not in [n["notification_id"] for n in page["items"]]

    unread = (await svc.client.get("/api/v4/notifications?unread_only=true", headers=svc.admin(me))).json()
    assert [n["notification_id"] for n in unread["items"]] == [everyone["notification_id"]]
    alerts = (await svc.client.get("/api/v4/notifications?type=alert", headers=svc.admin(me))).json()
    assert [n["title"] for n in alerts["items"]] == ["everyone"]
    second = (await svc.client.get("/api/v4/notifications?page=2&page_size=1", headers=svc.admin(me))).json()
    assert [n["notification_id"] for n in second["items"]] == [mine["notification_id"]]
    assert second["total"] == 2

    count = await svc.client.get("/api/v4/notifications/unread-count", headers=svc.admin(me))
    assert count.json() == {"unread_count": 1, "by_type": {"system": 0, "user": 0, "order": 0, "alert": 1}}
    one = await svc.client.get(f"/api/v4/notifications/{mine['notification_id']}", headers=svc.admin(me))
    assert one.status_code == 200 and one.json()["is_read"] is True


async def test_a_broadcast_read_by_one_admin_stays_unread_for_another(own_service):
    svc = own_service
    first, second = new_id(), new_id()
    broadcast = await send(svc, svc.admin())
    for_first = await send(svc, svc.admin(), target_user_id=first)

    await svc.client.post(f"/api/v4/notifications/{broadcast['notification_id']}/read", headers=svc.admin(first))

    first_page = (await svc.client.get("/api/v4/notifications", headers=svc.admin(first))).json()
    second_page = (await svc.client.get("/api/v4/notifications", headers=svc.admin(second))).json()
    assert {n["notification_id"]: n["is_read"] for n in first_page["items"]} == {
        broadcast["notification_id"]: True, for_first["notification_id"]: False,
    }
    assert {n["notification_id"]: n["is_read"] for n in second_page["items"]} == {broadcast["notification_id"]: False}
    assert (first_page["unread_count"], second_page["unread_count"]) == (1, 1)
    for admin, expected in ((first, 1), (second, 1)):
        count = await svc.client.get("/api/v4/notifications/unread-count", headers=svc.admin(admin))
        assert count.json() == {"unread_count": expected, "by_type": {"system": 0, "user": 0, "order": 1, "alert": 0}}


async def test_listing_is_for_admins_and_validates_paging(service):
    assert (await service.client.get("/api/v4/notifications", headers=service.user())).status_code == 403
    assert (await service.client.get("/api/v4/notifications/unread-count", headers=service.user())).status_code == 403
    for query, field in (("page=0", "page"), ("page_size=0", "page_size"), ("page_size=101", "page_size"),
                         ("type=spam", "type"), ("unread_only=maybe", "unread_only")):
        response = await service.client.get(f"/api/v4/notifications?{query}", headers=service.admin())
        assert response.status_code == 422, query
        assert field in error_fields(response), query


async def test_getting_a_missing_or_someone_elses_notification_is_404(service):
    theirs = await send(service, service.admin(), target_user_id=new_id())
    for notification_id in (theirs["notification_id"], MAX_BIGINT, MAX_BIGINT + 1):
        response = await service.client.get(f"/api/v4/notifications/{notification_id}", headers=service.admin())
        assert response.status_code == 404, notification_id
        assert response.json()["error"]["code"] == "not_found"


# --- read state ---


async def test_marking_read_answers_the_new_state_and_publishes_one_event_even_when_repeated(service):
    me = new_id()
    body = await send(service, service.admin(), target_user_id=me)
    url = f"/api/v4/notifications/{body['notification_id']}/read"
    async with tap(service.amqp_url) as events:
        first = await service.client.post(url, headers=service.admin(me))
        again = await service.client.post(url, headers=service.admin(me))
        got = await events.expect(1, read_changed(me), settle=0.8)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"notification_id": body["notification_id"], "is_read": True}
    [event] = got
    assert (event.exchange, event.routing_key) == (NOTIFICATION_EVENTS_EXCHANGE, NOTIFICATION_READ_STATE_CHANGED)
    assert isinstance(event.payload, NotificationReadStateChanged)
    assert event.payload.model_dump() == {"user_id": me, "notification_ids": [body["notification_id"]], "is_read": True}


async def test_marking_unread_reverses_read_and_publishes_is_read_false(service):
    me = new_id()
    body = await send(service, service.admin(), target_user_id=me)
    base = f"/api/v4/notifications/{body['notification_id']}"
    await service.client.post(f"{base}/read", headers=service.admin(me))
    async with tap(service.amqp_url) as events:
        response = await service.client.post(f"{base}/unread", headers=service.admin(me))
        [event] = await events.expect(1, read_changed(me))
    assert response.json() == {"notification_id": body["notification_id"], "is_read": False}
    assert event.payload.is_read is False
    assert (await service.client.get(base, headers=service.admin(me))).json()["is_read"] is False


async def test_marking_read_is_refused_for_users_missing_or_foreign_notifications_and_bad_ids(service):
    me = new_id()
    theirs = await send(service, service.admin(), target_user_id=new_id())
    url = "/api/v4/notifications/{}/read"
    assert (await service.client.post(url.format(theirs["notification_id"]), headers=service.user(me))).status_code == 403
    for missing in (theirs["notification_id"], theirs["notification_id"] + 10_000, MAX_BIGINT + 1):
        response = await service.client.post(url.format(missing), headers=service.admin(me))
        assert response.status_code == 404, missing
    for bad in ("abc", "0", "-1"):
        response = await service.client.post(url.format(bad), headers=service.admin(me))
        assert response.status_code == 422 and "notification_id" in error_fields(response)


async def test_read_all_marks_every_unread_notification_of_the_caller_and_chunks_its_events(own_service):
    svc = own_service
    me, other = new_id(), new_id()
    async with svc.app.state.engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO notification.notifications (type, title, content, target_user_id, created_by) "
            "SELECT 'system', 'bulk ' || i, 'c', CASE WHEN i % 2 = 0 THEN NULL ELSE CAST(:me AS bigint) END, 1 "
            "FROM generate_series(1, 1004) AS i"
        ), {"me": me})
        await unread.rebuild(conn)  # rows written behind the service's back: recount
    foreign = await send(svc, svc.admin(), target_user_id=other)
    already = (await svc.client.get("/api/v4/notifications?page_size=1", headers=svc.admin(me))).json()["items"][0]
    await svc.client.post(f"/api/v4/notifications/{already['notification_id']}/read", headers=svc.admin(me))

    async with tap(svc.amqp_url) as events:
        response = await svc.client.post("/api/v4/notifications/read-all", headers=svc.admin(me))
        got = await events.expect(2, read_changed(me))
        again = await svc.client.post("/api/v4/notifications/read-all", headers=svc.admin(me))
        await events.expect(2, read_changed(me))
    assert response.status_code == 200 and response.json() == {"updated": 1003}
    assert again.json() == {"updated": 0}
    assert [len(e.payload.notification_ids) for e in got] == [1000, 3]
    ids = [i for e in got for i in e.payload.notification_ids]
    assert len(set(ids)) == 1003 and already["notification_id"] not in ids and foreign["notification_id"] not in ids
    assert (await svc.client.get("/api/v4/notifications/unread-count", headers=svc.admin(me))).json()["unread_count"] == 0
    assert (await svc.client.get("/api/v4/notifications/unread-count", headers=svc.admin(other))).json() == {
        "unread_count": 1 + 502, "by_type": {"system": 502, "user": 0, "order": 1, "alert": 0}}
    assert (await svc.client.post("/api/v4/notifications/read-all", headers=svc.user(me))).status_code == 403


# --- per-admin rate limit (servicekit.ratelimit) ---


async def test_an_admin_sending_too_fast_gets_429_with_retry_after_on_every_creating_route_and_others_are_unaffected(
    mint, make_database, make_vhost,
):
    async with running(mint, await make_database(), await make_vhost(),
                       send_rate_limit=RateLimit(requests=5, per_seconds=3600)) as svc:
        flooder, other = svc.admin(), svc.admin()
        statuses = [(await svc.client.post("/api/v4/notifications/send", json=note(), headers=flooder)).status_code
                    for _ in range(8)]
        assert statuses == [201] * 5 + [429] * 3
        for path, body in (("/api/v4/system/alerts", {"level": "info", "title": "t", "message": "m"}),
                           ("/api/v4/system/status", {"component": "c", "status": "operational", "message": "m"})):
            refused = await svc.client.post(path, json=body, headers=flooder)  # one budget for every creating POST
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
        assert (await svc.client.post("/api/v4/notifications/send", json=note(), headers=other)).status_code == 201
