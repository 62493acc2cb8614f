"""chat-svc's /metrics: route histograms, outbox backlog, its queues' depths."""

import pytest
from servicekit_testing.metrics import samples

from .conftest import new_id

pytestmark = pytest.mark.integration


async def test_metrics_show_route_histograms_outbox_backlog_and_queue_depths(stack):
    session = await stack.open_session(new_id())
    text = (await stack.client.get("/metrics")).text
    routes = {(labels["route"], labels["status"]) for labels, _ in samples(text, "http_request_duration_seconds_count")}
    assert ("/api/v4/customer-service/sessions", "201") in routes, (session, routes)
    assert len(samples(text, "outbox_backlog")) == 1
    queues = {labels["queue"] for labels, _ in samples(text, "amqp_queue_messages")}
    assert queues == {"chat-svc.commands.classic", "chat-svc.commands.classic.dlq", "chat-svc.presence", "chat-svc.presence.dlq"}
