"""chat-svc's /metrics: route histograms, outbox backlog, its queues' depths."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import new_id

pytestmark = pytest.mark.integration


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


async def test_metrics_show_route_histograms_outbox_backlog_and_queue_depths(stack):
    session = await stack.open_session(new_id())
    text = (await stack.client.get("/metrics")).text
    routes = {(labels["route"], labels["status"]) for labels, _ in _samples(text, "http_request_duration_seconds_count")}
    assert ("/api/v4/customer-service/sessions", "201") in routes, (session, routes)
    assert len(_samples(text, "outbox_backlog")) == 1
    queues = {labels["queue"] for labels, _ in _samples(text, "amqp_queue_messages")}
    assert queues == {"chat-svc.commands.classic", "chat-svc.commands.classic.dlq", "chat-svc.presence", "chat-svc.presence.dlq"}
