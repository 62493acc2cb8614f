"""notification-svc's /metrics (route histograms, outbox backlog, command queue depths) and its request id on
the events a request causes."""

import pytest
from servicekit_testing.metrics import samples

from .conftest import new_id, tap
from .test_notifications_api import created, send

pytestmark = pytest.mark.integration


async def test_a_notification_event_carries_the_request_id_of_the_request_that_sent_it(own_service):
    svc = own_service
    async with tap(svc.amqp_url) as events:
        response = await svc.client.post(
            "/api/v4/notifications/send", headers={**svc.admin(), "X-Request-ID": "notif-rid-1"},
            json={"type": "order", "title": "t", "content": "c", "target_user_id": new_id()})
        assert response.status_code == 201 and response.headers["x-request-id"] == "notif-rid-1"
        [event] = await events.expect(1, created(response.json()["notification_id"]))
    assert event.envelope.request_id == "notif-rid-1"


async def test_metrics_show_route_histograms_outbox_backlog_and_command_queue_depths(own_service):
    svc = own_service
    await send(svc, svc.admin(), target_user_id=new_id())
    text = (await svc.client.get("/metrics")).text
    routes = {(labels["route"], labels["status"]) for labels, _ in samples(text, "http_request_duration_seconds_count")}
    assert ("/api/v4/notifications/send", "201") in routes
    assert len(samples(text, "outbox_backlog")) == 1
    assert len(samples(text, "outbox_oldest_unpublished_age_seconds")) == 1
    queues = {labels["queue"]: value for labels, value in samples(text, "amqp_queue_messages")}
    assert set(queues) == {"notification-svc.commands.classic", "notification-svc.commands.classic.dlq",
                           "notification-svc.left-messages", "notification-svc.left-messages.dlq"}
    consumers = {labels["queue"]: value for labels, value in samples(text, "amqp_queue_consumers")}
    assert consumers["notification-svc.commands.classic"] >= 1
